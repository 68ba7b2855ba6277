"""Serving one request at a time: our call against the minimal hand-written one.

What is measured
----------------
Wall time of one small request -- the call a web service makes per user --
on fitted estimators, against the least work that gives the same answer by
hand in the same process: the *same fitted module* under ``torch.no_grad()``
with the fitted scaling (numpy in, numpy out), or for the skip-gram
transformer a regex, dictionary look-ups and a mean. What ours adds is
input validation, the fitted-state checks, thread handling and building the
output (a pandas Series for a DataFrame request): the fixed overhead a call.

* ``gru 3-D`` / ``gru 2-D``: ``GRURegressor.predict`` of one sequence (20
  steps; 3 features, or a 2-D table row of 20 values).
* ``lstm proba``: ``LSTMClassifier.predict_proba`` of one 3-D sequence.
* ``forecaster df`` / ``forecaster array``: ``LSTMForecaster.predict`` of the
  next step from one row (a DataFrame row with its index, or an array row of
  the covariate); ``forecaster update``: ``update`` with one observed row
  (the reference scales it and shifts the stored window).
* ``skipgram doc``: ``SkipGramTransformer.transform`` of one short document.
* ``lm complete``: ``RNNLanguageModel.complete`` of 40 characters (reference:
  the same module stepped by hand, softmax and ``torch.multinomial``).

Each pair alternates (``--calls`` calls of one, then of the other, for
``--rounds`` rounds, after a warm-up); medians of the per-call times. Outputs
are checked equal first (except the language model's, which samples).
Threads: ``--threads`` for both (default 1, the estimators' default).

    python benchmarks/bench_latency.py [--rounds 15] [--calls 100] [--threads 1]
"""

import argparse
import re
import statistics
import time

import numpy as np
import pandas as pd
import torch

from _common import machine, print_table

from sklearn_rnn import (GRURegressor, LSTMClassifier, LSTMForecaster, RNNLanguageModel,
                         SkipGramTransformer)

FAST = dict(hidden_size=32, max_epochs=3, random_state=0)


def _module_call(est, x):
    """The fitted module on scaled float32 ``x`` (n, steps, features), no grad."""
    z = ((x - est.input_mean_) / est.input_scale_).astype(np.float32)
    with torch.no_grad():
        return est.net_.module_(torch.from_numpy(z)).numpy()


def sequence_cases(rng):
    X = rng.normal(size=(200, 20, 3))
    y = X[:, -5:, 0].sum(axis=1)
    gru = GRURegressor(**FAST).fit(X, y)
    table = GRURegressor(**FAST).fit(X[:, :, 0], y)
    lstm = LSTMClassifier(**FAST).fit(X, (y > 0).astype(int))
    one, row = X[:1], X[:1, :, 0]

    def ref_regress(est, x):
        return _module_call(est, x).astype(np.float64).ravel() * est.target_scale_ \
            + est.target_mean_

    def ref_proba(x):
        return torch.softmax(torch.from_numpy(_module_call(lstm, x)).double(), 1).numpy()

    return [
        ("gru 3-D", lambda: gru.predict(one), lambda: ref_regress(gru, one)),
        ("gru 2-D", lambda: table.predict(row), lambda: ref_regress(table, row[:, :, None])),
        ("lstm proba", lambda: lstm.predict_proba(one), lambda: ref_proba(one)),
    ]


def forecaster_cases(rng):
    index = pd.period_range("1960", periods=60, freq="Y")
    x = rng.normal(size=60).cumsum()
    df = pd.DataFrame({"rate": 10 + np.sin(np.arange(60) / 3) + 0.5 * x, "x": x}, index=index)
    fc = LSTMForecaster(target="rate", lookback=8, **FAST).fit(df.iloc[:-1])
    arr = LSTMForecaster(lookback=8, **FAST).fit(df[["x"]].to_numpy()[:-1],
                                                  df["rate"].to_numpy()[:-1])
    request = df.iloc[-1:][["x"]]

    def ref_predict(est, cov):
        c = (cov - est.covariate_mean_[0]) / est.covariate_scale_[0]
        window = np.concatenate([est.tail_target_[0][:, None],
                                 np.vstack([est.tail_covariates_[0][1:], c])], axis=1)
        with torch.no_grad():
            z = est.net_.module_(torch.from_numpy(window[None].astype(np.float32)))
        return z.numpy()[0, :1].astype(np.float64) * est.target_scale_[0] \
            + est.target_center_[0]

    def ref_predict_df():
        return pd.Series(ref_predict(fc, request.to_numpy()), index=request.index, name="rate")

    # update: scale the observed row and shift it into a copy of the stored window.
    updater = LSTMForecaster(target="rate", lookback=8, **FAST).fit(df.iloc[:-1])
    tail = (updater.tail_target_.copy(), updater.tail_covariates_.copy())
    origin = updater._index_info[0]
    step = df.iloc[-1:]

    def ours_update():
        updater.update(step)
        after = updater.tail_target_[0].copy(), updater.tail_covariates_[0].copy()
        # (undone, so that every call appends the same step after the same data)
        updater.tail_target_[:], updater.tail_covariates_[:] = tail
        updater._index_info[0] = origin
        return after

    def ref_update():
        t = (step["rate"].to_numpy() - updater.target_center_[0]) / updater.target_scale_[0]
        c = (step["x"].to_numpy()[:, None] - updater.covariate_mean_[0]) \
            / updater.covariate_scale_[0]
        target = np.concatenate([tail[0][0, 1:], t.astype(np.float32)])
        covs = np.concatenate([tail[1][0, 1:], c.astype(np.float32)])
        return target, covs

    return [
        ("forecaster df", lambda: fc.predict(request), ref_predict_df),
        ("forecaster array", lambda: arr.predict(request.to_numpy()),
         lambda: ref_predict(arr, request.to_numpy())),
        ("forecaster update", ours_update, ref_update),
    ]


