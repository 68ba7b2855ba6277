"""Which recurrent cell is fast on the CPU? Elman, LSTM and GRU, ours and by hand.

What is measured
----------------
The time of one training epoch of :class:`sklearn_rnn.ElmanRegressor`,
:class:`~sklearn_rnn.LSTMRegressor` and :class:`~sklearn_rnn.GRURegressor`
(``pooling="last"``, no clipping, no early stopping, ``n_threads=1``) on noisy
sine windows, for a few hidden sizes and sequence lengths, next to the same
epochs written by hand in PyTorch (``_common.reference_fit``: the same module,
batches and Adam steps). Printed per configuration: seconds per epoch (median
over ``--rounds``), ours / hand-written, and each cell's time relative to the
LSTM's.

Why: on the CPU PyTorch runs ``nn.LSTM`` as one fused oneDNN kernel per layer
(``aten::mkldnn_rnn_layer``, forward and backward), while ``nn.GRU`` and
``nn.RNN`` run one small operation after another at every time step. The cell
the UCR/UEA study found most accurate (GRU, ``RNNClassifier``'s default) is
therefore the slowest to train on a CPU at small hidden sizes and long
sequences; this script says by how much.

    python benchmarks/bench_cells_cpu.py [--rounds 3] [--windows 512]
"""

import argparse
import statistics
import time

from _common import machine, make_data, print_table, reference_fit

CONFIGS = [(16, 32), (64, 32), (256, 32), (16, 400), (64, 400)]  # (hidden_size, steps)
CELLS = ["elman", "lstm", "gru"]


def ours(cls, X, y, hidden_size, batch_size, epochs):
    start = time.perf_counter()
    cls(hidden_size=hidden_size, batch_size=batch_size, max_epochs=epochs, lr=3e-3,
        pooling="last", clip_grad_norm=None, early_stopping=False, n_threads=1,
        random_state=0).fit(X, y)
    return (time.perf_counter() - start) / epochs


def hand_written(cell, X, y, hidden_size, batch_size, epochs):
    start = time.perf_counter()
    reference_fit(X, y, cell=cell, hidden_size=hidden_size, batch_size=batch_size,
                  epochs=epochs, lr=3e-3, seed=0, device="cpu")
    return (time.perf_counter() - start) / epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--windows", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    import torch

    from sklearn_rnn import ElmanRegressor, GRURegressor, LSTMRegressor

    classes = {"elman": ElmanRegressor, "lstm": LSTMRegressor, "gru": GRURegressor}
    torch.set_num_threads(1)
    print(machine(load_avg=True))
    rows = []
    for hidden_size, steps in CONFIGS:
        X, y = make_data(args.windows, steps)
        times = {}
        for cell in CELLS:
            mine, ref = [], []
            for r in range(args.rounds + 1):  # the first round warms up, untimed
                pair = [lambda: ours(classes[cell], X, y, hidden_size, args.batch_size,
                                     args.epochs),
                        lambda: hand_written(cell, X, y, hidden_size, args.batch_size,
                                             args.epochs)]
                if r % 2:  # alternate which side runs first
                    b, a = pair[1](), pair[0]()
                else:
                    a, b = pair[0](), pair[1]()
                if r:
                    mine.append(a)
                    ref.append(b)
            times[cell] = (statistics.median(mine), statistics.median(ref))
        for cell in CELLS:
            a, b = times[cell]
            rows.append((f"h={hidden_size}, {steps} steps", cell, f"{a:.3f}", f"{b:.3f}",
                         f"{a / b:.2f}", f"{a / times['lstm'][0]:.2f}"))
    print(f"\n{args.windows} windows, batch {args.batch_size}, {args.epochs} epochs a fit, "
          f"1 thread; medians over {args.rounds} rounds\n")
    print_table(["configuration", "cell", "ours s/epoch", "hand-written s/epoch",
                 "ours / hand-written", "vs LSTM (ours)"], rows)


if __name__ == "__main__":
    main()
