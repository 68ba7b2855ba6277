"""Behaviour of the time-delay (TDNN) regressors and classifiers."""

import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_rnn import GRUClassifier, GRURegressor
from sklearn_rnn._modules import DelayConv1d, TDNNNet
from sklearn_rnn.tdnn import TDNNClassifier, TDNNRegressor
from tests.test_recurrent import sine_windows, two_kinds

FAST = dict(hidden_size=8, max_epochs=3, batch_size=32, random_state=0)


def ragged(n=20, seed=0, features=2):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(rng.integers(1, 15)), features)) for _ in range(n)]


# ---------------------------------------------------------------- the module
@pytest.mark.parametrize("delays", [(-2, -1, 0, 1, 2), (-3, 0, 3), (-3, -1, 2), (0,),
                                    (4,), (-7, -2), (1, 3)])
def test_delay_layer_reads_its_delays_with_zeros_outside(delays):
    """out[t] = b + sum_d W_d x[t + d], x = 0 outside the sequence, any length."""
    torch.manual_seed(0)
    layer = DelayConv1d(3, 4, delays)
    weight = layer.conv.weight if layer.mask is None else layer.conv.weight * layer.mask
    taps = {d: weight[:, :, (d - min(delays)) // layer.dilation] for d in delays}
    assert sum(bool(w.any()) for w in weight.unbind(2)) == len(delays)
    for steps in (1, 4, 11):
        x = torch.randn(2, 3, steps)
        expected = layer.conv.bias[None, :, None].expand(2, 4, steps).clone()
        for t in range(steps):
            for d in delays:
                if 0 <= t + d < steps:
                    expected[:, :, t] += x[:, :, t + d] @ taps[d].T
        torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)


def test_evenly_spaced_delays_are_a_dilated_kernel():
    layer = DelayConv1d(1, 1, (-3, 0, 3))
    assert (layer.dilation, layer.conv.kernel_size, layer.mask) == (3, (3,), None)
    uneven = DelayConv1d(1, 1, (-3, -1, 2))
    assert (uneven.dilation, uneven.conv.kernel_size) == (1, (6,))
    assert uneven.mask.flatten().tolist() == [1, 0, 1, 0, 0, 1]


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_module_padding_values_never_matter(pooling):
    torch.manual_seed(0)
    net = TDNNNet(2, 3, hidden_size=8, pooling=pooling).eval()
    seqs = [torch.randn(n, 2) for n in (3, 9, 1, 15)]
    lengths = torch.tensor([len(s) for s in seqs])
    alone = torch.cat([net(s[None]) for s in seqs])
    for fill in (0.0, 1e3):
        padded = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=fill)
        torch.testing.assert_close(net(padded, lengths), alone, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- learning
def test_regressor_learns_noisy_sine():
    X, y = sine_windows()
    model = TDNNRegressor(hidden_size=16, max_epochs=60, lr=1e-2, random_state=0)
    model.fit(X[:300], y[:300])
    assert model.score(X[300:], y[300:]) > 0.9
    assert len(model.net_.module_.layers) == len(model.context)


@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_classifier_separates_two_kinds(pooling):
    X, y = two_kinds()
    model = TDNNClassifier(hidden_size=8, max_epochs=30, lr=1e-2, pooling=pooling,
                           random_state=0).fit(X[:90], y[:90])
    assert set(model.classes_) == {"falling", "rising"}
    assert model.score(X[90:], y[90:]) > 0.9
    proba = model.predict_proba(X[90:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (model.classes_[proba.argmax(axis=1)] == model.predict(X[90:])).all()


# ---------------------------------------------------------------- ragged input
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("context", [((-2, -1, 0, 1, 2), (-2, 0, 2), (-3, 0, 3)),
                                     ((-3, -1, 2), (-4, 1))])
def test_ragged_batch_matches_one_by_one(pooling, context):
    X = ragged()
    y = np.array([s.sum() for s in X])
    # The uneven context reads nothing of the shortest sequences (1-3 steps),
    # which the fit says; they must still predict the same alone as in a batch.
    with warnings.catch_warnings():  # (at fit and at predict)
        warnings.filterwarnings("ignore", "context=.* reads no step", UserWarning)
        model = TDNNRegressor(pooling=pooling, context=context, **FAST).fit(X, y)
        together = model.predict(X)
        alone = np.concatenate([model.predict([s]) for s in X])
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)
    assert model.n_features_in_ == 2


# ---------------------------------------------------------------- sklearn tools
def test_grid_search_compares_tdnn_and_rnn():
    X, y = sine_windows(n=150)
    pipe = Pipeline([("est", TDNNRegressor())])
    grid = [{"est": [TDNNRegressor(**FAST)], "est__context": [((-1, 0), (-2, 0)),
                                                              ((-2, -1, 0),)]},
            {"est": [GRURegressor(**FAST)]}]
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    names = [type(p["est"]).__name__ for p in search.cv_results_["params"]]
    assert names == ["TDNNRegressor", "TDNNRegressor", "GRURegressor"]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.predict(X[:4]).shape == (4,)


def test_parameters_are_the_rnn_ones_with_context_for_layers():
    """A new recurrent parameter fails this test until someone decides whether a
    TDNN takes it (then list it here or give TDNN the parameter)."""
    recurrent_only = {"num_layers", "bidirectional", "tbptt_steps", "forget_bias"}
    for TDNN, RNN in [(TDNNRegressor, GRURegressor), (TDNNClassifier, GRUClassifier)]:
        tdnn, rnn = set(TDNN().get_params()), set(RNN().get_params())
        assert tdnn == (rnn - recurrent_only) | {"context"}
        for name in tdnn:  # each documented once, in the class docstring
            assert TDNN.__doc__.count(f"\n    {name} : ") == 1, (TDNN.__name__, name)
        # Shared defaults agree, so a search varies only what it names.
        shared = tdnn & rnn
        assert ({k: TDNN().get_params()[k] for k in shared}
                == {k: RNN().get_params()[k] for k in shared})


@pytest.mark.parametrize("Est", [TDNNRegressor, TDNNClassifier])
def test_clone_pickle_round_trip(Est):
    X, y = two_kinds(n=60) if Est is TDNNClassifier else sine_windows(n=60)
    model = Est(context=((-3, -1, 2), (-2, 0)), dropout=0.1, **FAST).fit(X, y)
    expected = model.predict(X)
    assert clone(model).get_params() == model.get_params()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), expected)