def text_cases(rng):
    words = [f"w{i}" for i in range(300)]
    p = 1 / np.arange(1, 301)
    docs = [" ".join(rng.choice(words, size=30, p=p / p.sum())) for _ in range(400)]
    sg = SkipGramTransformer(vector_size=32, min_count=1, epochs=1, random_state=0,
                             n_threads=1).fit(docs)
    request = ["w1 w5 w17 w2 unknown w40 w3 w1 w9 w250"]
    token = re.compile(r"(?u)\b\w\w+\b")
    vocab, vectors = sg.vocabulary_, sg.embeddings_

    def ref_transform():
        ids = [vocab[t] for t in token.findall(request[0].lower()) if t in vocab]
        return vectors[ids].mean(axis=0, keepdims=True)

    text = " ".join(docs[:100])
    lm = RNNLanguageModel(sequence_length=32, embedding_size=16, hidden_size=32, max_epochs=1,
                          random_state=0).fit([text])
    chars = sorted(lm.vocabulary_)
    ids = {c: i for i, c in enumerate(lm._codes.tolist())}
    lm_module = lm.net_.module_.eval()

    def ref_complete(prefix="w1 w2 ", n=40):
        gen = torch.Generator().manual_seed(0)
        x = torch.tensor([[1] + [ids[ord(c)] + 2 for c in prefix]])
        out = []
        with torch.no_grad():
            logits, state = lm_module.run(x)
            logits = logits[:, -1]
            for _ in range(n):
                token = torch.multinomial(torch.softmax(logits.double(), 1), 1, generator=gen)
                out.append(int(token))
                logits, state = lm_module.run(token, state)
                logits = logits[:, -1]
        return "".join(chars[t - 2] if t >= 2 else "" for t in out)

    return [
        ("skipgram doc", lambda: sg.transform(request), ref_transform),
        ("lm complete", lambda: lm.complete("w1 w2 ", max_length=40, random_state=0),
         ref_complete),
    ]


def _same(a, b):
    if isinstance(a, str):
        return True  # sampled text: not compared
    if isinstance(a, tuple):  # update: the stored window after it
        return all(_same(u, v) for u, v in zip(a, b))
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=1e-4, atol=1e-6)
    return True


def time_pair(ours, ref, rounds, calls):
    times = {"ours": [], "ref": []}
    for f in (ours, ref):
        for _ in range(max(5, calls // 10)):
            f()
    for r in range(rounds):
        order = (("ours", ours), ("ref", ref)) if r % 2 == 0 else (("ref", ref), ("ours", ours))
        for name, f in order:
            t0 = time.perf_counter()
            for _ in range(calls):
                f()
            times[name].append((time.perf_counter() - t0) / calls)
    return statistics.median(times["ours"]), statistics.median(times["ref"])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--calls", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--only", default=None, help="run the cases whose name contains this")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(machine(load_avg=True))
    rng = np.random.default_rng(0)
    cases = sequence_cases(rng) + forecaster_cases(rng) + text_cases(rng)
    rows = []
    for name, ours, ref in cases:
        if args.only and args.only not in name:
            continue
        _same(ours(), ref())
        calls = max(5, args.calls // 20) if name == "lm complete" else args.calls
        t_ours, t_ref = time_pair(ours, ref, args.rounds, calls)
        rows.append((name, f"{t_ours * 1e6:,.0f} us", f"{t_ref * 1e6:,.0f} us",
                     f"{(t_ours - t_ref) * 1e6:,.0f} us", f"{t_ours / t_ref:.2f}x"))
        print(f"  {name}: {rows[-1][1]} vs {rows[-1][2]}", flush=True)
    print_table(("request", "ours", "hand-written", "overhead", "ratio"), rows)


if __name__ == "__main__":
    main()
