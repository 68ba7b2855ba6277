"""Predicting from several threads at once on one fitted estimator gives the same
results as predicting serially, and leaves torch's global thread setting alone.

The estimators set torch's intra-op thread count around predict (``n_threads``)
and restore it afterwards; concurrent calls must neither change each other's
results nor leave the caller's setting changed.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_rnn import (GRUClassifier, LSTMForecaster, LSTMRegressor, RNNLanguageModel,
                         SkipGramTransformer, TDNNRegressor)

N_WORKERS = 4
ROUNDS = 4
FAST = dict(hidden_size=8, max_epochs=2, early_stopping=False, random_state=0)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 12, 2))
Y = X[:, :, 0].sum(axis=1) - X[:, -1, 1]
RAGGED = [RNG.normal(size=(n, 2)) for n in RNG.integers(3, 20, size=60)]


def _slices(n, sizes=(1, 2, 5, 7, 16, 33)):
    """Overlapping slices of several sizes: each batch composition differs."""
    return [slice(start, start + size) for size in sizes
            for start in range(0, max(n - size, 1), max(n // 4, 1))]


@pytest.fixture
def caller_threads():
    """Give the caller a thread setting (2) unlike the estimators' n_threads=1, so
    predict has to change it and restore it."""
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(old)


def _check_concurrent(predict, inputs, expected_threads):
    serial = [predict(x) for x in inputs]
    assert torch.get_num_threads() == expected_threads
    jobs = list(range(len(inputs))) * ROUNDS
    RNG.shuffle(jobs)
    with ThreadPoolExecutor(max_workers=N_WORKERS) as pool:
        results = list(pool.map(lambda i: (i, predict(inputs[i])), jobs))
    assert torch.get_num_threads() == expected_threads, (
        "torch's global thread count changed by concurrent predictions")
    for i, result in results:
        if isinstance(serial[i], (pd.Series, pd.DataFrame)):
            pd.testing.assert_frame_equal(pd.DataFrame(result), pd.DataFrame(serial[i]),
                                          check_exact=True)
        elif isinstance(serial[i], float):
            assert result == serial[i]
        else:
            np.testing.assert_array_equal(result, serial[i])


@pytest.mark.parametrize("Est", [LSTMRegressor, TDNNRegressor], ids=lambda E: E.__name__)
def test_regressor_predict_from_threads(Est, caller_threads):
    model = Est(**FAST).fit(X, Y)
    inputs = [X[s] for s in _slices(len(X))] + [RAGGED[s] for s in _slices(len(RAGGED))]
    _check_concurrent(model.predict, inputs, caller_threads)


def test_classifier_predict_proba_from_threads(caller_threads):
    model = GRUClassifier(**FAST).fit(X, np.where(Y > 0, "up", "down"))
    inputs = [X[s] for s in _slices(len(X))] + [RAGGED[s] for s in _slices(len(RAGGED))]
    _check_concurrent(model.predict_proba, inputs, caller_threads)
    _check_concurrent(model.predict, inputs[::3], caller_threads)


def test_forecaster_predict_future_rows_from_threads(caller_threads):
    t = np.arange(80.0)
    frame = pd.DataFrame({"y": np.sin(t / 4) + 0.1 * np.cos(t), "c": np.cos(t)})
    model = LSTMForecaster(target="y", lookback=6, **FAST).fit(frame.iloc[:60])
    future = frame.iloc[60:][["c"]]
    # Arrays: each slice's rows are the steps right after the fitted data (a frame
    # would be placed by its index, and a slice starting later is a gap).
    inputs = [future.iloc[s].to_numpy() for s in _slices(len(future), sizes=(1, 3, 8, 20))]
    _check_concurrent(model.predict, inputs, caller_threads)
    univariate = LSTMForecaster(lookback=6, **FAST).fit(frame["y"].iloc[:60])
    _check_concurrent(univariate.forecast, [1, 2, 5, 13], caller_threads)


def test_skipgram_transform_from_threads(caller_threads):
    words = np.array("the cat dog sat on mat log a ran fast slow big".split())
    texts = [" ".join(RNG.choice(words, size=RNG.integers(0, 12))) for _ in range(80)]
    model = SkipGramTransformer(vector_size=8, min_count=1, epochs=1, random_state=0)
    model.fit(texts + ["the"])  # not ending on a possibly empty document
    inputs = [texts[s] for s in _slices(len(texts))]
    _check_concurrent(model.transform, inputs, caller_threads)


def test_language_model_score_and_complete_from_threads(caller_threads):
    texts = ["abcabcabc", "abcab", "cab", "bca bca"] * 5
    model = RNNLanguageModel(hidden_size=8, embedding_size=4, sequence_length=8,
                             max_epochs=1, early_stopping=False, random_state=0).fit(texts)
    inputs = [texts[s] for s in _slices(len(texts), sizes=(1, 3, 7))]
    _check_concurrent(model.score, inputs, caller_threads)
    _check_concurrent(lambda p: model.complete(p, max_length=6, random_state=0),
                      ["a", "ab", "bca", "c", ""], caller_threads)


def test_mixed_n_threads_estimators_restore_global_setting(caller_threads):
    """Concurrent predictions of estimators with different n_threads (1 and 3) must
    not leave torch's thread count at either value."""
    one = LSTMRegressor(**FAST).fit(X, Y)
    three = LSTMRegressor(**{**FAST, "n_threads": 3}).fit(X, Y)
    inputs = [X[s] for s in _slices(len(X))]
    expected = {id(m): [m.predict(x) for x in inputs] for m in (one, three)}
    jobs = [(m, i) for m in (one, three) for i in range(len(inputs))] * ROUNDS
    with ThreadPoolExecutor(max_workers=N_WORKERS) as pool:
        results = list(pool.map(lambda job: (job, job[0].predict(inputs[job[1]])), jobs))
    assert torch.get_num_threads() == caller_threads
    for (model, i), result in results:
        np.testing.assert_array_equal(result, expected[id(model)][i])


def test_fits_in_threads_are_reproducible_and_leave_the_global_rng_alone():
    """torch's generator is process-wide: concurrent fits take turns (they drew from
    one generator, and restored each other's state into the caller's)."""
    Xs = X[:60, :6]
    params = dict(hidden_size=4, max_epochs=2, dropout=0.2, num_layers=2, random_state=0)
    serial = LSTMRegressor(**params).fit(Xs, Y[:60]).predict(Xs)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    with ThreadPoolExecutor(N_WORKERS) as pool:
        fits = list(pool.map(lambda _: LSTMRegressor(**params).fit(Xs, Y[:60]).predict(Xs),
                             range(8)))
    assert torch.equal(torch.get_rng_state(), before)
    for out in fits:
        np.testing.assert_array_equal(out, serial)
