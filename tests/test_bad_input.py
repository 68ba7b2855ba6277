"""The bad-input matrix: every public estimator against every kind of bad input.

Each case gets either a ValueError/TypeError whose message names the problem, or a
documented handling (finite predictions, zero rows, ...). No case may reach the user
as a raw torch traceback: ``_assert_clear`` checks the exception type and that no
exception in the chain was raised inside torch.

Cases where the package currently does the wrong thing are marked
``xfail(strict=True, reason="BUG: ...")``: fixing the package turns them into
XPASS failures, and the mark should then be removed.
"""

import functools
import os
import pickle
import traceback

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_rnn
from sklearn_rnn import (ElmanClassifier, ElmanRegressor, GRUClassifier, GRURegressor,
                         LSTMClassifier, LSTMForecaster, LSTMRegressor, RNNClassifier,
                         RNNForecaster, RNNLanguageModel, RNNRegressor, SkipGramTransformer,
                         TDNNClassifier, TDNNRegressor)
from sklearn_rnn.metrics import mase_scorer

TORCH_DIR = os.path.dirname(torch.__file__)

FAST = dict(hidden_size=4, max_epochs=1, batch_size=16, early_stopping=False,
            random_state=0)
FAST_FORECAST = dict(hidden_size=4, max_epochs=1, lookback=3, early_stopping=False,
                     random_state=0)
FAST_SKIPGRAM = dict(vector_size=4, min_count=1, epochs=1, sample=0, random_state=0)
FAST_LM = dict(hidden_size=4, embedding_size=4, sequence_length=8, max_epochs=1,
               early_stopping=False, random_state=0)

REGRESSORS = [ElmanRegressor, GRURegressor, LSTMRegressor, RNNRegressor, TDNNRegressor]
CLASSIFIERS = [ElmanClassifier, GRUClassifier, LSTMClassifier, RNNClassifier,
               TDNNClassifier]
SEQUENCE_ESTIMATORS = REGRESSORS + CLASSIFIERS
FORECASTERS = [LSTMForecaster, RNNForecaster]


def test_matrix_covers_every_public_estimator():
    covered = {Est.__name__ for Est in SEQUENCE_ESTIMATORS + FORECASTERS}
    covered |= {"SkipGramTransformer", "RNNLanguageModel"}
    public = {name for name in sklearn_rnn.__all__
              if isinstance(getattr(sklearn_rnn, name), type)}
    assert covered == public


ALL_ESTIMATORS = SEQUENCE_ESTIMATORS + FORECASTERS + [SkipGramTransformer, RNNLanguageModel]


@pytest.mark.parametrize("Est", ALL_ESTIMATORS, ids=lambda E: E.__name__)
def test_a_misspelt_parameter_names_the_class_and_the_closest_parameter(Est):
    # Most classes inherit __init__ from a private base, which Python's own error named.
    with pytest.raises(TypeError, match=rf"^{Est.__name__} got an unexpected keyword "
                                        r"argument 'random_stat'\. Did you mean "
                                        r"'random_state'\?"):
        Est(random_stat=0)
    with pytest.raises(TypeError, match=rf"^{Est.__name__}\(\): too many positional"):
        Est(*range(3))


# ---------------------------------------------------------------------- helpers
def _chain(exc):
    """The exception and the ones it was raised from (as a user's traceback shows)."""
    while exc is not None:
        yield exc
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)


def _assert_clear(exc):
    """A user-facing error: ValueError/TypeError/KeyError, never torch's own."""
    assert isinstance(exc, (ValueError, TypeError, KeyError)), repr(exc)
    assert not isinstance(exc, RuntimeError), repr(exc)
    for e in _chain(exc):
        assert "torch" not in type(e).__module__, repr(e)
        frames = traceback.extract_tb(e.__traceback__)
        assert frames and not frames[-1].filename.startswith(TORCH_DIR), (
            f"{e!r} was raised inside torch at {frames[-1].filename}:{frames[-1].lineno}")


def test_guard_rejects_errors_raised_inside_torch():
    try:
        torch.zeros(2, 3) @ torch.zeros(2, 3)
    except RuntimeError as exc:
        with pytest.raises(AssertionError):
            _assert_clear(exc)
    try:
        try:
            torch.nn.functional.embedding(torch.tensor([5]), torch.zeros(2, 2))
        except IndexError as inner:
            raise ValueError("wrapped") from inner
    except ValueError as exc:
        with pytest.raises(AssertionError, match="inside torch"):
            _assert_clear(exc)


def _raises(func, match, types=(ValueError, TypeError)):
    with pytest.raises(types, match=match) as info:
        func()
    _assert_clear(info.value)
    return info.value


def _finite(values):
    values = np.asarray(values, dtype=np.float64)
    assert np.isfinite(values).all(), values
    return values


def _bug(case, reason):
    return pytest.param(*case, marks=pytest.mark.xfail(strict=True, reason="BUG: " + reason),
                        id=case[0])


# ---------------------------------------------------------------------- data
N, T = 20, 6
RNG = np.random.default_rng(0)
X = RNG.normal(size=(N, T))
Y_REG = X.sum(axis=1)
Y_CLF = np.where(Y_REG > 0, "up", "down")


def _y(Est):
    return Y_CLF if Est in CLASSIFIERS else Y_REG


@functools.lru_cache(maxsize=None)
def _fitted(Est):
    return Est(**FAST).fit(X, _y(Est))


def _with(value, at=(0, 0), base=X):
    out = base.astype(object if isinstance(value, (str, bytes)) else np.float64)
    out[at] = value
    return out