def test_same_random_state_same_predictions():
    X, y = sine_windows(n=100)
    first = TDNNRegressor(dropout=0.2, **FAST).fit(X, y).predict(X)
    second = TDNNRegressor(dropout=0.2, **FAST).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, second)


# ---------------------------------------------------------------- bad parameters
@pytest.mark.parametrize("context, match", [
    ((), re.escape("got ().")),
    ([], re.escape("got [].")),
    (3, "'context' parameter"),
    ("(-1, 0)", "'context' parameter"),
    (((-1, 0), ()), r"layer 1 \(\(\)\) is not a non-empty"),
    ((-1, 0), r"layer 0 \(-1\) is not a non-empty"),
    (((-1, 0.5),), "not an integer"),
    (((0, True),), "not an integer"),
    (((-1, 0, -1),), "repeats a delay"),
])
def test_bad_context_is_a_value_error_naming_context(context, match):
    X, y = sine_windows(n=40)
    with pytest.raises(ValueError, match="context") as info:
        TDNNRegressor(context=context, **FAST).fit(X, y)
    assert info.match(match)


def test_numpy_integer_and_list_contexts_are_accepted():
    X, y = sine_windows(n=40)
    model = TDNNRegressor(context=[np.array([-1, 0]).tolist(), (np.int64(-2), 0)],
                          **FAST).fit(X, y)
    assert [layer.delays for layer in model.net_.module_.layers] == [(-1, 0), (-2, 0)]


