"""Forecaster speed: LSTMForecaster against a hand-written PyTorch loop (issue 3).

What is measured
----------------
Wall and process-CPU time of

* ``fit``: :class:`sklearn_rnn.LSTMForecaster` on one univariate series
  (default 50,000 steps of noisy sines, a ``pd.Series`` with a RangeIndex),
  ``lookback=32``, ``hidden_size=64``, ``batch_size=128``, Adam ``lr=1e-3``,
  MSE, a fixed number of epochs (``early_stopping=False, tol=0,
  patience=10**6``), ``n_threads=1``, ``random_state=0``;
* the reference: a hand-written loop on the SAME windows: the series
  standardised (mean/std, as the estimator does), moved to a float32 tensor
  once, ``windows = z[:-1].unfold(0, lookback, 1)`` (a strided *view*, no
  copy) and ``targets = z[lookback:]``; per epoch one ``torch.randperm``;
  per batch ``windows[index]`` (the gather that makes the batch, the only
  copy), the same module class (``sklearn_rnn._modules.ForecastNet`` with an
  LSTM, ``level=True``, same hidden size), zero_grad / forward / MSE /
  backward / step and ``loss.item()`` (skorch calls it too). Its timed region
  includes the scaling, the tensor conversion and building module and
  optimizer, as ours does;
* ``forecast(steps)`` (default 100 steps, a recursive rollout, one forward
  pass of one window per step) against a hand loop that keeps a float32
  buffer, runs the same module under ``torch.no_grad()`` on the last
  ``lookback`` values and appends each forecast, then unscales;
* ``predict(X_future)`` for a 100-row Series of future time stamps (the same
  rollout plus index handling) against the same hand loop.

Ours and the reference alternate (order flipped every round) after one
untimed warm-up round, in one process with one intra-op thread on both sides.

How to read it
--------------
Median wall seconds over the rounds, the ratio ours / reference (target of
issue 3: fit <= 1.10x), the per-round ratio range and the CPU-time ratio
(``time.process_time``; less disturbed by other processes on a shared
machine). ``--profile`` adds a cProfile of one fit of ours (top functions by
cumulative time) to find where any overhead goes.

Usage::

    python benchmarks/bench_forecaster_speed.py            # 50,000 steps, 2 epochs, 5 rounds
    python benchmarks/bench_forecaster_speed.py --quick    # smoke run
    python benchmarks/bench_forecaster_speed.py --profile
"""

import argparse
import cProfile
import io
import pstats
import statistics
import time

import numpy as np
import pandas as pd
import torch
from torch import nn

# Run from a checkout without installing: importing _common puts the
# repository root first on sys.path.
from _common import machine

from sklearn_rnn import LSTMForecaster
from sklearn_rnn._modules import ForecastNet


def make_series(n_steps, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps) * 0.1
    y = np.sin(t) + 0.5 * np.sin(0.31 * t) + 0.002 * t + 0.1 * rng.normal(size=t.shape)
    return pd.Series(y, name="y")


