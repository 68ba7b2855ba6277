"""Core speed: sklearn_rnn estimators against a hand-written PyTorch loop (issue 2).

What is measured
----------------
Wall time of ``fit`` and of ``predict`` for :class:`sklearn_rnn.ElmanRegressor`
and :class:`sklearn_rnn.LSTMRegressor`, and of a minimal hand-written PyTorch
loop doing the same work, in one process:

* the same data: noisy sine windows, 2-D ``X`` of shape (n_windows, 32),
  ``y`` = the next value;
* the same module class (``sklearn_rnn._modules.RecurrentNet``, same cell,
  ``hidden_size=64``, ``pooling="last"``), the same optimizer (Adam, same lr),
  loss (MSE), batch size (128), number of epochs (no early stopping:
  ``early_stopping=False, tol=0, patience=10**6``) and seed;
* the same number of intra-op threads (``--threads``, default 1:
  ``n_threads=1`` for ours, ``torch.set_num_threads(1)`` for the reference).

The reference moves the data to the device once as tensors, draws a
``torch.randperm`` per epoch, slices batches, runs zero_grad / forward / loss /
backward / step and calls ``loss.item()`` per batch (skorch does too); it
predicts in the batches ours takes (512 sequences here) under ``torch.no_grad()``. Its timed region
includes building the module and optimizer and converting the numpy input to
tensors, as ours does. Ours additionally validates the input, standardises
inputs and targets, keeps a skorch history and runs callbacks: that is the
overhead this benchmark exists to measure.

With ``--sample-weight`` both sides train with random sample weights (uniform
on [0.5, 2)): ours through ``fit(X, y, sample_weight=w)``, the reference with
the weighted mean of the per-sample squared errors.

Estimator and reference alternate (the order flips every round) so that slow
drift of a shared machine hits both alike; one untimed warm-up round comes
first.

How to read it
--------------
The table gives median wall seconds over the rounds and the ratio
ours / reference (1.00 = no overhead), the same ratio for process CPU time
(``time.process_time``, which other processes on a shared machine disturb
much less than wall time), and the extra CPU milliseconds per training batch
that ours spends. The target of issue 2 is fit <= 1.10x and
predict <= 1.05x. On a busy machine look at the min/max spread printed per
row as well; ratios are more stable than absolute times.

Usage::

    python benchmarks/bench_core_speed.py              # 20,000 x 32, 3 epochs, 5 rounds
    python benchmarks/bench_core_speed.py --quick      # tiny smoke run
    python benchmarks/bench_core_speed.py --device cuda --rounds 7
    python benchmarks/bench_core_speed.py --sample-weight  # both sides weighted
"""

import argparse
import statistics
import time

import numpy as np
import torch

# Run from a checkout without installing: importing _common puts the
# repository root first on sys.path.
from _common import machine, make_data, print_table, reference_fit

from sklearn_rnn import ElmanRegressor, LSTMRegressor

ESTIMATORS = {"elman": ElmanRegressor, "lstm": LSTMRegressor}


# ----------------------------------------------------------------- reference
def reference_predict(module, X, *, batch_size, device):
    x = torch.as_tensor(X, dtype=torch.float32).unsqueeze(-1).to(device)
    module.eval()
    with torch.no_grad():
        out = [module(x[start:start + batch_size])
               for start in range(0, x.shape[0], batch_size)]
    return torch.cat(out).cpu().numpy().ravel()


