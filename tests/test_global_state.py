"""torch's process-wide settings -- the default dtype, inference mode, the thread
count -- neither change what an estimator learns nor are left changed by it."""

import os

import numpy as np
import pandas as pd
import pytest
import torch

import sklearn_rnn
from sklearn_rnn.diagnostics import gradient_flow

rng = np.random.default_rng(0)
X = rng.normal(size=(30, 6, 2))
Y = X[:, :, 0].sum(axis=1)
SERIES = pd.Series(np.sin(np.arange(40) / 3), index=pd.date_range("2000", periods=40, freq="MS"))
TEXTS = ["the cat sat on the mat", "the dog sat on the log"] * 5
FAST = dict(hidden_size=4, max_epochs=2, random_state=0)

CASES = {
    "GRURegressor": (lambda: sklearn_rnn.GRURegressor(**FAST).fit(X, Y),
                     lambda m: m.predict(X)),
    "LSTMClassifier": (lambda: sklearn_rnn.LSTMClassifier(**FAST).fit(X, Y > 0),
                       lambda m: m.predict_proba(X)),
    "TDNNRegressor": (lambda: sklearn_rnn.TDNNRegressor(**FAST).fit(X, Y),
                      lambda m: m.predict(X)),
    "LSTMForecaster": (lambda: sklearn_rnn.LSTMForecaster(lookback=4, **FAST).fit(SERIES),
                       lambda m: m.forecast(3).to_numpy()),
    "RNNLanguageModel": (lambda: sklearn_rnn.RNNLanguageModel(
        hidden_size=4, embedding_size=4, max_epochs=1, random_state=0).fit(TEXTS),
        lambda m: m.score(TEXTS[:2])),
    "SkipGramTransformer-torch": (lambda: sklearn_rnn.SkipGramTransformer(
        vector_size=4, min_count=1, epochs=1, sample=0, engine="torch",
        random_state=0).fit(TEXTS), lambda m: m.transform(TEXTS)),
}


@pytest.fixture(params=list(CASES))
def case(request):
    make, use = CASES[request.param]
    return make, use, use(make())


def test_fit_is_float32_under_a_float64_default_dtype(case):
    # The layers used to follow the caller's default: float64 weights that the
    # float32 inputs did not match (a raw torch error), or a float64 network.
    make, use, expected = case
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = make()
        got = use(model)
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(old)
    np.testing.assert_array_equal(got, expected)
    if hasattr(model, "net_"):
        assert {p.dtype for p in model.net_.module_.parameters()} == {torch.float32}


def test_fit_inside_inference_mode_and_no_grad_trains_as_outside(case):
    make, use, expected = case
    for mode in (torch.inference_mode, torch.no_grad):
        with mode():
            got = use(make())
        np.testing.assert_array_equal(got, expected)
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()


def test_a_model_loaded_inside_inference_mode_trains_on(tmp_path):
    model = sklearn_rnn.GRURegressor(**FAST).fit(X, Y)
    sklearn_rnn.save(model, tmp_path / "model.skrnn")
    with torch.inference_mode():
        loaded = sklearn_rnn.load(tmp_path / "model.skrnn")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # Its parameters are ordinary tensors: training them in place works, as it
    # does for the same file loaded outside.
    reference = sklearn_rnn.load(tmp_path / "model.skrnn").partial_fit(X, Y)
    np.testing.assert_array_equal(loaded.partial_fit(X, Y).predict(X), reference.predict(X))


def test_predicting_leaves_a_float64_default_dtype_in_place(case):
    # Only fits (one at a time) set float32 as the default; predictions build
    # their tensors with explicit dtypes, so no other thread sees it change.
    make, use, expected = case
    model = make()
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    seen = []
    real = torch.set_default_dtype
    try:
        torch.set_default_dtype = lambda dtype: seen.append(dtype) or real(dtype)
        got = use(model)
    finally:
        torch.set_default_dtype = real
        real(old)
    assert seen == []
    np.testing.assert_array_equal(got, expected)


def test_gradient_flow_inside_inference_mode():
    model = sklearn_rnn.GRURegressor(**FAST).fit(X, Y)
    expected = gradient_flow(model, X)
    with torch.inference_mode():
        pd.testing.assert_frame_equal(gradient_flow(model, X), expected)


@pytest.mark.parametrize("n_threads", [2**40, 4 * os.cpu_count() + 1])
def test_too_many_threads_is_a_named_error_and_leaves_nothing_fitted(n_threads):
    # torch starts as many threads as it is told: 10**6 took 264 GB of address
    # space, and the threads stayed after the fit.
    model = sklearn_rnn.GRURegressor(**{**FAST, "n_threads": n_threads})
    threads = torch.get_num_threads()
    with pytest.raises(ValueError, match=rf"n_threads={n_threads} is far more than this "
                                         rf"machine's {os.cpu_count()} CPU cores"):
        model.fit(X, Y)
    assert torch.get_num_threads() == threads
    assert not [k for k in vars(model) if k.endswith("_")]
    sklearn_rnn.GRURegressor(**{**FAST, "n_threads": 4 * os.cpu_count()}).fit(X, Y)
    with pytest.raises(ValueError, match=r"far more than this machine's"):
        sklearn_rnn.SkipGramTransformer(n_threads=n_threads).fit(["a b c"])
    with pytest.raises(ValueError, match=r"far more than this machine's"):
        model.set_params(n_threads=4).fit(X, Y).set_params(n_threads=n_threads).predict(X)


def test_settings_refused_before_reading_data_leave_nothing_fitted():
    # Checked with the parameters, before the data (it was checked while building
    # the network, after classes and scaling statistics had been set).
    model = sklearn_rnn.GRUClassifier(**FAST, bidirectional=True, tbptt_steps=2)
    with pytest.raises(ValueError, match="tbptt_steps=2 needs bidirectional=False"):
        model.fit(X, Y > 0)
    assert not [k for k in vars(model) if k.endswith("_")]
