"""Forecaster memory: peak RSS of LSTMForecaster.fit on a long series (issue 3).

What is measured
----------------
Each configuration runs in a fresh Python subprocess (so peaks never mix):

1. imports, then builds the series (default 1,000,000 steps of noisy sines,
   a float64 ``pd.Series``) and records the current RSS (``/proc/self/statm``)
   and the high-water mark (``resource.getrusage(...).ru_maxrss``);
2. runs the work, then records ``ru_maxrss`` again.

"peak increase" = high-water mark after - RSS before the work: the most
memory the work itself held at any moment on top of the process with its
data loaded. The work is one of

* ``ours``: ``LSTMForecaster(lookback=L, hidden_size=4, batch_size=1024,
  max_epochs=1, early_stopping=False, n_threads=1).fit(y)``, which cuts the
  windows per batch from the stacked series (``_engine.WindowDataset``);
* ``reference``: one epoch of the hand-written loop of
  ``bench_forecaster_speed.py`` (windows as an ``unfold`` view, one gather
  per batch), same module and sizes: the memory that backpropagation through
  ``lookback`` steps of a batch needs whatever the data pipeline;
* ``materialise`` (a control, ``--no-control`` skips it): what a naive
  pipeline does first, every window as float32 in one array
  (``sliding_window_view(y, L).astype(np.float32)``), with no training. It
  shows that the measurement sees a large allocation and gives the cost the
  forecaster avoids (``n_windows * L * 4`` bytes: 1.02 GB for L = 256).

Lookback 64 and 256 are both run: if memory grew with ``lookback *
n_windows`` the L = 256 peak would be ~4x the L = 64 one.

Usage::

    python benchmarks/bench_forecaster_memory.py                  # 1M steps, L = 64, 256
    python benchmarks/bench_forecaster_memory.py --n-steps 200000 --no-control
"""

import argparse
import json
import os
import platform
import sys
import time

# Importing _common also puts the repository root first on sys.path (for the
# child's imports of sklearn_rnn).
from _common import maxrss_bytes, rss_bytes, run_child

MB = 2**20


def child(kind, n_steps, lookback, hidden, batch_size):
    import gc

    import numpy as np
    import pandas as pd
    import torch

    from sklearn_rnn import LSTMForecaster

    rng = np.random.default_rng(0)
    t = np.arange(n_steps) * 0.01
    y = pd.Series(np.sin(t) + 0.5 * np.sin(0.31 * t) + 0.1 * rng.normal(size=n_steps),
                  name="y")
    del t
    # Warm torch's lazy initialisation (thread pools, LSTM kernels) outside
    # the measured region, on a tiny fit.
    LSTMForecaster(lookback=4, hidden_size=2, max_epochs=1, early_stopping=False,
                   n_threads=1).fit(y[:64])
    gc.collect()
    before, hw_before = rss_bytes(), maxrss_bytes()
    start = time.perf_counter()
    if kind == "ours":
        est = LSTMForecaster(lookback=lookback, hidden_size=hidden, batch_size=batch_size,
                             max_epochs=1, early_stopping=False, tol=0.0, patience=10**6,
                             random_state=0, n_threads=1).fit(y)
        info = {"n_iter": est.n_iter_, "train_loss": float(est.history_[-1, "train_loss"])}
    elif kind == "reference":
        info = {"train_loss": _reference_fit(y, lookback, hidden, batch_size)}
    else:
        windows = np.lib.stride_tricks.sliding_window_view(
            y.to_numpy()[:-1], lookback).astype(np.float32)
        info = {"array_bytes": int(windows.nbytes)}
        del windows
    seconds = time.perf_counter() - start
    after = maxrss_bytes()
    print(json.dumps({"kind": kind, "lookback": lookback, "n_steps": n_steps,
                      "rss_before": before, "maxrss_before": hw_before,
                      "maxrss_after": after, "seconds": seconds, "torch": torch.__version__,
                      **info}))