def predict_batch(args, X):
    """The batch ours predicts in, as ``SequenceEngine._predict_batch`` chooses it:
    the training batch or more, up to PREDICT_BATCH sequences while a batch's
    hidden states stay within PREDICT_FLOATS."""
    from sklearn_rnn._engine import PREDICT_BATCH, PREDICT_FLOATS

    width = max(args.hidden, 1)
    return max(args.batch_size, min(PREDICT_BATCH, PREDICT_FLOATS // (X.shape[1] * width)))


# ----------------------------------------------------------------------- ours
def ours(cell, args):
    return ESTIMATORS[cell](
        hidden_size=args.hidden, batch_size=args.batch_size, max_epochs=args.epochs,
        lr=args.lr, optimizer="adam", early_stopping=False, tol=0.0, patience=10**6,
        # The reference's module and step: last-step pooling, no clipping.
        pooling="last", clip_grad_norm=None,
        random_state=args.seed, device=args.device, n_threads=args.threads)


def timed(fn):
    """(wall seconds, process CPU seconds, result) of ``fn()``."""
    if args_device_is_cuda:
        torch.cuda.synchronize()
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    if args_device_is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start, time.process_time() - cpu, result


args_device_is_cuda = False


def one_round(cell, args, X, y, flip, times):
    weight = None
    if args.sample_weight:
        weight = np.random.default_rng(args.seed).uniform(0.5, 2.0, size=len(y))

    def run_ours():
        *fit_s, est = timed(lambda: ours(cell, args).fit(X, y, sample_weight=weight))
        assert est.n_iter_ == args.epochs, est.n_iter_
        *pred_s, _ = timed(lambda: est.predict(X))
        times[cell, "ours", "fit"].append(fit_s)
        times[cell, "ours", "predict"].append(pred_s)

    def run_ref():
        *fit_s, (module, _) = timed(lambda: reference_fit(
            X, y, cell=cell, hidden_size=args.hidden, batch_size=args.batch_size,
            epochs=args.epochs, lr=args.lr, seed=args.seed, device=args.device,
            # On a GPU ours reads the losses once an epoch (no host sync a batch).
            read_loss="epoch" if args_device_is_cuda else "batch", sample_weight=weight))
        *pred_s, _ = timed(lambda: reference_predict(
            module, X, batch_size=predict_batch(args, X), device=args.device))
        times[cell, "ref", "fit"].append(fit_s)
        times[cell, "ref", "predict"].append(pred_s)

    for run in ((run_ref, run_ours) if flip else (run_ours, run_ref)):
        run()


def main(argv=None):
    global args_device_is_cuda
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu",
                        help="cpu (default) or cuda")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads for both sides (default 1)")
    parser.add_argument("--n-windows", type=int, default=20_000)
    parser.add_argument("--n-steps", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cells", default="elman,lstm")
    parser.add_argument("--sample-weight", action="store_true",
                        help="train both sides with random sample weights")
    parser.add_argument("--quick", action="store_true",
                        help="tiny smoke run (1,000 windows, 1 epoch, 2 rounds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_windows, args.epochs, args.rounds = 1000, 1, 2
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda requested but torch sees no CUDA GPU")
    args_device_is_cuda = args.device.startswith("cuda")
    torch.set_num_threads(args.threads)
    cells = args.cells.split(",")

    X, y = make_data(args.n_windows, args.n_steps, args.seed)
    n_batches = -(-len(X) // args.batch_size)
    print(f"# {machine()}")
    print(f"# device={args.device} threads={args.threads} X={X.shape} "
          f"hidden={args.hidden} batch={args.batch_size} epochs={args.epochs} "
          f"rounds={args.rounds} ({n_batches} batches/epoch)"
          f"{' sample_weight=uniform(0.5, 2)' if args.sample_weight else ''}")

    # Warm-up (untimed): first calls pay for lazy imports and allocator growth.
    Xw, yw = X[:512], y[:512]
    for cell in cells:
        one_round(cell, argparse.Namespace(**{**vars(args), "epochs": 1}), Xw, yw,
                  False, {k: [] for k in _keys([cell])})

    times = {k: [] for k in _keys(cells)}
    for r in range(args.rounds):
        for cell in cells:
            one_round(cell, args, X, y, flip=r % 2 == 1, times=times)
        print(f"round {r + 1}/{args.rounds} (wall s, ours/ref): " + ", ".join(
            f"{c} fit {times[c, 'ours', 'fit'][-1][0]:.2f}/{times[c, 'ref', 'fit'][-1][0]:.2f}"
            f" predict {times[c, 'ours', 'predict'][-1][0]:.3f}/"
            f"{times[c, 'ref', 'predict'][-1][0]:.3f}" for c in cells), flush=True)

    targets = {"fit": 1.10, "predict": 1.05}
    med = statistics.median
    rows = []
    for cell in cells:
        for step in ("fit", "predict"):
            o, f = times[cell, "ours", step], times[cell, "ref", step]
            ow, fw = med(t[0] for t in o), med(t[0] for t in f)
            oc, fc = med(t[1] for t in o), med(t[1] for t in f)
            ratios = [a[0] / b[0] for a, b in zip(o, f)]
            extra = ""
            if step == "fit":
                extra = f"{(oc - fc) / (n_batches * args.epochs) * 1e3:+.3f}"
            rows.append((ESTIMATORS[cell].__name__, step, f"{ow:.3f}", f"{fw:.3f}",
                         f"{ow / fw:.3f}", f"{min(ratios):.2f}-{max(ratios):.2f}",
                         f"{oc / fc:.3f}", extra,
                         "yes" if ow / fw <= targets[step] else "**no**"))
    header = ("estimator", "step", "ours wall s", "reference wall s", "wall ratio",
              "per-round wall ratio range", "CPU-time ratio", "extra CPU ms/batch",
              "target met (wall)")
    print_table(header, rows)
    print(f"\nmedians over {args.rounds} rounds; CPU time = time.process_time() of this "
          "process, less sensitive to other load on a shared machine.")
    print(f"target: fit <= {targets['fit']:.2f}x, predict <= {targets['predict']:.2f}x "
          "of the hand-written loop")


def _keys(cells):
    return [(c, who, step) for c in cells for who in ("ours", "ref")
            for step in ("fit", "predict")]


if __name__ == "__main__":
    main()
