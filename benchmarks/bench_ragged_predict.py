"""Predicting ragged sequences: our predict against a hand-written numpy/torch loop.

What is measured
----------------
Wall time of ``GRURegressor.predict`` on a list of ragged sequences (numpy
arrays of different lengths), and of the same work written by hand in one
process: standardise each sequence with the fitted statistics, pad them into
one float32 array, and run the *same fitted module* (``est.net_.module_``)
batch by batch with the true lengths under ``torch.no_grad()``, then undo the
target scaling. Ours additionally validates every sequence (finite, numeric,
1-D or 2-D, the fitted feature count): that overhead is what this measures.

The two alternate (the order flips every round); one untimed warm-up round
comes first. Both give the same predictions (checked, float32 tolerance).

    python benchmarks/bench_ragged_predict.py [--n 20000] [--rounds 5] [--threads 1]
"""

import argparse
import statistics
import time

import numpy as np
import torch

from _common import machine

from sklearn_rnn import GRURegressor
from sklearn_rnn.utils import check_sequences


def make_ragged(n, n_features, seed=0):
    rng = np.random.default_rng(seed)
    seqs = [rng.normal(size=(int(t), n_features)) for t in rng.integers(20, 60, size=n)]
    y = np.array([s[:, 0].sum() for s in seqs])
    return seqs, y


def reference_predict(est, seqs, batch_size):
    """Standardise, pad and run the fitted module by hand."""
    mean, scale = est.input_mean_, est.input_scale_
    lengths = np.array([len(s) for s in seqs])
    x = np.zeros((len(seqs), lengths.max(), seqs[0].shape[1]), dtype=np.float32)
    for row, s in zip(x, seqs):
        row[:len(s)] = (s - mean) / scale
    module = est.net_.module_.eval()
    x, lengths = torch.from_numpy(x), torch.from_numpy(lengths)
    with torch.no_grad():
        out = torch.cat([module(x[i:i + batch_size], lengths[i:i + batch_size])
                         for i in range(0, len(x), batch_size)])
    return out.numpy().astype(np.float64).ravel() * est.target_scale_ + est.target_mean_


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20000, help="sequences")
    p.add_argument("--features", type=int, default=3)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"# {machine(load_avg=True)}")
    seqs, y = make_ragged(args.n, args.features)
    est = GRURegressor(hidden_size=8, max_epochs=1, early_stopping=False, random_state=0,
                       n_threads=args.threads).fit(seqs, y)
    # The batch ours predicts in (up to 512 sequences, SequenceEngine._predict_batch),
    # not its training batch: the reference gets the same.
    batch = est.net_._predict_batch(est._dataset(check_sequences(est, seqs, reset=False),
                                                 device="cpu"))
    np.testing.assert_allclose(est.predict(seqs), reference_predict(est, seqs, batch),
                               rtol=1e-5, atol=1e-5 * np.abs(y).max())
    times = {"ours": [], "reference": []}
    runs = {"ours": lambda: est.predict(seqs),
            "reference": lambda: reference_predict(est, seqs, batch)}
    for r in range(args.rounds + 1):
        for name in (("ours", "reference") if r % 2 else ("reference", "ours")):
            start = time.perf_counter()
            runs[name]()
            if r:  # round 0 warms up
                times[name].append(time.perf_counter() - start)
    ours, ref = (statistics.median(times[k]) for k in ("ours", "reference"))
    ratios = [o / f for o, f in zip(times["ours"], times["reference"])]
    print(f"{args.n} ragged sequences (20-59 steps x {args.features} features), "
          f"GRURegressor(hidden_size=8), predict batch {batch}, {args.threads} thread(s)")
    print("| | ours s | reference s | ratio | per-round ratio range |")
    print("|---|---|---|---|---|")
    print(f"| predict | {ours:.3f} | {ref:.3f} | {ours / ref:.2f} | "
          f"{min(ratios):.2f}-{max(ratios):.2f} |")
    print(f"medians over {args.rounds} rounds")


if __name__ == "__main__":
    main()