def _reference_fit(y, lookback, hidden, batch_size):
    """One epoch of the hand-written loop of bench_forecaster_speed (unfold views,
    a gather per batch), same module: what BPTT itself costs per batch."""
    import numpy as np
    import torch

    from sklearn_rnn._modules import ForecastNet

    torch.set_num_threads(1)
    torch.manual_seed(0)
    values = y.to_numpy()
    z = torch.from_numpy(((values - values.mean()) / values.std()).astype(np.float32))
    windows, targets = z[:-1].unfold(0, lookback, 1), z[lookback:]
    module = ForecastNet(1, 1, level=True, cell="lstm", hidden_size=hidden,
                         forget_bias=1.0)  # as LSTMForecaster's default
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    order = torch.randperm(windows.shape[0])
    for start in range(0, windows.shape[0], batch_size):
        index = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(module(windows[index].unsqueeze(-1)),
                                            targets[index, None])
        loss.backward()
        optimizer.step()
    return loss.item()


def run(kind, args, lookback):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", kind,
           "--n-steps", str(args.n_steps), "--lookback", str(lookback),
           "--hidden", str(args.hidden), "--batch-size", str(args.batch_size)]
    return run_child(cmd)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-steps", type=int, default=1_000_000)
    parser.add_argument("--lookbacks", default="64,256")
    parser.add_argument("--hidden", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--no-control", action="store_true",
                        help="skip the materialised-windows control")
    parser.add_argument("--child", choices=["ours", "reference", "materialise"], help=argparse.SUPPRESS)
    parser.add_argument("--lookback", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.n_steps, args.lookback, args.hidden, args.batch_size)
        return

    lookbacks = [int(v) for v in args.lookbacks.split(",")]
    load = os.getloadavg()[0]
    print(f"# {os.cpu_count()} CPUs, load avg {load:.1f}, Python {platform.python_version()}; "
          f"series {args.n_steps:,} steps, hidden={args.hidden}, batch={args.batch_size}, "
          "1 epoch, one subprocess per row")
    kinds = ["ours", "reference"] + ([] if args.no_control else ["materialise"])
    rows = []
    for lookback in lookbacks:
        for kind in kinds:
            r = run(kind, args, lookback)
            n_windows = args.n_steps - lookback
            r["materialised_mb"] = n_windows * lookback * 4 / MB
            rows.append(r)
            print(f"  done {kind} L={lookback}: {r['seconds']:.1f} s", flush=True)

    header = ("work", "lookback", "windows", "RSS before (MB)", "peak RSS (MB)",
              "peak increase (MB)", "all windows as float32 (MB)", "increase / materialised",
              "time (s)")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        inc = (r["maxrss_after"] - r["rss_before"]) / MB
        work = {"ours": "LSTMForecaster.fit, 1 epoch",
                "reference": "hand loop (unfold view + gather per batch), 1 epoch",
                "materialise": "control: materialise windows (no fit)"}[r["kind"]]
        print(f"| {work} | {r['lookback']} | {r['n_steps'] - r['lookback']:,} | "
              f"{r['rss_before'] / MB:.0f} | {r['maxrss_after'] / MB:.0f} | {inc:.0f} | "
              f"{r['materialised_mb']:.0f} | {inc / r['materialised_mb']:.3f} | "
              f"{r['seconds']:.1f} |")
    ours = {r["lookback"]: (r["maxrss_after"] - r["rss_before"]) / MB
            for r in rows if r["kind"] == "ours"}
    if len(ours) >= 2:
        lo, hi = min(ours), max(ours)
        print(f"\nours: peak increase L={hi} / L={lo} = {ours[hi] / ours[lo]:.2f} "
              f"(windows x lookback grow {hi / lo:.0f}x)")
    print("peak increase = ru_maxrss after the work - RSS just before it (fresh process, "
          "data built, torch warmed up)")


if __name__ == "__main__":
    main()
