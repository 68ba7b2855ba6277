"""Long runs: what a checkpoint after every epoch and a long string of ``partial_fit``
calls cost, against a hand-written PyTorch loop doing the same.

What is measured
----------------
1. Checkpoints. ``ElmanRegressor(hidden_size=8, batch_size=64,
   early_stopping=False, patience=E + 1)`` fits all ``E`` epochs on 64 sine windows of 20 steps,
   with and without ``checkpoint_dir`` (the whole estimator saved with
   ``sklearn_rnn.save`` after every epoch, replaced atomically). The reference
   is the same loop written by hand in PyTorch, once plain and once with the
   checkpoint people write: ``torch.save`` of the module's and the optimiser's
   state and the loss history, to a temporary file then ``os.replace``.
   Reported: the checkpoint's cost per epoch (checkpointed fit minus plain fit,
   over ``E``) for both, and their ratio. Both grow with ``E`` (the history
   is written each time); ours must stay within a small factor of the hand-written
   one, not grow with ``E`` squared.
2. ``partial_fit``. One estimator takes ``--calls`` ``partial_fit`` calls of
   one epoch each; the time per call in the first and the last block of
   ``--block`` calls is reported, and their ratio (1.0: the cost of a call does
   not grow with the history). The reference is one hand-written epoch (the
   same batch, Adam step, gradient clipping at 1.0 as ours by default) per call.

Each number is the median of ``--repeats`` runs in this process. The machines
are noisy: quote the ratios.

Usage::

    python benchmarks/bench_long_runs.py                   # E = 250, 1000; 4000 calls
    python benchmarks/bench_long_runs.py --epochs 250,2000 --calls 6000
"""

import argparse
import os
import statistics
import tempfile
import time

from _common import machine, make_data, print_table


def _reference_fit(X, y, epochs, hidden, checkpoint):
    """The loop by hand: Elman RNN, last state, linear head, Adam, MSE, one batch
    an epoch (as the estimator with batch_size >= n); ``checkpoint``: a path."""
    import torch

    torch.manual_seed(0)
    rnn = torch.nn.RNN(1, hidden, batch_first=True)
    head = torch.nn.Linear(hidden, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=3e-3)
    xb = torch.as_tensor(X, dtype=torch.float32)[:, :, None]
    yb = torch.as_tensor(y, dtype=torch.float32)[:, None]
    history = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        out, _ = rnn(xb)
        loss = torch.nn.functional.mse_loss(head(out[:, -1]), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        history.append({"epoch": epoch + 1, "train_loss": loss.item()})
        if checkpoint is not None:
            partial = checkpoint + ".partial"
            torch.save({"rnn": rnn.state_dict(), "head": head.state_dict(),
                        "optimizer": optimizer.state_dict(), "history": history}, partial)
            os.replace(partial, checkpoint)


def _timed(func, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def checkpoints(X, y, epoch_counts, hidden, repeats):
    from sklearn_rnn import ElmanRegressor

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        # Warm-up outside the measured fits: torch's lazy imports on a first
        # optimiser step took 1.8 s, first saves load their modules.
        ElmanRegressor(hidden_size=hidden, max_epochs=2, checkpoint_dir=folder).fit(X, y)
        _reference_fit(X, y, 2, hidden, os.path.join(folder, "ref.pt"))
        for epochs in epoch_counts:
            # patience past max_epochs: no stop on a training loss that levels off,
            # every epoch is trained (and saved), as in the hand-written loop.
            params = dict(hidden_size=hidden, max_epochs=epochs, batch_size=len(X),
                          early_stopping=False, patience=epochs + 1, random_state=0)
            ours_plain = _timed(lambda: ElmanRegressor(**params).fit(X, y), repeats)
            ours_saved = _timed(lambda: ElmanRegressor(
                **params, checkpoint_dir=os.path.join(folder, "ours")).fit(X, y), repeats)
            ref_plain = _timed(lambda: _reference_fit(X, y, epochs, hidden, None), repeats)
            ref_saved = _timed(lambda: _reference_fit(
                X, y, epochs, hidden, os.path.join(folder, "ref.pt")), repeats)
            ours = (ours_saved - ours_plain) / epochs * 1e3
            ref = (ref_saved - ref_plain) / epochs * 1e3
            rows.append((str(epochs), f"{ours_plain:.2f} / {ours_saved:.2f}",
                         f"{ref_plain:.2f} / {ref_saved:.2f}", f"{ours:.2f}", f"{ref:.2f}",
                         f"{ours / ref:.1f}x"))
    print_table(["epochs", "ours plain / checkpointed (s)", "hand-written plain / "
                 "checkpointed (s)", "ours per epoch (ms)", "hand-written per epoch (ms)",
                 "ratio"], rows)


def partial_fits(X, y, calls, block, hidden):
    import torch

    from sklearn_rnn import ElmanRegressor

    model = ElmanRegressor(hidden_size=hidden, batch_size=len(X), random_state=0)
    per_call = []
    for start in range(0, calls, block):
        begin = time.perf_counter()
        for _ in range(block):
            model.partial_fit(X, y)
        per_call.append((time.perf_counter() - begin) / block * 1e3)
    rnn, head = torch.nn.RNN(1, hidden, batch_first=True), torch.nn.Linear(hidden, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=3e-3)
    xb = torch.as_tensor(X, dtype=torch.float32)[:, :, None]
    yb = torch.as_tensor(y, dtype=torch.float32)[:, None]
    begin = time.perf_counter()
    for _ in range(block):
        optimizer.zero_grad()
        out, _ = rnn(xb)
        torch.nn.functional.mse_loss(head(out[:, -1]), yb).backward()
        # As ours does by default (clip_grad_norm=1.0; the norm is also recorded).
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
    reference = (time.perf_counter() - begin) / block * 1e3
    print_table(["history (epochs)", "ours per call (ms)", "hand-written epoch (ms)"],
                [(f"{i * block}-{(i + 1) * block}", f"{ms:.2f}", f"{reference:.2f}")
                 for i, ms in enumerate(per_call)])
    print(f"\nlast block / first block: {per_call[-1] / per_call[0]:.2f} "
          "(1.0: a call costs the same however long the history)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", default="250,1000",
                        help="comma-separated epoch counts (default: %(default)s)")
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--block", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # as the estimators' n_threads=1 default
    X, y = make_data(64, 20)
    print(machine(load_avg=True))
    checkpoints(X, y, [int(e) for e in args.epochs.split(",")], args.hidden, args.repeats)
    if args.calls >= args.block:
        partial_fits(X, y, args.calls, args.block, args.hidden)


if __name__ == "__main__":
    main()