def _ragged(*lengths, n_features=None):
    shape = (lambda n: (n,)) if n_features is None else (lambda n: (n, n_features))
    return [RNG.normal(size=shape(n)) for n in lengths] * (N // len(lengths))


def _ragged_with_nan():
    seqs = _ragged(5, 3, 4, 6)
    seqs[1] = seqs[1].copy()
    seqs[1][2] = np.nan
    return seqs


def _ragged_mixed_features():
    seqs = _ragged(5, 3, 4, 6, n_features=2)
    seqs[3] = RNG.normal(size=(6, 3))
    return seqs


# ------------------------------------------------- sequence regressors and classifiers
# (case id, X, y or None for the default target, message regex)
FIT_CASES = [
    ("nan", _with(np.nan), None, r"Input X contains NaN"),
    ("inf", _with(np.inf), None, r"Input X contains infinity"),
    ("-inf", _with(-np.inf), None, r"Input X contains infinity"),
    ("nan_in_ragged_list", _ragged_with_nan(), None, r"X\[1\] contains NaN"),
    ("empty_array", np.empty((0, T)), "empty", r"0 sample\(s\)"),
    ("empty_list", [], "empty", r"X is empty"),
    ("zero_timesteps_2d", np.empty((N, 0)), None, r"0 feature\(s\)"),
    ("zero_timesteps_3d", np.empty((N, 0, 2)), None, r"at least one time step"),
    ("zero_features_3d", np.empty((N, T, 0)), None, r"one feature"),
    ("1d", X[:, 0], None, r"Expected 2D array, got 1D array"),
    ("4d", X.reshape(N, 3, 2, 1), None, r"X has 4 dimensions \(shape \(20, 3, 2, 1\)\)"),
    ("ragged_with_length_0", _ragged(5, 3, 0, 4), None, r"X\[2\] is a sequence of length 0"),
    ("ragged_mixed_features", _ragged_mixed_features(), None,
     r"X\[3\] has 3 features per time step but X\[0\] has 2"),
    ("ragged_sparse_items", [sparse.csr_matrix(np.ones((3, 2)))] * N, None,
     r"X\[0\] is a sparse matrix"),
    ("ragged_time_step", [[[1.0, 2.0], [3.0]]] + [[[1.0, 2.0], [3.0, 4.0]]] * (N - 1), None,
     r"X\[0\] has time steps of \[1, 2\] values; each time step"),
    ("sparse_matrix", sparse.csr_matrix(X), None,
     r"X is a sparse matrix \(csr_matrix\); \w+ needs dense input \(call X.toarray\(\)\)"),
    ("sparse_array", sparse.coo_array(X), None, r"X is a sparse matrix \(coo_array\)"),
    ("ragged_3d_item", [np.zeros((3, 2, 2))] + _ragged(4, 5)[1:], None,
     r"X\[0\] has 3 dimensions; each sequence in a list must be 1-D"),
    ("inf_in_ragged_list", [np.full(4, np.inf) if i == 2 else s
                            for i, s in enumerate(_ragged(5, 3, 4))], None,
     r"X\[2\] contains infinity"),
    ("nan_in_ragged_float32_list", [np.array([1.0, np.nan], dtype=np.float32) if i == 1
                                    else s.astype(np.float32)
                                    for i, s in enumerate(_ragged(5, 3, 4))], None,
     r"X\[1\] contains NaN"),
    ("string", _with("abc"), None, r"could not convert string to float: 'abc'"),
    ("emoji", _with("\N{GRINNING FACE}"), None, r"could not convert string to float"),
    ("non_utf8_bytes", _with(b"\xff\xfe"), None, r"could not convert string to float"),
    ("y_nan", X, "nan", r"Input y contains NaN"),
    ("y_length", X, "short", r"inconsistent numbers of samples"),
    ("y_none", X, "none", r"requires y to be passed"),
]


DATES = pd.DataFrame({f"t{i}": pd.date_range("2000", periods=N) + pd.Timedelta(days=i)
                      for i in range(T)})
MORE_FIT_CASES = [
    ("datetime_frame", DATES, None, r"X has date/time columns \['t0'.*Turn them into numeric"),
    ("datetime_array_3d", DATES.to_numpy()[:, :, None], None, r"X holds date/time values"),
    ("datetime_ragged", [DATES.to_numpy()[i, : 3 + i % 2] for i in range(N)], None,
     r"X\[0\] holds date/time values"),
    ("datetime_objects_in_lists", [[np.datetime64("2020-01-01")] * T] * N, None,
     r"X holds date/time values \(datetime64\)"),
    ("datetime_duplicated_column", pd.concat([DATES[["t0"]], DATES[["t0"]]], axis=1), None,
     r"X has date/time columns \['t0', 't0'\]"),
    ("none_in_ragged_list", _ragged(5, 3, 4)[:1] + [None] + _ragged(5, 3, 4)[1:], None,
     r"X\[1\] is None, not a sequence"),
    ("none_in_ragged_series", pd.Series(_ragged(5, 3, 4)[:1] + [None] + _ragged(5, 3, 4)[1:],
                                        dtype=object), None,
     r"X\[1\] is None, not a sequence"),
]


@pytest.mark.parametrize("case, X_bad, y_kind, match", MORE_FIT_CASES,
                         ids=[c[0] for c in MORE_FIT_CASES])
@pytest.mark.parametrize("Est", SEQUENCE_ESTIMATORS, ids=lambda E: E.__name__)
def test_sequence_fit_rejects_dates_and_holes(Est, case, X_bad, y_kind, match):
    y = _y(Est)[:len(X_bad)]
    _raises(lambda: Est(**FAST).fit(X_bad, y), match)


BOOL_FOR_NUMBER = ["hidden_size", "batch_size", "n_threads", "patience", "clip_grad_norm",
                   "lr", "max_epochs", "target", "series_id"]
BOOL_CASES = [(Est, param) for Est in (GRURegressor, TDNNClassifier, LSTMForecaster,
                                       RNNLanguageModel)
              for param in BOOL_FOR_NUMBER if param in Est().get_params()]


@pytest.mark.parametrize("Est, param", BOOL_CASES,
                         ids=[f"{E.__name__}-{p}" for E, p in BOOL_CASES])
def test_a_bool_for_a_numeric_parameter_is_refused(Est, param):
    # bool is an int to scikit-learn's Interval: True would pass as 1 (or fail in torch).
    data = {LSTMForecaster: (SERIES, None), RNNLanguageModel: (["abc abd"] * 4, None)}
    X_fit, y_fit = data.get(Est, (X, _y(Est)))
    _raises(lambda: Est(**{**FAST_FORECAST, "lookback": 3} if Est is LSTMForecaster else FAST)
            .set_params(**{param: True}).fit(X_fit, y_fit),
            rf"The '{param}' parameter of {Est.__name__} must be a number .*not a bool; got True")


# Numbers past what torch holds (float32) or builds: a parameter error, not a bare
# "cannot be converted ... without overflow" (lr), a blamed hidden_size
# (forget_bias) or a build that never ends (num_layers).
HUGE_CASES = [("lr", 1e39, r"'lr' parameter .*range \(0\.0, 3\.40\d*e\+38\]"),
              ("weight_decay", 1e39, r"'weight_decay' parameter .*Got 1e\+39"),
              ("forget_bias", -1e39, r"'forget_bias' parameter .*Got -1e\+39"),
              ("num_layers", 10**9, r"'num_layers' parameter .*range \[1, 1000\]")]


@pytest.mark.parametrize("param, value, match", HUGE_CASES, ids=[c[0] for c in HUGE_CASES])
def test_numbers_past_float32_or_a_buildable_depth_are_parameter_errors(param, value, match):
    _raises(lambda: LSTMRegressor(**FAST).set_params(**{param: value}).fit(X, _y(LSTMRegressor)),
            match)


def test_skipgram_refuses_a_bool_for_a_numeric_parameter():
    with pytest.raises(ValueError, match="'vector_size' parameter .*not a bool"):
        SkipGramTransformer(vector_size=True).fit(TEXTS)


@pytest.mark.parametrize("Est", CLASSIFIERS, ids=lambda E: E.__name__)
def test_classifier_rejects_missing_labels_of_any_dtype(Est):
    for labels in (pd.Series(Y_CLF, dtype="str"), pd.Series(Y_CLF, dtype=object)):
        labels = labels.copy()
        labels[3] = None
        _raises(lambda: Est(**FAST).fit(X, labels),
                r"Input y contains NaN or None \(missing labels\) in 1 sample\(s\), e.g. at "
                r"position 3")


@pytest.mark.parametrize("Est", REGRESSORS, ids=lambda E: E.__name__)
def test_regressor_rejects_date_targets(Est):
    _raises(lambda: Est(**FAST).fit(X, pd.Series(pd.date_range("2000", periods=N))),
            r"y holds date/time values")
    _raises(lambda: Est(**FAST).fit(X, [np.datetime64("2020-01-01")] * N),
            r"y holds date/time values")


def test_scaling_never_overflows_near_the_float64_limit():
    # Scaled as x / scale - mean / scale: the scaled values are small, even where
    # x - mean would overflow.
    X_edge = np.full((20, 3), -1.5e308)
    X_edge[::2, 0] = 1.5e308
    model = GRURegressor(**FAST).fit(X_edge, Y_REG)
    _finite(model.predict(X_edge))


def _target(Est, kind):
    y = _y(Est)
    if kind is None:
        return y
    if kind == "empty":
        return y[:0]
    if kind == "nan":
        return np.where(Y_REG > 0, 1.0, np.nan)
    if kind == "short":
        return y[:-1]
    if kind == "none":
        return None
    raise AssertionError(kind)


@pytest.mark.parametrize("case, X_bad, y_kind, match", FIT_CASES, ids=[c[0] for c in FIT_CASES])
@pytest.mark.parametrize("Est", SEQUENCE_ESTIMATORS, ids=lambda E: E.__name__)
def test_sequence_fit_rejects_bad_input(Est, case, X_bad, y_kind, match):
    _raises(lambda: Est(**FAST).fit(X_bad, _target(Est, y_kind)), match)


PREDICT_CASES = [
    ("nan", _with(np.nan), r"Input X contains NaN"),
    ("inf", _with(np.inf), r"Input X contains infinity"),
    ("empty_array", np.empty((0, T)), r"0 sample\(s\)"),
    ("empty_list", [], r"X is empty"),
    ("1d", X[0], r"Expected 2D array, got 1D array"),
    ("4d", X.reshape(N, 3, 2, 1), r"X has 4 dimensions \(shape \(20, 3, 2, 1\)\)"),
    ("wrong_n_columns", X[:, :4], r"X has 4 features, but \w+ is expecting 6 features"),
    ("wrong_step_features_3d", np.zeros((N, T, 2)),
     r"X has 2 feature\(s\) per time step, but \w+ was fitted with 1"),
    ("ragged_with_length_0", _ragged(5, 3, 0, 4), r"X\[2\] is a sequence of length 0"),
    ("string", _with("abc"), r"could not convert string to float: 'abc'"),
    ("emoji", _with("\N{CAT FACE}"), r"could not convert string to float"),
    ("non_utf8_bytes", _with(b"\xff\xfe"), r"could not convert string to float"),
    ("too_large_for_float32", X * 1e300, r"values too large for the network's float32"),
]


@pytest.mark.parametrize("case, X_bad, match", PREDICT_CASES, ids=[c[0] for c in PREDICT_CASES])
@pytest.mark.parametrize("Est", SEQUENCE_ESTIMATORS, ids=lambda E: E.__name__)
def test_sequence_predict_rejects_bad_input(Est, case, X_bad, match):
    model = _fitted(Est)
    _raises(lambda: model.predict(X_bad), match)
    if Est in CLASSIFIERS:
        _raises(lambda: model.predict_proba(X_bad), match)
    else:
        _raises(lambda: model.score(X_bad, Y_REG), match)


@pytest.mark.parametrize("Est", REGRESSORS, ids=lambda E: E.__name__)
def test_regressor_rejects_bad_targets(Est):
    _raises(lambda: Est(**FAST).fit(X, np.where(Y_REG > 0, 1.0, np.inf)),
            r"Input y contains infinity")
    _raises(lambda: Est(**FAST).fit(X, Y_CLF), r"could not convert string to float")
    _raises(lambda: Est(**FAST).fit(X, np.zeros((N, 2, 2))),
            r"y has 3 dimensions; expected \(n_samples,\) or \(n_samples, n_outputs\)")


@pytest.mark.parametrize("Est", CLASSIFIERS, ids=lambda E: E.__name__)
def test_classifier_rejects_bad_targets(Est):
    _raises(lambda: Est(**FAST).fit(X, np.full(N, "up")), r"at least 2 classes")
    _raises(lambda: Est(**FAST).fit(X, Y_REG), r"Unknown label type: continuous")
    model = _fitted(Est)
    _raises(lambda: model.partial_fit(X, np.where(Y_REG > 0, "up", "sideways")),
            r"labels \['sideways'\] not among the classes")
    _raises(lambda: model.partial_fit(X, Y_CLF, classes=["down", "up", "sideways"]),
            r"classes=\['down', 'up', 'sideways'\] is not the same as in the first fit")
    Est(**FAST).fit(X, Y_CLF).partial_fit(X, Y_CLF, classes=["up", "down"])  # the same: fine
    # Labels of every length are checked before the labels themselves.
    _raises(lambda: Est(**FAST).fit(X, np.zeros(5)),
            r"inconsistent numbers of samples: \[20, 5\]")


@pytest.mark.parametrize("classes, match", [
    ([0, 1, np.nan], r"Input contains NaN"),
    (np.array([0, 1, np.nan]), r"Input classes contains NaN or None \(missing labels\) in 1 "
                               r"entries, e.g. at position 2"),
    ([0, 1, 2.5], r"Unknown label type"),
    (["down", "up", 1], r"Mix of label input types \(string and number\)"),
    ([["down", "up"], ["up", "down"]], r"classes must be 1-D, one entry a class; got shape "
                                       r"\(2, 2\)"),
    ({"down", "up"}, r"classes must be an array-like of class labels \(a list or an array\); "
                     r"got set"),
    ([], r"classes must name at least 2 classes \(all those y will ever hold\); got \[\]"),
    (["up"], r"classes must name at least 2 classes"),
], ids=["nan-list", "nan-array", "fractional", "mixed", "2-D", "set", "empty", "one"])
def test_partial_fit_checks_its_classes(classes, match):
    _raises(lambda: GRUClassifier(**FAST).partial_fit(X, Y_CLF, classes=classes), match)


SAMPLE_WEIGHT_CASES = [
    ("wrong_length", np.ones(N - 1), r"sample_weight.shape == \(19,\), expected \(20,\)"),
    ("2d", np.ones((N, 2)), r"Sample weights must be 1D array or scalar"),
    ("negative", np.r_[-1.0, np.ones(N - 1)], r"Negative values in data passed to `sample_weight`"),
    ("nan", np.r_[np.nan, np.ones(N - 1)], r"Input sample_weight contains NaN"),
    ("inf", np.r_[np.inf, np.ones(N - 1)], r"Input sample_weight contains infinity"),
    ("all_zero", np.zeros(N), r"Sample weights must contain at least one non-zero number"),
    ("strings", np.array(["heavy"] * N), r"sample_weight must be numbers, one per sample"),
]


@pytest.mark.parametrize("case, weight, match", SAMPLE_WEIGHT_CASES,
                         ids=[c[0] for c in SAMPLE_WEIGHT_CASES])
@pytest.mark.parametrize("Est", SEQUENCE_ESTIMATORS, ids=lambda E: E.__name__)
def test_sequence_fit_rejects_bad_sample_weight(Est, case, weight, match):
    _raises(lambda: Est(**FAST).fit(X, _y(Est), sample_weight=weight), match)
    _raises(lambda: Est(**FAST).partial_fit(X, _y(Est), sample_weight=weight), match)


@pytest.mark.parametrize("Est", CLASSIFIERS, ids=lambda E: E.__name__)
def test_classifier_rejects_bad_class_weight(Est):
    fit = lambda **params: Est(**FAST, **params).fit(X, Y_CLF)  # noqa: E731
    _raises(lambda: fit(class_weight={"sideways": 2.0}),
            r"class_weight names \['sideways'\], which are not classes, and leaves out the "
            r"classes \['down', 'up'\]; the classes are \['down', 'up'\]")
    _raises(lambda: fit(class_weight={"up": -1.0}), r"class_weight must be finite and non-negative")
    _raises(lambda: fit(class_weight={"up": np.inf}), r"class_weight must be finite")
    _raises(lambda: fit(class_weight={"up": "x", "down": 1}),
            r"class_weight must map each class to a number \(its weight\); got \{'up': 'x'\}")
    _raises(lambda: fit(class_weight="equal"), r"'class_weight' parameter of \w+ must be None")
    _raises(lambda: fit(class_weight={"up": 0.0, "down": 0.0}),
            r"class_weight and sample_weight leave no sample with a non-zero weight")
    _raises(lambda: Est(**FAST, class_weight="balanced").partial_fit(X, Y_CLF),
            r"class_weight='balanced' is not supported by partial_fit")


# Huge but representable values: standardisation (scale_inputs=True, and the
# targets always) brings them back to unit scale, so predictions are finite.
@pytest.mark.parametrize("Est", SEQUENCE_ESTIMATORS, ids=lambda E: E.__name__)
def test_huge_inputs_give_finite_predictions(Est):
    model = Est(**FAST).fit(X * 1e30, _y(Est))
    _finite(model.predict(X * 1e30) if Est in REGRESSORS else model.predict_proba(X * 1e30))
    # Fitted on ordinary data, huge values at predict time still give finite output.
    fitted = _fitted(Est)
    for scale in (1e30, 1e38):
        _finite(fitted.predict(X * scale) if Est in REGRESSORS
                else fitted.predict_proba(X * scale))


_NOSCALE_PARAMS = [pytest.param(Est, id=Est.__name__) for Est in SEQUENCE_ESTIMATORS]


@pytest.mark.parametrize("Est", _NOSCALE_PARAMS)
def test_huge_unscaled_inputs_finite_or_clear_error(Est):
    """Without input scaling, huge inputs must still give finite predictions, or fit
    must say that training produced non-finite weights - never silent NaN."""
    try:
        model = Est(**{**FAST, "scale_inputs": False}).fit(X * 1e30, _y(Est))
    except (ValueError, FloatingPointError) as exc:
        _assert_clear(exc)
        assert "finite" in str(exc) or "large" in str(exc)
        return
    _finite(model.predict(X * 1e30) if Est in REGRESSORS else model.predict_proba(X * 1e30))


@pytest.mark.parametrize("Est", SEQUENCE_ESTIMATORS, ids=lambda E: E.__name__)
def test_inputs_are_scaled_in_float64_before_the_cast_to_float32(Est):
    # Values beyond float32, or a large offset that float32 would round away
    # (1e8 + x: float32 keeps about 7 digits), train as the plain values do.
    y, model = _y(Est), Est(**FAST)
    plain = clone(model).fit(X, y)
    for big in (X * 1e300, X + 1e8):
        with np.errstate(over="ignore"):  # float32 would lose them
            assert np.unique(big.astype(np.float32)).size < X.size / 2 or np.isinf(
                big.astype(np.float32)).all()
        np.testing.assert_allclose(_scores(clone(model).fit(big, y), big),
                                   _scores(plain, X), rtol=1e-4, atol=1e-5)
    _raises(lambda: clone(model).set_params(scale_inputs=False).fit(X * 1e300, y),
            r"values too large for the network's float32 after scaling.*scale_inputs")


def _scores(model, X):
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


@pytest.mark.parametrize("Est", REGRESSORS, ids=lambda E: E.__name__)
def test_huge_targets_give_finite_predictions(Est):
    pred = _finite(Est(**FAST).fit(X, Y_REG * 1e30).predict(X))
    assert np.abs(pred).max() > 1e28  # predictions on the target's scale


@pytest.mark.parametrize("Est", REGRESSORS, ids=lambda E: E.__name__)
def test_targets_near_float64_max_finite_or_clear_error(Est):
    try:
        model = Est(**FAST).fit(X, Y_REG * 1e300)
    except ValueError as exc:
        _assert_clear(exc)
        return
    _finite(model.predict(X))


@pytest.mark.parametrize("Est", REGRESSORS, ids=lambda E: E.__name__)
def test_training_on_targets_beyond_float32_at_the_fitted_scale_is_refused(Est):
    # They became inf in float32, so the first loss was inf: a warning, no training.
    model = Est(**FAST).fit(X, Y_REG)
    _raises(lambda: model.partial_fit(X, Y_REG * 1e45),
            r"y has values too large for the network's float32 after scaling with the "
            r"statistics of the first fit")
    assert model.n_iter_ == 1


# Unseen class labels at score time: score is sklearn's accuracy_score of predict,
# which counts a label the model never saw as a wrong prediction (as for any sklearn
# classifier); labels of another type than classes_ are a clear ValueError.
@pytest.mark.parametrize("Est", CLASSIFIERS, ids=lambda E: E.__name__)
def test_classifier_score_with_unseen_labels(Est):
    model = _fitted(Est)
    y_true = np.where(np.arange(N) < N // 2, Y_CLF, "never-seen")
    score = model.score(X, y_true)
    assert score == pytest.approx(accuracy_score(y_true, model.predict(X)))
    assert score <= 0.5
    assert model.score(X, np.full(N, "never-seen")) == 0.0
    _raises(lambda: model.score(X, np.arange(N) % 2), r"Mix of label input types")


# ---------------------------------------------------------------------- forecasters
S_TIME = np.arange(40.0)
SERIES = np.sin(S_TIME / 3)
FRAME = pd.DataFrame({"y": SERIES, "c": np.cos(S_TIME)})
FUTURE = pd.DataFrame({"c": [0.1, 0.2, 0.3]}, index=[40, 41, 42])


def _with_series(value, at=3):
    out = SERIES.astype(object if isinstance(value, str) else np.float64)
    out[at] = value
    return out


FORECAST_FIT_CASES = [
    # (case id, params, X, y, message regex)
    ("target_nan", {}, _with_series(np.nan), None, r"target has NaN or infinite values"),
    ("target_inf", {}, _with_series(np.inf), None, r"target has NaN or infinite values"),
    ("covariate_nan", {"target": "y"}, FRAME.assign(c=np.where(S_TIME == 3, np.nan, FRAME.c)),
     None, r"Covariates have NaN or infinite values"),
    ("covariate_inf", {}, np.where(S_TIME == 3, np.inf, FRAME.c)[:, None], SERIES,
     r"Covariates have NaN or infinite values"),
    ("empty_array", {}, np.array([]), None, r"X is empty"),
    ("empty_series", {}, pd.Series([], dtype=float), None, r"X is empty"),
    ("empty_frame", {"target": "y"}, FRAME.iloc[:0], None, r"X is empty"),
    ("3d", {}, np.zeros((40, 2, 2)), SERIES, r"X has 3 dimension"),
    ("too_few_rows", {}, SERIES[:3], None, r"Too few rows \(n_samples=3\)"),
    ("string_target", {}, pd.Series(["a"] * 40), None, r"target must be numeric"),
    ("emoji_target", {}, np.array(["\N{GRINNING FACE}"] * 40), None, r"target must be numeric"),
    ("string_in_target", {}, _with_series("abc"), None, r"target must be numeric"),
    ("string_covariate_column", {"target": "y"}, FRAME.assign(c="x"), None,
     r"Covariate columns must be numeric"),
    ("object_covariate_array", {}, np.array([["x"]] * 40, dtype=object), SERIES,
     r"Covariates must be numeric \(or boolean\); X holds text"),
    ("y_length", {}, FRAME[["c"]].to_numpy(), SERIES[:-1], r"X has 40 rows but y has 39"),
    ("missing_target_column", {"target": "nope"}, FRAME, None,
     r"target='nope' is not a column of X"),
    ("number_strings_target", {}, pd.Series(SERIES.astype(str)), None,
     r"target must be numeric; got values of type 'string'"),
    ("datetime_covariate", {"target": "y"},
     FRAME.assign(c=pd.date_range("2000", periods=40)), None,
     r"Covariate columns must be.*A column of time stamps is the time index: "
     r"X.set_index\('c'\)"),
    ("datetime_covariate_array", {}, pd.date_range("2000", periods=40).to_numpy()[:, None],
     SERIES, r"X holds date/time values"),
    ("duplicated_columns", {"target": "y"},
     pd.DataFrame(np.c_[SERIES, SERIES, SERIES], columns=["y", "c", "c"]), None,
     r"duplicated column names \['c'\]"),
    ("series_id_is_target", {"target": "y", "series_id": "y"}, FRAME, None,
     r"series_id='y' and target='y' name the same column"),
    ("multiindex_rows", {"target": "y"},
     pd.concat({"a": FRAME, "b": FRAME}, names=["sid", "t"]), None,
     r"MultiIndex \['sid', 't'\].*reset_index\(\).*series_id"),
    ("tuple_series_ids", {"target": "y", "series_id": "id"},
     FRAME.assign(id=[("a", 1)] * 20 + [("b", 2)] * 20), None,
     r"series_id column 'id' holds sequences \(e.g. \('a', 1\)\)"),
    ("one_list_id_late", {"target": "y", "series_id": "id"},
     FRAME.assign(id=["a"] * 39 + [["b"]]), None,
     r"series_id column 'id' holds sequences \(e.g. \['b'\]\)"),
    ("duplicated_quantiles", {"loss": "quantile", "quantiles": [0.5, 0.5]}, SERIES, None,
     r"quantiles must be a non-empty list of distinct numbers"),
    # Checked with any loss: a NaN quantile once made every later predict refuse.
    ("nan_quantile_default_loss", {"quantiles": (np.nan,)}, SERIES, None,
     r"quantiles must be a non-empty list of distinct numbers .*got \(nan,\)"),
    ("poisson_negative_target", {"loss": "poisson"}, SERIES, None,
     r"loss='poisson' needs a non-negative target; got values down to -0.99"),
]


@pytest.mark.parametrize("case, params, X_bad, y, match", FORECAST_FIT_CASES,
                         ids=[c[0] for c in FORECAST_FIT_CASES])
@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_fit_rejects_bad_input(Est, case, params, X_bad, y, match):
    _raises(lambda: Est(**FAST_FORECAST, **params).fit(X_bad, y), match)


@pytest.mark.parametrize("case, weight, match", SAMPLE_WEIGHT_CASES,
                         ids=[c[0] for c in SAMPLE_WEIGHT_CASES])
@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_fit_rejects_bad_sample_weight(Est, case, weight, match):
    # One weight per row: SERIES has 40 rows, the sequence cases are built for 20.
    weight = np.resize(weight, (40,) + weight.shape[1:]) if case != "wrong_length" else weight
    if case == "wrong_length":
        match = r"sample_weight.shape == \(19,\), expected \(40,\)"
    _raises(lambda: Est(**FAST_FORECAST).fit(SERIES, sample_weight=weight), match)
    _raises(lambda: Est(**FAST_FORECAST).partial_fit(SERIES, sample_weight=weight), match)


@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_training_again_checks_the_target_as_the_first_fit(Est):
    # partial_fit and a warm start read the target as a first fit does: a NaN,
    # a missing target column or a negative count for Poisson is an error, not a
    # model that trains on it (or forecasts NaN from a NaN origin).
    model = Est(target="y", **FAST_FORECAST).fit(FRAME)
    bad = FRAME.assign(y=np.where(S_TIME == 39, np.nan, SERIES))
    for train in (model.partial_fit, clone(model).set_params(warm_start=True).fit):
        _raises(lambda: train(bad), r"target has NaN or infinite values .*position 39")
        _raises(lambda: train(FRAME[["c"]]), r"target='y' is not a column of X")
    counts = Est(loss="poisson", **FAST_FORECAST).fit(SERIES + 1)
    for train in (counts.partial_fit, clone(counts).set_params(warm_start=True).fit):
        _raises(lambda: train(SERIES), r"loss='poisson' needs a non-negative target")
    _raises(lambda: counts.update(np.array([-5.0])), r"needs a non-negative target")


@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_predict_never_reads_a_placeholder_target_column(Est):
    model = _fitted_forecaster(Est, "covariates")
    expected = model.predict(FUTURE)
    for placeholder in (pd.NA, "unknown", None):
        rows = FUTURE.assign(y=placeholder)[["y", "c"]]
        pd.testing.assert_series_equal(model.predict(rows), expected)
    _raises(lambda: model.score(FUTURE.assign(y=pd.NA)), r"target must be numeric")
    _raises(lambda: mase_scorer(model, FUTURE.assign(y=[1.0, np.nan, 2])),
            r"target has NaN")


@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_boolean_covariates_are_numbers(Est):
    flags = FRAME.assign(c=FRAME.c > 0)
    as_bool = Est(target="y", **FAST_FORECAST).fit(flags)
    as_float = Est(target="y", **FAST_FORECAST).fit(flags.astype({"c": float}))
    future = FUTURE.assign(c=[True, False, True])
    np.testing.assert_array_equal(as_bool.predict(future),
                                  as_float.predict(future.astype(float)))
    nullable = Est(target="y", **FAST_FORECAST).fit(flags.astype({"c": "boolean"}))
    np.testing.assert_array_equal(nullable.predict(future), as_bool.predict(future))
    numbers_as_objects = Est(target="y", **FAST_FORECAST).fit(
        flags.astype({"c": float}).astype({"c": object}))
    np.testing.assert_array_equal(numbers_as_objects.predict(future.astype(float)),
                                  as_float.predict(future.astype(float)))


@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_target_column_needs_a_frame(Est):
    """A column name cannot be read from an array (a Pipeline's scaler output):
    refused, not ignored -- with y given, the target was read as covariate 0."""
    arrays = r"target=.y. names a column of a DataFrame X, but X \(a ndarray\) has no named"
    model = Est(target="y", **FAST_FORECAST)
    _raises(lambda: make_pipeline(StandardScaler(), model).fit(FRAME), arrays)
    _raises(lambda: model.fit(FRAME[["c"]].to_numpy(), FRAME["y"]), arrays)
    _raises(lambda: model.fit(FRAME["c"]), r"Series named 'c', read as the target .*'y'")
    fitted = model.fit(FRAME)
    # Afterwards an array holds the covariates alone (the target column is no covariate).
    np.testing.assert_array_equal(fitted.predict(FUTURE.to_numpy()), fitted.predict(FUTURE))
    _raises(lambda: fitted.predict(FUTURE.assign(y=0.0)[["y", "c"]].to_numpy()),
            r"X has 2 features, but \w+ is expecting 1 .*An array holds the covariates \['c'\] "
            r"alone; pass a DataFrame")
    # The target column alone (named or not) is the target series.
    np.testing.assert_array_equal(Est(target="y", **FAST_FORECAST).fit(FRAME["y"]).forecast(2),
                                  Est(**FAST_FORECAST).fit(SERIES).forecast(2))
    make_pipeline(StandardScaler(), model).set_output(transform="pandas").fit(FRAME)


@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_refit_forgets_the_old_target_name(Est):
    model = Est(**FAST_FORECAST).fit(pd.Series(SERIES, name="sales"))
    assert model.forecast(1).name == "sales"
    model.fit(np.zeros((40, 0)), SERIES)
    assert model.forecast(1).name is None


@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecast_refuses_an_irregular_number_index(Est):
    # Steps of 1 and one of 1.5: on no grid (a grid that skips steps has one).
    irregular = pd.Series(SERIES, index=np.r_[0:20, 20.5:40.5])
    model = Est(**FAST_FORECAST).fit(irregular)
    _raises(lambda: model.forecast(2), r"numbers without a regular step \(it ends at 39\.5\)")


@functools.lru_cache(maxsize=None)
def _fitted_forecaster(Est, kind):
    if kind == "covariates":
        return Est(target="y", **FAST_FORECAST).fit(FRAME)
    if kind == "panel":
        panel = pd.DataFrame({"id": ["a"] * 20 + ["b"] * 20, "y": SERIES,
                              "t": np.r_[S_TIME[:20], S_TIME[:20]]}).set_index("t")
        return Est(target="y", series_id="id", **FAST_FORECAST).fit(panel)
    return Est(**FAST_FORECAST).fit(SERIES)


FORECAST_PREDICT_CASES = [
    # (case id, fitted kind, X, message regex)
    ("covariate_nan", "covariates", FUTURE.assign(c=[0.1, np.nan, 0.3]),
     r"Covariates have NaN or infinite values"),
    ("covariate_inf", "covariates", FUTURE.assign(c=[0.1, np.inf, 0.3]),
     r"Covariates have NaN or infinite values"),
    ("empty_frame", "covariates", FUTURE.iloc[:0], r"X is empty"),
    ("empty_array", "univariate", np.zeros((0, 0)), r"0 sample\(s\)"),
    ("3d", "univariate", np.zeros((3, 1, 1)), r"X has 3 dimension"),
    ("extra_covariate", "covariates", FUTURE.assign(d=1.0),
     r"X has covariate columns \['c', 'd'\], but \w+ was fitted with \['c'\]"),
    ("string_covariate", "covariates", FUTURE.assign(c="x"), r"Covariate columns must be numeric"),
    ("1d_to_covariate_model", "covariates", np.zeros(3), r"fitted with 1 covariate"),
    ("rows_not_after_fit", "covariates", FUTURE.set_axis([0, 1, 2]),
     r"start at .*0\)?, but the fitted data ends at 39"),
    ("unseen_series", "panel", pd.DataFrame({"id": ["zzz"], "y": [0.0]}, index=[99]),
     r"Series \['zzz'\] were not seen in fit"),
    # The array path refuses what the frame path refuses (numpy's messages before).
    ("string_array", "covariates", np.array([["x"], ["y"], ["z"]]),
     r"Covariates must be numeric \(or boolean\); X holds text"),
    ("numeric_string_array", "covariates", np.array([["1"], ["2"], ["3"]]),
     r"Covariates must be numeric \(or boolean\); X holds text"),
    ("ragged_rows", "covariates", [[1.0], [1.0, 2.0], [3.0]], r"X has rows of different lengths"),
    ("an_index_alone", "univariate", pd.RangeIndex(40, 43), r"X is a pandas RangeIndex"),
]


@pytest.mark.parametrize("case, kind, X_bad, match", FORECAST_PREDICT_CASES,
                         ids=[c[0] for c in FORECAST_PREDICT_CASES])
@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_predict_rejects_bad_input(Est, case, kind, X_bad, match):
    _raises(lambda: _fitted_forecaster(Est, kind).predict(X_bad), match)


@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_score_and_update_reject_missing_targets(Est):
    model = _fitted_forecaster(Est, "covariates")
    rows = FUTURE.assign(y=[1.0, np.nan, 2.0])
    _raises(lambda: model.score(rows), r"NaN")
    _raises(lambda: model.update(rows), r"observed target values .*no NaN")
    _raises(lambda: model.score(FUTURE), r"score needs the true target values")


@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_huge_values_give_finite_forecasts(Est):
    forecast = _finite(Est(**FAST_FORECAST).fit(SERIES * 1e30).forecast(3))
    assert np.abs(forecast).max() > 1e28  # on the target's scale
    # Unscaled, the squared loss of 1e30-sized errors overflows float32: training must
    # stop with a clear error (or, if it trains, forecast finite values).
    try:
        _finite(Est(**FAST_FORECAST, scale_inputs=False).fit(SERIES * 1e30).forecast(3))
    except ValueError as exc:
        _assert_clear(exc)
        assert "too large" in str(exc)
    model = _fitted_forecaster(Est, "covariates")
    for scale in (1e30, 1e38):
        _finite(model.predict(FUTURE * scale))


_RNG2 = np.random.default_rng(1)
TWO_COVARIATES = pd.DataFrame({"y": SERIES, "a": _RNG2.normal(size=40),
                               "b": _RNG2.normal(size=40)})
HUGE_FUTURE = pd.DataFrame({"a": [1e300, -1e300, 1e300], "b": [-1e300, 1e300, 1e300]},
                           index=[40, 41, 42])


@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_covariates_beyond_float32_finite_or_clear_error(Est):
    model = Est(target="y", **FAST_FORECAST).fit(TWO_COVARIATES)
    try:
        forecast = model.predict(HUGE_FUTURE)
    except ValueError as exc:
        _assert_clear(exc)
        assert "large" in str(exc) or "infin" in str(exc)
        return
    _finite(forecast)


@pytest.mark.parametrize("Est", FORECASTERS, ids=lambda E: E.__name__)
def test_forecaster_target_near_float64_max_finite_or_clear_error(Est):
    try:
        model = Est(**FAST_FORECAST).fit(SERIES * 1e300)
    except ValueError as exc:
        _assert_clear(exc)
        return
    _finite(model.forecast(3))


# ---------------------------------------------------------------------- SkipGramTransformer
TEXTS = ["the cat sat on the mat", "the dog sat on the log"] * 10


@functools.lru_cache(maxsize=None)
def _skipgram():
    return SkipGramTransformer(**FAST_SKIPGRAM).fit(TEXTS)


SKIPGRAM_FIT_CASES = [
    ("empty_list", [], r"corpus is empty"),
    ("only_empty_documents", ["", "  ", "\n"], r"No word appears at least min_count=1 times"),
    ("only_emoji", ["\N{GRINNING FACE} \N{CAT FACE}"] * 3, r"No word appears"),
    ("non_utf8_bytes", TEXTS + [b"caf\xe9 \xff"], r"Document 20 is bytes that are not valid UTF-8"),
    ("nan_document", TEXTS + [np.nan], r"Document 20 is float nan; expected a string"),
    ("none_document", TEXTS + [None], r"Document 20 is NoneType"),
    ("numbers", np.arange(5.0), r"Document 0 is float64 .*expected a string"),
    ("2d_numbers", np.zeros((5, 3)), r"X has shape \(5, 3\); expected one column of text"),
    ("2d_text", np.array([["a", "b"]] * 5), r"expected one column of text"),
    ("3d", np.array([[["a"]]] * 5), r"expected one column of text"),
    ("two_column_frame", pd.DataFrame({"a": TEXTS, "b": TEXTS}), r"one text column"),
    ("single_string", "the cat sat", r"not a single string"),
    ("none", None, r"iterable of documents, got NoneType"),
    ("mixed_token_list", [["the", 1]], r"expected a string or a list of string tokens"),
]


@pytest.mark.parametrize("case, X_bad, match", SKIPGRAM_FIT_CASES,
                         ids=[c[0] for c in SKIPGRAM_FIT_CASES])
def test_skipgram_fit_rejects_bad_input(case, X_bad, match):
    _raises(lambda: SkipGramTransformer(**FAST_SKIPGRAM).fit(X_bad), match)


SKIPGRAM_TRANSFORM_CASES = [
    ("non_utf8_bytes", [b"caf\xe9 \xff"], r"Document 0 is bytes that are not valid UTF-8"),
    ("nan_document", pd.Series(["the cat", None]), r"Document 1 is float nan"),
    ("numbers", np.arange(3.0), r"expected a string"),
    ("2d_text", np.array([["a", "b"]] * 5), r"expected one column of text"),
    ("two_column_frame", pd.DataFrame({"a": TEXTS, "b": TEXTS}), r"one text column"),
    ("single_string", "the cat", r"not a single string"),
]


@pytest.mark.parametrize("case, X_bad, match", SKIPGRAM_TRANSFORM_CASES,
                         ids=[c[0] for c in SKIPGRAM_TRANSFORM_CASES])
def test_skipgram_transform_rejects_bad_input(case, X_bad, match):
    _raises(lambda: _skipgram().transform(X_bad), match)


def test_skipgram_empty_documents_are_zero_rows():
    sg = _skipgram()
    out = sg.transform(["", "the cat", "   ", "unknown words only", "\N{CAT FACE}"])
    assert out.shape == (5, 4)
    assert not out[[0, 2, 3, 4]].any() and out[1].any()
    assert sg.transform([]).shape == (0, 4)
    # An empty document inside the training corpus is fine.
    fitted = SkipGramTransformer(**FAST_SKIPGRAM).fit(["the cat", "", "the dog"])
    assert not fitted.transform([""]).any()
    strict = SkipGramTransformer(**FAST_SKIPGRAM, empty="error").fit(TEXTS)
    _raises(lambda: strict.transform(["the cat", ""]), r"Documents \[1\] have no word")


@pytest.mark.parametrize("corpus", [
    pytest.param(TEXTS + [""], id="empty_last_document"),
    pytest.param(TEXTS + ["the cat", "   "], id="blank_last_document"),
    pytest.param(TEXTS + ["\N{CAT FACE}\N{CAT FACE}"], id="emoji_only_last_document"),
])
def test_skipgram_fit_with_empty_last_document(corpus):
    sg = SkipGramTransformer(**FAST_SKIPGRAM).fit(corpus)
    assert not sg.transform([""]).any()


def test_skipgram_emoji_and_utf8_bytes_are_fine():
    sg = _skipgram()
    # Valid UTF-8 bytes are decoded.
    np.testing.assert_array_equal(sg.transform(["the cat".encode()]), sg.transform(["the cat"]))
    # The default tokenizer keeps word characters: emoji are skipped, words kept.
    fitted = SkipGramTransformer(**FAST_SKIPGRAM).fit(
        TEXTS + ["\N{GRINNING FACE} the cat \N{THUMBS UP SIGN}\N{EMOJI MODIFIER FITZPATRICK TYPE-4}",
                 "caf\N{LATIN SMALL LETTER E WITH ACUTE} na\u00efve"])
    assert "caf\u00e9" in fitted.vocabulary_
    np.testing.assert_array_equal(fitted.transform(["\N{GRINNING FACE} cat"]),
                                  fitted.transform(["cat"]))
    # A whitespace tokenizer makes emoji words with vectors of their own.
    emoji = SkipGramTransformer(**FAST_SKIPGRAM, tokenizer=str.split).fit(
        TEXTS + ["\N{GRINNING FACE} \N{CAT FACE} the cat"])
    assert "\N{CAT FACE}" in emoji.vocabulary_
    assert _finite(emoji.transform(["\N{CAT FACE}"])).any()


# ---------------------------------------------------------------------- RNNLanguageModel
@functools.lru_cache(maxsize=None)
def _language_model():
    return RNNLanguageModel(**FAST_LM).fit(TEXTS)


LM_CASES = [
    # (case id, method, X, message regex)
    ("empty_list", "fit", [], r"fit got no texts"),
    ("only_empty_texts", "fit", ["", ""], r"only empty texts"),
    ("non_utf8_bytes", "fit", TEXTS + [b"caf\xe9"], r"takes texts as str; item 20 is bytes"),
    ("utf8_bytes", "fit", [b"cat"], r"takes texts as str; item 0 is bytes"),
    ("nan_text", "fit", TEXTS + [np.nan], r"item 20 is float"),
    ("numbers", "fit", np.arange(5), r"takes texts as str"),
    ("2d", "fit", np.array([TEXTS, TEXTS]), r"1-D collection of texts; got an array of shape"),
    ("single_string", "fit", "hello", r"got a single str of length 5"),
    ("frame", "fit", pd.DataFrame({"a": TEXTS}), r"got a DataFrame"),
    ("none", "fit", None, r"iterable of texts \(str\); got NoneType"),
    ("partial_fit_empty_list", "partial_fit", [], r"RNNLanguageModel.partial_fit got no texts"),
    ("partial_fit_only_empty_texts", "partial_fit", ["", ""],
     r"RNNLanguageModel.partial_fit got only empty texts"),
    ("partial_fit_number", "partial_fit", [1], r"RNNLanguageModel.partial_fit takes texts"),
    ("score_empty_list", "score", [], r"score got no texts"),
    ("score_non_utf8_bytes", "score", [b"caf\xe9"], r"takes texts as str; item 0 is bytes"),
    ("score_none_text", "score", ["a", None], r"item 1 is NoneType"),
    ("complete_unseen_emoji", "complete", "\N{CAT FACE}", r"not in the vocabulary"),
    ("complete_bytes", "complete", [b"the"], r"takes texts as str"),
]


@pytest.mark.parametrize("case, method, X_bad, match", LM_CASES, ids=[c[0] for c in LM_CASES])
def test_language_model_rejects_bad_input(case, method, X_bad, match):
    if method in ("fit", "partial_fit"):
        _raises(lambda: getattr(RNNLanguageModel(**FAST_LM), method)(X_bad), match)
    else:
        _raises(lambda: getattr(_language_model(), method)(X_bad), match)


def test_language_model_empty_texts_emoji_and_unseen_characters():
    lm = _language_model()
    # An empty text is one token (its end): a finite score.
    assert np.isfinite(lm.score([""]))
    assert lm.complete([], max_length=3) == []
    # Unseen characters (emoji, lone surrogates from surrogateescape) score as the
    # unknown token: finite, and worse than the known characters.
    unseen = lm.score(["\N{CAT FACE}\N{CAT FACE}\N{CAT FACE}"])
    assert np.isfinite(unseen) and unseen < lm.score(["the cat"])
    assert np.isfinite(lm.score(["caf\udce9"]))
    # Training texts may hold empty texts and emoji.
    emoji = RNNLanguageModel(**FAST_LM).fit(
        TEXTS + ["", "\N{GRINNING FACE} \N{THUMBS UP SIGN}\N{EMOJI MODIFIER FITZPATRICK TYPE-4}"])
    assert "\N{GRINNING FACE}" in emoji.vocabulary_
    assert np.isfinite(emoji.score(["\N{GRINNING FACE}", ""]))
    assert isinstance(emoji.complete("\N{GRINNING FACE}", max_length=4, random_state=0), str)


# ------------------------------------------------- weights, threads, sizes (audit)
def test_all_zero_weights_in_a_part_of_the_early_stopping_split_are_an_error():
    # All zero counted as "all equal", so that part trained (or validated) unweighted.
    X3 = np.random.default_rng(0).normal(size=(20, 6))
    y = np.array(["a"] * 10 + ["b"] * 9 + ["c"])
    model = GRUClassifier(**{**FAST, "early_stopping": True, "random_state": 4},
                          class_weight={"a": 0, "b": 0})
    _raises(lambda: model.fit(X3, y), r"no sample with a non-zero weight in the (training|"
                                      r"validation) part of the early-stopping split")


@pytest.mark.parametrize("Est", [GRURegressor, TDNNRegressor], ids=lambda E: E.__name__)
def test_only_relative_weights_matter_even_near_the_float64_limit(Est):
    w = np.r_[np.full(len(X) // 2, 2.0), np.ones(len(X) - len(X) // 2)]
    a = Est(**FAST).fit(X, Y_REG, sample_weight=w)
    b = Est(**FAST).fit(X, Y_REG, sample_weight=w * 1e307)   # sums overflowed to inf
    np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("value", [0, "2", True])
def test_predict_checks_n_threads_set_after_fit(value):
    model = GRURegressor(**FAST).fit(X, Y_REG).set_params(n_threads=value)
    _raises(lambda: model.predict(X), r"n_threads must be None or a positive integer; got")


def test_a_network_too_large_to_build_names_its_sizes():
    _raises(lambda: GRURegressor(**{**FAST, "hidden_size": 10**9}).fit(X, Y_REG),
            r"GRURegressor could not build its network with hidden_size=1000000000, "
            r"num_layers=1 on cpu")


def test_balanced_class_weight_on_a_warm_start_missing_a_class_is_named():
    y = np.where(np.arange(len(X)) % 2, "a", "b")
    model = GRUClassifier(**FAST, warm_start=True, class_weight="balanced").fit(X, y)
    _raises(lambda: model.fit(X[y == "a"], y[y == "a"]),
            r"class_weight='balanced' .* no sample of \['b'\] .* give class_weight as a dict")
    _raises(lambda: GRUClassifier(**FAST).partial_fit(X[:3], ["a", "b", "c"],
                                                      classes=["a", "b"]),
            r"labels \['c'\] not among the classes given as classes=\['a', 'b'\]")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True])
def test_forget_bias_must_be_a_finite_number(value):
    _raises(lambda: LSTMRegressor(**FAST, forget_bias=value).fit(X, Y_REG), "forget_bias")


def test_a_failed_refit_leaves_no_fitted_attribute_behind():
    y = np.where(np.arange(len(X)) % 2, "a", "b")
    model = GRUClassifier(**FAST).fit(X, y)
    _raises(lambda: model.fit(X[:, :3], ["a"] * len(X)), "at least 2 classes")
    fitted = [k for k in vars(model) if k.endswith("_") and not k.startswith("__")]
    assert fitted == []


REFUSED_PARAMETERS = [
    (GRURegressor, dict(device="cpux"), r"device='cpux' is not a device"),
    (GRURegressor, dict(lr=-1.0), r"'lr' parameter"),
    (GRUClassifier, dict(class_weight={"a": -1.0, "b": 1.0}), r"finite and non-negative"),
    (GRUClassifier, dict(class_weight={"a": "x", "b": 1.0}), r"map each class to a number"),
    (LSTMForecaster, dict(quantiles=(0.5, 0.5)), r"quantiles must be"),
    (RNNLanguageModel, dict(device="cpux"), r"device='cpux' is not a device"),
]


@pytest.mark.parametrize("Est, bad, match", REFUSED_PARAMETERS,
                         ids=[f"{E.__name__}-{next(iter(b))}" for E, b, _ in REFUSED_PARAMETERS])
def test_a_refused_parameter_leaves_the_earlier_fit_as_it_was(Est, bad, match):
    """Refused before anything changes (as the README says): a device, class
    weights or quantiles were checked after the old network was dropped."""
    data = {GRURegressor: (X, Y_REG), GRUClassifier: (X, np.where(Y_REG > 0, "a", "b")),
            LSTMForecaster: (SERIES,), RNNLanguageModel: (["abc abd"] * 4,)}[Est]
    fast = {LSTMForecaster: FAST_FORECAST, RNNLanguageModel: FAST_LM}.get(Est, FAST)
    model = Est(**fast).fit(*data)
    before = pickle.dumps(model.net_.module_.state_dict())
    _raises(lambda: model.set_params(**bad).fit(*data), match)
    assert pickle.dumps(model.net_.module_.state_dict()) == before
    if Est is LSTMForecaster:  # a warm start too: its quantiles were never checked
        model = Est(**fast, warm_start=True).fit(*data)
        _raises(lambda: model.set_params(quantiles=(1.5, 1.5)).fit(*data), match)


def test_a_user_subclass_keeps_its_own_init_decorator():
    def tagging(init):
        @functools.wraps(init)
        def wrapper(self, **kwargs):
            init(self, **kwargs)
            self.tagged = True
        return wrapper

    class Mine(ElmanRegressor):
        @tagging
        def __init__(self, *, hidden_size=3):
            super().__init__(hidden_size=hidden_size)

    assert Mine(hidden_size=5).tagged and Mine().get_params()["hidden_size"] == 3
    with pytest.raises(TypeError, match="^Mine got an unexpected keyword argument 'hiden_size'"):
        Mine(hiden_size=5)