def test_delays_are_bounded_and_their_order_is_not_structure():
    X, y = sine_windows(n=40)
    with pytest.raises(ValueError, match=r"layer 0 \(\(0, 1000000000000\)\) reaches further "
                                         r"than 10,000 steps"):
        TDNNRegressor(context=((0, 10**12),), **FAST).fit(X, y)
    model = TDNNRegressor(context=((0, -1),), warm_start=True, **FAST).fit(X, y)
    model.set_params(context=((-1, 0),)).fit(X, y)  # the same layer: trains on
    assert model.n_iter_ == 2 * FAST["max_epochs"]
    with pytest.raises(ValueError, match="context"):
        model.set_params(context=((-2, 0),)).fit(X, y)


@pytest.mark.parametrize("context", [((1, 3),), ((-5,), (5,)), ((-1, 2), (1,))])
def test_last_pooling_with_a_context_that_reads_only_past_the_end_is_refused(context):
    # The last output read zeros only: the model trained silently to a constant.
    X = np.random.default_rng(0).normal(size=(20, 8))
    with pytest.raises(ValueError, match=r"pooling='last'.*past the end of the sequence"):
        TDNNRegressor(context=context, pooling="last", max_epochs=1).fit(X, X[:, -1])


@pytest.mark.parametrize("context, pooling", [(((-8,),), "last"), (((-4, 0), (7,)), "max"),
                                              (((8, 9),), "mean")])
def test_a_context_whose_paths_all_leave_the_sequences_is_refused(context, pooling):
    # Six-step sequences: every path runs before the start or past the end, where
    # each layer is zeros; the model used to fit a constant without a word.
    X = np.random.default_rng(0).normal(size=(20, 6))
    with pytest.raises(ValueError, match=rf"pooling='{pooling}' reads no step of sequences "
                                         r"of 6 steps \(the longest here\)"):
        TDNNRegressor(context=context, pooling=pooling, max_epochs=1).fit(X, X.sum(axis=1))


def test_sequences_too_short_for_the_context_are_named_in_a_warning():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=n) for n in [3] * 5 + [12] * 15]
    with pytest.warns(UserWarning, match=r"reads no step of 5 of the 20 training sequences "
                                         r"\(those of 3-3 steps\)"):
        model = TDNNRegressor(context=((-5,),), pooling="last", max_epochs=1).fit(
            seqs, np.ones(20))
    with pytest.warns(UserWarning, match=r"reads no step of 2 of the 3 given sequences "
                                         r"\(those of 2-3 steps\): they get a constant"):
        model.predict([seqs[0][:2], seqs[-1], seqs[0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(np.stack(seqs[5:]))  # every one long enough: no warning


@pytest.mark.parametrize("context", [((-2, 0, 2),), ((-5,), (5,)), ((6,), (-7,)), ((3, 4),)])
@pytest.mark.parametrize("pooling", ["last", "max"])
def test_what_reads_input_agrees_with_a_perturbed_input(context, pooling):
    from sklearn_rnn.tdnn import _check_context, _reads_input

    module = TDNNNet(1, 1, context=_check_context(context, "test"), hidden_size=4,
                     pooling=pooling).eval()
    x = torch.randn(3, 6, 1)
    with torch.no_grad():
        moved = not torch.equal(module(x), module(x + torch.randn_like(x)))
    assert _reads_input(_check_context(context, "test"), 6, pooling) == moved


def test_last_pooling_reads_what_its_delays_reach():
    from sklearn_rnn.tdnn import _last_step_reach

    assert _last_step_reach(((5,), (-5,))) == {0}        # down 5, back up to the last step
    assert _last_step_reach(((-2, -1, 0, 1, 2), (-2, 0, 2), (-3, 0, 3))) == set(range(-7, 1))
    X = np.random.default_rng(0).normal(size=(60, 8))
    model = TDNNRegressor(context=((5,), (-5,)), pooling="last", hidden_size=8,
                          max_epochs=30, early_stopping=False, random_state=0).fit(X, X[:, -1])
    assert np.corrcoef(model.predict(X), X[:, -1])[0, 1] > 0.9
