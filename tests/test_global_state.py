"""torch's process-wide settings -- the default dtype, inference mode, the thread
count -- neither change what an estimator learns nor are left changed by it."""

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


def test_gradient_flow_inside_inference_mode():
    model = sklearn_rnn.GRURegressor(**FAST).fit(X, Y)
    expected = gradient_flow(model, X)
    with torch.inference_mode():
        pd.testing.assert_frame_equal(gradient_flow(model, X), expected)


def test_too_many_threads_is_a_named_error_and_leaves_nothing_fitted():
    model = sklearn_rnn.GRURegressor(**{**FAST, "n_threads": 2**40})
    threads = torch.get_num_threads()
    with pytest.raises(ValueError, match=r"n_threads=1099511627776 is more threads than "
                                         r"PyTorch can set"):
        model.fit(X, Y)
    assert torch.get_num_threads() == threads
    assert not [k for k in vars(model) if k.endswith("_")]


def test_settings_refused_before_reading_data_leave_nothing_fitted():
    # Checked with the parameters, before the data (it was checked while building
    # the network, after classes and scaling statistics had been set).
    model = sklearn_rnn.GRUClassifier(**FAST, bidirectional=True, tbptt_steps=2)
    with pytest.raises(ValueError, match="tbptt_steps=2 needs bidirectional=False"):
        model.fit(X, Y > 0)
    assert not [k for k in vars(model) if k.endswith("_")]