# ----------------------------------------------------------------- reference
def reference_fit(y, *, lookback, hidden_size, batch_size, epochs, lr, seed):
    """Hand-written loop on unfold views; returns (module, center, scale, tail)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    values = np.asarray(y, dtype=np.float64)
    center, scale = values.mean(), values.std()
    z = torch.from_numpy(((values - center) / scale).astype(np.float32))
    windows = z[:-1].unfold(0, lookback, 1)          # (n - L, L), a view
    targets = z[lookback:]                            # (n - L,)
    # forget_bias as LSTMForecaster's default: the same model trained both ways.
    module = ForecastNet(1, 1, level=True, cell="lstm", hidden_size=hidden_size,
                         forget_bias=1.0)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    criterion = nn.MSELoss()
    module.train()
    n = windows.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = criterion(module(windows[index].unsqueeze(-1)), targets[index, None])
            loss.backward()
            optimizer.step()
            loss.item()
    return module, center, scale, z[-lookback:].clone()


def reference_forecast(fitted, steps, lookback):
    module, center, scale, tail = fitted
    buf = torch.empty(lookback + steps)
    buf[:lookback] = tail
    module.eval()
    with torch.no_grad():
        for i in range(steps):
            buf[lookback + i] = module(buf[i:i + lookback].view(1, lookback, 1))[0, 0]
    return buf[lookback:].numpy().astype(np.float64) * scale + center


# ----------------------------------------------------------------------- ours
def ours(args):
    return LSTMForecaster(
        lookback=args.lookback, hidden_size=args.hidden, batch_size=args.batch_size,
        max_epochs=args.epochs, lr=args.lr, early_stopping=False, tol=0.0,
        patience=10**6, random_state=args.seed, n_threads=1)


def timed(fn):
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - start, time.process_time() - cpu, result


def one_round(args, y, future, flip, times):
    def run_ours():
        *fit_s, est = timed(lambda: ours(args).fit(y))
        assert est.n_iter_ == args.epochs, est.n_iter_
        *fc_s, fc = timed(lambda: est.forecast(args.steps))
        *pr_s, pr = timed(lambda: est.predict(future))
        np.testing.assert_allclose(np.asarray(fc), np.asarray(pr), rtol=1e-5, atol=1e-6)
        times["ours", "fit"].append(fit_s)
        times["ours", "forecast"].append(fc_s)
        times["ours", "predict"].append(pr_s)
        return np.asarray(fc)

    def run_ref():
        with _threads(1):
            *fit_s, fitted = timed(lambda: reference_fit(
                y, lookback=args.lookback, hidden_size=args.hidden,
                batch_size=args.batch_size, epochs=args.epochs, lr=args.lr, seed=args.seed))
            *fc_s, fc = timed(lambda: reference_forecast(fitted, args.steps, args.lookback))
        times["ref", "fit"].append(fit_s)
        times["ref", "forecast"].append(fc_s)
        # The hand loop has no separate predict: the same rollout serves both.
        times["ref", "predict"].append(fc_s)
        return fc

    out = {}
    for name, run in (((("ref", run_ref), ("ours", run_ours)) if flip
                       else (("ours", run_ours), ("ref", run_ref)))):
        out[name] = run()
    return out


class _threads:
    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.old = torch.get_num_threads()
        torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        torch.set_num_threads(self.old)


def profile_fit(args, y, top=25):
    est = ours(args)
    prof = cProfile.Profile()
    prof.enable()
    est.fit(y)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    print("\n## cProfile of one fit of ours (sorted by own time)\n")
    print(buf.getvalue())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-steps", type=int, default=50_000)
    parser.add_argument("--lookback", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--steps", type=int, default=100, help="forecast steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3,000 steps, 1 epoch, 2 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_steps, args.epochs, args.rounds = 3000, 1, 2

    y = make_series(args.n_steps, args.seed)
    future = pd.Series(np.zeros(args.steps), name="y",
                       index=pd.RangeIndex(args.n_steps, args.n_steps + args.steps))
    n_windows = args.n_steps - args.lookback
    n_batches = -(-n_windows // args.batch_size)
    print(f"# {machine(load_avg=True)}")
    print(f"# series={args.n_steps} steps, lookback={args.lookback} ({n_windows} windows), "
          f"hidden={args.hidden}, batch={args.batch_size} ({n_batches} batches/epoch), "
          f"epochs={args.epochs}, forecast steps={args.steps}, rounds={args.rounds}")

    warm = argparse.Namespace(**{**vars(args), "epochs": 1})
    one_round(warm, y[:2000], future.set_axis(pd.RangeIndex(2000, 2000 + args.steps)),
              False, {(w, s): [] for w in ("ours", "ref")
                      for s in ("fit", "forecast", "predict")})

    times = {(w, s): [] for w in ("ours", "ref") for s in ("fit", "forecast", "predict")}
    for r in range(args.rounds):
        out = one_round(args, y, future, flip=r % 2 == 1, times=times)
        # Same seed, same windows, same batch order: the two fits should agree
        # up to float noise; report how close the forecasts are.
        diff = np.max(np.abs(out["ours"] - out["ref"]))
        print(f"round {r + 1}/{args.rounds} (wall s ours/ref): fit "
              f"{times['ours', 'fit'][-1][0]:.2f}/{times['ref', 'fit'][-1][0]:.2f}  forecast "
              f"{times['ours', 'forecast'][-1][0] * 1e3:.1f}/"
              f"{times['ref', 'forecast'][-1][0] * 1e3:.1f} ms  predict "
              f"{times['ours', 'predict'][-1][0] * 1e3:.1f} ms  "
              f"max |forecast ours - ref| = {diff:.2e}", flush=True)

    med = statistics.median
    header = ("step", "ours wall s", "reference wall s", "wall ratio",
              "per-round wall ratio range", "CPU-time ratio", "target met (wall)")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for step, target in (("fit", 1.10), ("forecast", None), ("predict", None)):
        o, f = times["ours", step], times["ref", step]
        ow, fw = med(t[0] for t in o), med(t[0] for t in f)
        oc, fc = med(t[1] for t in o), med(t[1] for t in f)
        ratios = [a[0] / b[0] for a, b in zip(o, f)]
        label = {"fit": f"fit ({args.epochs} epochs)",
                 "forecast": f"forecast({args.steps})",
                 "predict": f"predict({args.steps} rows) vs same hand rollout"}[step]
        met = "-" if target is None else ("yes" if ow / fw <= target else "**no**")
        print(f"| {label} | {ow:.4f} | {fw:.4f} | {ow / fw:.3f} | "
              f"{min(ratios):.2f}-{max(ratios):.2f} | {oc / fc:.3f} | {met} |")
    extra = (med(t[1] for t in times["ours", "fit"]) - med(t[1] for t in times["ref", "fit"]))
    print(f"\nextra CPU per training batch (ours - ref): "
          f"{extra / (n_batches * args.epochs) * 1e3:+.3f} ms; "
          f"medians over {args.rounds} rounds")
    if args.profile:
        profile_fit(args, y)


if __name__ == "__main__":
    main()
