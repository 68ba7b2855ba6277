"""CPU threads: what should ``n_threads`` default to?

What is measured
----------------
(a) and (b): the time of one training epoch (skorch's ``dur`` column of
``history_``) of :class:`sklearn_rnn.LSTMRegressor` and
:class:`sklearn_rnn.ElmanRegressor` with ``hidden_size`` 64 and 256 on
univariate noisy sine windows (2-D ``X`` of 32 steps, ``batch_size=128``, no
early stopping), with ``n_threads=1`` and ``n_threads=2``:

* (a) "idle": nothing else started by this script;
* (b) "busy": while a competing ``multiprocessing`` process spins a
  pure-Python CPU loop on one core (started before, stopped after).

(c): the wall time of ``GridSearchCV(n_jobs=2, cv=3, refit=False)`` over
``hidden_size`` in [16, 32] (6 fits in 2 worker processes) with every fit
using ``n_threads=1`` or ``n_threads=2``; plus the same search with
``n_jobs=1, n_threads=2`` (parallelism inside torch instead of across fits)
as a reference point. An untimed search first starts the worker processes.

Settings 1 and 2 alternate inside each repeat, so drift on a shared machine
hits both alike. Numbers are medians over repeats (and over epochs for (a)
and (b)).

How to read it
--------------
"ratio 2/1" is the time with 2 threads divided by the time with 1 thread:
below 1 means the second thread helps, above 1 means it hurts. The load
average printed at the start and end tells how busy the machine was
besides this script; on a shared machine ratios are more meaningful than
absolute times.

Usage::

    python benchmarks/bench_threads.py            # ~15 min on a busy 2-core machine
                                                  # (2-thread runs can be very slow)
    python benchmarks/bench_threads.py --quick    # smoke run
"""

import argparse
import multiprocessing as mp
import os
import statistics
import time

import torch
from sklearn.model_selection import GridSearchCV

# Run from a checkout without installing: importing _common puts the
# repository root first on sys.path.
from _common import cpu_model, make_data, print_table

from sklearn_rnn import ElmanRegressor, LSTMRegressor

ESTIMATORS = {"LSTMRegressor": LSTMRegressor, "ElmanRegressor": ElmanRegressor}


def _spin(stop):
    """Keep one core busy with pure-Python work until ``stop`` is set."""
    x = 0
    while not stop.is_set():
        for i in range(100_000):
            x = (x + i * i) % 1_000_003


class BusyCore:
    """Context manager: one competing CPU-bound process for the block."""

    def __enter__(self):
        ctx = mp.get_context("spawn")
        self.stop = ctx.Event()
        self.proc = ctx.Process(target=_spin, args=(self.stop,), daemon=True)
        self.proc.start()
        time.sleep(0.5)  # let it start spinning
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join()


def estimator(name, hidden, n_threads, epochs, seed=0):
    return ESTIMATORS[name](
        hidden_size=hidden, batch_size=128, max_epochs=epochs, early_stopping=False,
        tol=0.0, patience=10**6, random_state=seed, n_threads=n_threads)


def epoch_times(name, hidden, repeats, epochs, X, y):
    """Epoch durations {n_threads: [seconds, ...]} over all repeats and epochs."""
    out = {1: [], 2: []}
    for r in range(repeats):
        order = (1, 2) if r % 2 == 0 else (2, 1)
        for n_threads in order:
            est = estimator(name, hidden, n_threads, epochs, seed=r).fit(X, y)
            out[n_threads].extend(est.history_[:, "dur"])
    return out


def grid_time(X, y, n_threads, n_jobs, epochs):
    search = GridSearchCV(
        estimator("LSTMRegressor", 16, n_threads, epochs),
        {"hidden_size": [16, 32]}, cv=3, n_jobs=n_jobs, refit=False,
        scoring="neg_mean_squared_error")
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--n-windows", type=int, default=2000)
    parser.add_argument("--grid-windows", type=int, default=3000)
    parser.add_argument("--grid-epochs", type=int, default=2)
    parser.add_argument("--skip", default="",
                        help="comma list of parts to skip: idle,busy,grid")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs, args.n_windows = 1, 2, 500
        args.grid_windows, args.grid_epochs = 600, 1
    skip = set(filter(None, args.skip.split(",")))
    hiddens = (64, 256)

    print(f"# {os.cpu_count()} CPUs ({cpu_model()}), torch {torch.__version__}, "
          f"torch default threads {torch.get_num_threads()}")
    print(f"# load average at start: {os.getloadavg()}")

    X, y = make_data(args.n_windows, 32)
    estimator("ElmanRegressor", 8, 1, 1).fit(X[:256], y[:256])  # warm-up

    rows = []
    for condition in ("idle", "busy"):
        if condition in skip:
            continue
        for name in ESTIMATORS:
            for hidden in hiddens:
                if condition == "busy":
                    with BusyCore():
                        t = epoch_times(name, hidden, args.repeats, args.epochs, X, y)
                else:
                    t = epoch_times(name, hidden, args.repeats, args.epochs, X, y)
                m1, m2 = statistics.median(t[1]), statistics.median(t[2])
                rows.append((f"({'a' if condition == 'idle' else 'b'}) {condition}",
                             f"{name} h={hidden}", f"{m1:.3f}", f"{m2:.3f}",
                             f"{m2 / m1:.2f}"))
                print("| " + " | ".join(rows[-1]) + " |", flush=True)

    if "grid" not in skip:
        Xg, yg = make_data(args.grid_windows, 32)
        grid_time(Xg[:600], yg[:600], 1, 2, 1)  # start the worker processes
        g = {1: [], 2: [], "seq": []}
        for r in range(args.repeats):
            for n_threads in ((1, 2) if r % 2 == 0 else (2, 1)):
                g[n_threads].append(grid_time(Xg, yg, n_threads, 2, args.grid_epochs))
            g["seq"].append(grid_time(Xg, yg, 2, 1, args.grid_epochs))
        m1, m2 = statistics.median(g[1]), statistics.median(g[2])
        ms = statistics.median(g["seq"])
        label = f"LSTM h={{16,32}}, cv=3, {args.grid_windows}x32, {args.grid_epochs} ep"
        rows.append(("(c) GridSearchCV n_jobs=2", label, f"{m1:.2f}", f"{m2:.2f}",
                     f"{m2 / m1:.2f}"))
        rows.append(("(c') GridSearchCV n_jobs=1", label, "-", f"{ms:.2f}",
                     f"{ms / m1:.2f} (vs n_jobs=2, 1 thread)"))
        print("| " + " | ".join(rows[-2]) + " |", flush=True)
        print("| " + " | ".join(rows[-1]) + " |", flush=True)

    print(f"# load average at end: {os.getloadavg()}")
    print(f"\n# {args.n_windows} windows x 32 steps, batch 128, {args.epochs} epochs x "
          f"{args.repeats} repeats; epoch seconds are medians (grid rows: wall seconds)\n")
    header = ("case", "model", "n_threads=1 (s)", "n_threads=2 (s)", "ratio 2/1")
    print_table(header, rows)


if __name__ == "__main__":
    main()
