"""Truncated BPTT memory: peak RSS of one training step vs ``tbptt_steps`` (issue 5).

What is measured
----------------
The module the LSTM regressors train, ``RecurrentNet(1, 1, cell="lstm",
hidden_size=H, pooling="last", tbptt_steps=k)``, in train mode, on a batch of
``B`` random sequences of ``T`` steps (one feature). Each configuration runs
in a fresh Python subprocess, so peaks never mix:

1. imports, builds the module, the Adam optimiser and the batch, and runs one
   warm-up step on a 10-step batch (torch's lazy initialisation, the
   optimiser's state) outside the measured region;
2. records the current RSS (``/proc/self/statm``), then runs one training
   step (forward, MSE loss, backward, ``optimizer.step()``) on the full batch
   and records the high-water mark (``resource.getrusage(...).ru_maxrss``).

"peak increase" = high-water mark after the step - RSS before it: the most
memory the step itself held at any moment (``tracemalloc`` does not see
torch's allocator). The step time is the median of ``--repeats`` further
steps in the same process.

With full BPTT (``tbptt_steps=None``) autograd keeps every step's gates and
states, so the peak should grow linearly with ``T``. With ``tbptt_steps=k``
and "last" pooling only the final chunk of ``k`` steps keeps a graph (the
earlier chunks run under ``no_grad`` and just carry the state), so the peak
should stay flat in ``T`` while the time still grows with ``T`` (every step
is still read, forward).

Usage::

    python benchmarks/bench_tbptt_memory.py                      # T = 250, 1000, 4000
    python benchmarks/bench_tbptt_memory.py --lengths 250,1000 --tbptt 25,50
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


def child(length, tbptt, hidden, batch_size, repeats):
    import gc

    import torch

    from sklearn_rnn._modules import RecurrentNet

    torch.set_num_threads(1)
    torch.manual_seed(0)
    module = RecurrentNet(1, 1, cell="lstm", hidden_size=hidden, pooling="last",
                          tbptt_steps=tbptt).train()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    x = torch.randn(batch_size, length, 1)
    y = torch.randn(batch_size, 1)

    def step(inputs):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(module(inputs), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    step(x[:, :10])
    gc.collect()
    before, hw_before = rss_bytes(), maxrss_bytes()
    start = time.perf_counter()
    loss = step(x)
    first = time.perf_counter() - start
    after = maxrss_bytes()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(x)
        times.append(time.perf_counter() - start)
    times.sort()
    print(json.dumps({"length": length, "tbptt": tbptt, "rss_before": before,
                      "maxrss_before": hw_before, "maxrss_after": after, "loss": loss,
                      "first_step_s": first,
                      "step_s": times[len(times) // 2] if times else first,
                      "torch": torch.__version__}))


def run(length, tbptt, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--length", str(length),
           "--tbptt-one", str(tbptt), "--hidden", str(args.hidden),
           "--batch-size", str(args.batch_size), "--repeats", str(args.repeats)]
    return run_child(cmd)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="250,1000,4000")
    parser.add_argument("--tbptt", default="none,50",
                        help="comma-separated tbptt_steps values; 'none' = full BPTT")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--length", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tbptt-one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    parse = lambda v: None if v.lower() == "none" else int(v)  # noqa: E731
    if args.child:
        child(args.length, parse(args.tbptt_one), args.hidden, args.batch_size,
              args.repeats)
        return

    lengths = [int(v) for v in args.lengths.split(",")]
    settings = args.tbptt.split(",")
    print(f"# {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; "
          f"LSTM hidden={args.hidden}, batch={args.batch_size}, pooling='last', "
          "1 thread, one subprocess per row")
    rows = []
    for tbptt in settings:
        for length in lengths:
            rows.append(run(length, tbptt, args))
            print(f"  done tbptt_steps={tbptt} T={length}", flush=True)

    header = ("tbptt_steps", "T", "RSS before (MB)", "peak RSS (MB)", "peak increase (MB)",
              "increase per step of T (KB)", "step time (s)")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        inc = (r["maxrss_after"] - r["rss_before"]) / MB
        print(f"| {r['tbptt'] if r['tbptt'] is not None else 'None (full BPTT)'} | "
              f"{r['length']} | {r['rss_before'] / MB:.0f} | {r['maxrss_after'] / MB:.0f} | "
              f"{inc:.1f} | {inc * 1024 / r['length']:.1f} | {r['step_s']:.3f} |")
    # Expected activation memory of full BPTT, for scale: an LSTM step keeps
    # roughly the 4 gates, the cell and hidden states (about 6-8 x B x H floats).
    per_step = 8 * args.batch_size * args.hidden * 4 / 1024
    print(f"\nfor scale: 8 x batch x hidden float32 = {per_step:.0f} KB per time step")
    print("peak increase = ru_maxrss after one forward+backward+Adam step - RSS just before "
          "it (fresh process, module, optimiser and batch built, one warm-up step)")


if __name__ == "__main__":
    main()
