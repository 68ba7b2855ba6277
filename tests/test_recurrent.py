"""Behaviour of the Elman/LSTM/GRU regressors and classifiers."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.ensemble import AdaBoostClassifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_rnn import (ElmanClassifier, ElmanRegressor, GRUClassifier, GRURegressor,
                         LSTMClassifier, LSTMRegressor, RNNClassifier, RNNRegressor,
                         LSTMForecaster, TDNNClassifier, TDNNRegressor)
from sklearn_rnn._engine import GradientHealth
from sklearn_rnn._modules import RecurrentNet, pool_states
from sklearn_rnn.utils import check_sequences

FAST = dict(hidden_size=8, max_epochs=3, batch_size=32, random_state=0)
REGRESSORS = [ElmanRegressor, LSTMRegressor, GRURegressor, RNNRegressor]
CLASSIFIERS = [ElmanClassifier, LSTMClassifier, GRUClassifier, RNNClassifier]


def sine_windows(n=400, steps=16, noise=0.05, seed=0):
    """Windows of a noisy sine and the next (noise-free) value."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + steps) * 0.3
    series = np.sin(t) + noise * rng.normal(size=t.size)
    X = np.stack([series[i:i + steps] for i in range(n)])
    return X, np.sin(t[steps:steps + n])


def two_kinds(n=120, steps=12, seed=0):
    """Rising vs falling noisy sequences with two features, string labels."""
    rng = np.random.default_rng(seed)
    slope = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    ramp = np.linspace(-1, 1, steps)
    X = slope[:, None, None] * ramp[None, :, None] + 0.3 * rng.normal(size=(n, steps, 2))
    return X, np.where(slope > 0, "rising", "falling")


def ragged(n=20, seed=0, features=2):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(rng.integers(3, 15)), features)) for _ in range(n)]


# ---------------------------------------------------------------- learning
@pytest.mark.parametrize("Est", [ElmanRegressor, LSTMRegressor, GRURegressor])
def test_regressor_learns_noisy_sine(Est):
    X, y = sine_windows()
    model = Est(hidden_size=16, max_epochs=60, lr=1e-2, random_state=0).fit(X[:300], y[:300])
    assert model.score(X[300:], y[300:]) > 0.9


@pytest.mark.parametrize("Est", [ElmanClassifier, LSTMClassifier, GRUClassifier])
def test_classifier_separates_two_kinds(Est):
    X, y = two_kinds()
    model = Est(hidden_size=8, max_epochs=30, lr=1e-2, random_state=0).fit(X[:90], y[:90])
    assert set(model.classes_) == {"falling", "rising"}
    assert model.score(X[90:], y[90:]) > 0.9
    proba = model.predict_proba(X[90:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (model.classes_[proba.argmax(axis=1)] == model.predict(X[90:])).all()


@pytest.mark.parametrize("Est", [RNNClassifier, LSTMRegressor])
def test_defaults_learn_without_tuning(Est):
    """Only random_state is set: the defaults alone must learn a clear task."""
    if Est is RNNClassifier:
        X, y = two_kinds(n=160)
        X_test, y_test = two_kinds(n=100, seed=1)
    else:
        X, y = sine_windows(n=300)
        X_test, y_test = sine_windows(n=100, seed=1)
    model = Est(random_state=0).fit(X, y)
    assert model.n_iter_ < model.max_epochs  # early stopping ended it
    assert model.score(X_test, y_test) > 0.9


def test_multioutput_regression_and_dataframe_input():
    X, y = sine_windows(n=120)
    Y = np.column_stack([y, -y])
    df = pd.DataFrame(X, columns=[f"t{i}" for i in range(X.shape[1])])
    model = GRURegressor(**FAST).fit(df, Y)
    assert model.predict(df).shape == (120, 2)
    assert list(model.feature_names_in_) == list(df.columns)
    assert model.n_features_in_ == X.shape[1]


# ---------------------------------------------------------------- ragged input
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_ragged_batch_matches_one_by_one(bidirectional, pooling):
    X = ragged()
    y = np.array([s.sum() for s in X])
    model = LSTMRegressor(bidirectional=bidirectional, pooling=pooling, num_layers=2,
                          **FAST).fit(X, y)
    together = model.predict(X)
    alone = np.concatenate([model.predict([s]) for s in X])
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)
    assert model.n_features_in_ == 2


def test_univariate_ragged_and_table_forms_agree():
    X, y = sine_windows(n=60)
    model = ElmanRegressor(**FAST).fit(X, y)
    as_list = [row for row in X[:5]] + [X[5, :7]]          # ragged 1-D sequences
    np.testing.assert_allclose(model.predict(as_list)[:5], model.predict(X[:5]), rtol=1e-5)
    np.testing.assert_allclose(model.predict(X[:5, :, None]), model.predict(X[:5]), rtol=1e-5)


@pytest.mark.parametrize("form", ["table", "sequence"])
def test_a_plain_float_array_predicts_as_a_checked_one(form):
    # A finite float ndarray skips check_array/validate_data at predict; other
    # inputs (lists, ints, DataFrames) go through them: same predictions, and
    # what they refuse (a wrong width, NaN) is still refused.
    X, y = sine_windows(n=60)
    model = ElmanRegressor(**FAST).fit(X if form == "table" else X[:, :, None], y)
    fast = model.predict(X[:5])
    np.testing.assert_array_equal(model.predict(X[:5].tolist()), fast)
    np.testing.assert_allclose(model.predict(X[:5].astype(np.float32)), fast, rtol=1e-5)
    np.testing.assert_array_equal(model.predict(X[:5].astype(np.float32)),
                                  model.predict(X[:5].astype(np.float32).tolist()))
    if form == "table":
        with pytest.raises(ValueError, match="features"):
            model.predict(X[:5, :-1])
    bad = X[:5].copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.predict(bad)
    named = ElmanRegressor(**FAST).fit(pd.DataFrame(X).add_prefix("t"), y)
    with pytest.warns(UserWarning, match="feature names"):
        named.predict(X[:5])


def unnamed_order(model, X):
    """``model.predict(X)`` for X without names, where it warns (as scikit-learn)."""
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        return model.predict(X)


def test_a_list_of_frames_names_its_channels():
    rng = np.random.default_rng(0)
    frames = [pd.DataFrame(rng.normal(size=(int(n), 2)) * [1, 10], columns=["a", "b"])
              for n in rng.integers(4, 9, size=30)]
    y = np.array([f["b"].sum() for f in frames])
    model = GRURegressor(**FAST).fit(frames, y)
    assert list(model.feature_names_in_) == ["a", "b"] and model.n_features_in_ == 2
    np.testing.assert_array_equal(model.predict(frames[:3]),
                                  unnamed_order(model, [f.to_numpy() for f in frames[:3]]))
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        model.predict([f[["b", "a"]] for f in frames[:3]])
    with pytest.raises(ValueError, match=r"X\[2\] has columns \['b', 'a'\] but X\[0\] has"):
        GRURegressor(**FAST).fit(frames[:2] + [frames[2][["b", "a"]]], y[:3])
    unnamed = GRURegressor(**FAST).fit([f.to_numpy() for f in frames], y)
    assert not hasattr(unnamed, "feature_names_in_")
    # Frames among arrays, in either order: refused (whose channel order would count?)
    for mixed in ([frames[0].to_numpy()] + frames[1:3], frames[:2] + [frames[2].to_numpy()]):
        for call in (lambda: GRURegressor(**FAST).fit(mixed, y[:3]),
                     lambda: model.predict(mixed)):
            with pytest.raises(ValueError, match=r"X mixes DataFrames \(X\[\d\]\) and other "
                                                 r"sequences \(X\[\d\] is a ndarray\)"):
                call()
    for empty in ([pd.DataFrame(np.zeros((5, 0)))] * 3, [np.zeros((5, 0)), np.zeros((6, 0))]):
        with pytest.raises(ValueError, match=r"X\[0\] has 0 features per time step"):
            GRURegressor(**FAST).fit(empty, y[:len(empty)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, bool])
@pytest.mark.parametrize("width", [None, 2])
def test_ragged_numpy_arrays_read_as_the_same_sequences_as_lists(dtype, width):
    # Lists of numeric numpy arrays take a vectorised path; lists of lists the
    # per-item one: both must give one padded batch, to the bit.
    rng = np.random.default_rng(0)
    shapes = [(n,) if width is None else (n, width) for n in (3, 5, 1, 4)]
    X = [(rng.normal(size=s) * 3).astype(dtype) for s in shapes]
    as_arrays = check_sequences(ElmanRegressor(), X, reset=True)
    as_lists = check_sequences(ElmanRegressor(), [a.tolist() for a in X], reset=True)
    assert as_arrays.x.dtype == (np.float32 if dtype == np.float32 else np.float64)
    np.testing.assert_array_equal(as_arrays.x, as_lists.x)  # (float32 values exact in 64)
    np.testing.assert_array_equal(as_arrays.lengths, [3, 5, 1, 4])
    X[2] = np.full(shapes[2], np.inf)
    with pytest.raises(ValueError, match=r"X\[2\] contains infinity"):
        check_sequences(ElmanRegressor(), X, reset=True)


def test_ragged_sequences_in_an_object_array_or_series():
    X = ragged(n=30)
    y = np.array([x[:, 0].sum() for x in X])
    model = GRURegressor(**FAST).fit(X, y)
    expected = model.predict(X)
    as_objects = np.empty(len(X), dtype=object)
    as_objects[:] = X
    for column in (as_objects, pd.Series(X)):
        np.testing.assert_array_equal(model.predict(column), expected)
        np.testing.assert_array_equal(GRURegressor(**FAST).fit(column, y).predict(X), expected)
    # A one-column frame (what a ColumnTransformer hands on) holds the same sequences.
    np.testing.assert_array_equal(model.predict(pd.DataFrame({"s": X})), expected)
    np.testing.assert_array_equal(model.predict(as_objects[:, None]), expected)


def test_a_nested_frame_of_channels_reads_as_the_3d_array():
    # sktime's "nested_univ" frames: one Series per (sample, channel) cell.
    X = ragged(n=30)  # (n_timesteps, 2) arrays of different lengths
    y = np.array([x[:, 0].sum() for x in X])
    nested = pd.DataFrame({f"dim_{c}": [pd.Series(x[:, c]) for x in X] for c in range(2)})
    model = GRURegressor(**FAST).fit(X, y)
    with pytest.warns(UserWarning, match="fitted without feature names"):  # as sklearn's
        np.testing.assert_array_equal(model.predict(nested), model.predict(X))
    from_nested = GRURegressor(**FAST).fit(nested, y)
    assert from_nested.n_features_in_ == 2
    assert list(from_nested.feature_names_in_) == ["dim_0", "dim_1"]
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        np.testing.assert_array_equal(from_nested.predict(X), model.predict(X))
    with pytest.raises(ValueError, match="feature names should match"):
        from_nested.predict(nested[["dim_1", "dim_0"]])  # swapped channels
    holes = pd.DataFrame({"s": [np.nan] + [x[:, 0] for x in X[1:]]})
    with pytest.raises(ValueError, match=r"X\[0\] is nan, not a sequence"):
        GRURegressor(**FAST).fit(holes, y)
    dated = nested.assign(dim_0=[pd.Series(pd.date_range("2020", periods=len(x), tz="UTC"))
                                 for x in X])
    with pytest.raises(TypeError, match=r"X\[0, 0\] holds date/time values"):
        GRURegressor(**FAST).fit(dated, y)
    nested.iloc[3, 1] = nested.iloc[3, 1][:-1]
    with pytest.raises(ValueError, match=r"Row 3 of X holds channels of lengths \[\d+, \d+\]"):
        GRURegressor(**FAST).fit(nested, y)


def test_a_pyarrow_list_column_holds_sequences():
    # read_parquet(..., dtype_backend="pyarrow") gives ragged sequences this dtype.
    pa = pytest.importorskip("pyarrow")
    X = [x[:, 0] for x in ragged(n=30)]
    y = np.array([x.sum() for x in X])
    column = pd.Series(X, dtype=pd.ArrowDtype(pa.list_(pa.float64())))
    model = GRURegressor(**FAST).fit(pd.Series(X), y)
    from_arrow = GRURegressor(**FAST).fit(column, y)
    np.testing.assert_array_equal(from_arrow.predict(column), model.predict(X))
    np.testing.assert_array_equal(model.predict(column.to_frame()), model.predict(X))
    # Lists of lists: one (n_timesteps, n_features) sequence a cell.
    X2 = ragged(n=30)
    nested = pd.Series([x.tolist() for x in X2],
                       dtype=pd.ArrowDtype(pa.list_(pa.list_(pa.float64()))))
    model2 = GRURegressor(**FAST).fit(X2, y)
    assert GRURegressor(**FAST).fit(nested, y).n_features_in_ == 2
    np.testing.assert_array_equal(model2.predict(nested), model2.predict(X2))
    # In a frame (pandas hands its cells out read-only).
    np.testing.assert_array_equal(model2.predict(nested.to_frame()), model2.predict(X2))


def test_sequences_in_a_column_stay_sequences_when_a_fold_shares_one_length():
    # Ragged data sorted by length: each fold of KFold(2) holds one length, which a
    # list of them would make a table of 10 or 12 columns (the other fold's
    # predictions failed: NaN scores).
    rng = np.random.default_rng(0)
    X = pd.Series([rng.normal(size=10) for _ in range(20)]
                  + [rng.normal(size=12) for _ in range(20)])
    y = np.tile(np.r_[np.zeros(10), np.ones(10)], 2)
    model = GRUClassifier(**FAST).fit(X[:20], y[:20])
    assert model.n_features_in_ == 1
    assert model.predict(X[20:]).shape == (20,)
    scores = cross_val_score(GRUClassifier(**FAST), X, y, cv=KFold(2), error_score="raise")
    assert np.isfinite(scores).all()


# ---------------------------------------------------------------- sklearn tools
def test_grid_search_pipeline_time_series_split():
    X, y = sine_windows(n=200)
    search = GridSearchCV(make_pipeline(StandardScaler(), ElmanRegressor(**FAST)),
                          {"elmanregressor__hidden_size": [4, 8]}, cv=TimeSeriesSplit(3))
    search.fit(X, y)
    assert search.best_params_["elmanregressor__hidden_size"] in (4, 8)
    scores = cross_val_score(ElmanRegressor(**FAST), X, y, cv=TimeSeriesSplit(3))
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_grid_search_parallel_matches_serial():
    X, y = two_kinds(n=80)
    grid = {"hidden_size": [4, 8], "cell": ["elman", "gru"]}
    serial = GridSearchCV(RNNClassifier(max_epochs=3, random_state=0), grid, cv=2).fit(X, y)
    parallel = GridSearchCV(RNNClassifier(max_epochs=3, random_state=0), grid, cv=2,
                            n_jobs=2).fit(X, y)
    np.testing.assert_allclose(serial.cv_results_["mean_test_score"],
                               parallel.cv_results_["mean_test_score"])
    assert serial.best_params_ == parallel.best_params_


@pytest.mark.parametrize("Est", REGRESSORS + CLASSIFIERS)
def test_clone_pickle_joblib_round_trip(Est, tmp_path):
    X, y = two_kinds(n=60) if Est in CLASSIFIERS else sine_windows(n=60)
    model = Est(**FAST).fit(X, y)
    expected = model.predict(X)
    assert clone(model).get_params() == model.get_params()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), expected)
    joblib.dump(model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), expected)


def test_numpy_scalar_hyperparameters_from_a_grid():
    """``GridSearchCV`` over ``np.arange(...)`` hands numpy scalars to fit, which
    torch's modules refuse (``hidden_size`` np.int64, ``bidirectional`` np.bool_)."""
    X, y = two_kinds(n=60)
    grid = {"hidden_size": np.arange(3, 5), "bidirectional": np.array([False, True]),
            "forget_bias": np.array([1.0], dtype=np.float32),
            "validation_fraction": np.array([0.2], dtype=np.float32)}
    search = GridSearchCV(LSTMClassifier(max_epochs=2, random_state=0), grid, cv=2).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.net_.module_.rnn.hidden_size in (3, 4)
    TDNNClassifier(hidden_size=np.int64(3), dropout=np.float32(0.1), max_epochs=1).fit(X, y)
    LSTMForecaster(hidden_size=np.int64(3), lookback=np.int64(4), max_epochs=1).fit(
        np.sin(np.arange(40.0)))


# ---------------------------------------------------------------- randomness
def test_same_random_state_same_predictions_and_global_rng_untouched():
    X, y = sine_windows(n=100)
    np.random.seed(123)
    torch.manual_seed(123)
    numpy_state = np.random.get_state()[1].copy()
    torch_state = torch.get_rng_state().clone()
    threads = torch.get_num_threads()
    first = LSTMRegressor(dropout=0.2, **FAST).fit(X, y).predict(X)
    second = LSTMRegressor(dropout=0.2, **FAST).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, second)
    other = LSTMRegressor(dropout=0.2, **{**FAST, "random_state": 1}).fit(X, y).predict(X)
    assert not np.allclose(first, other)
    LSTMRegressor(**{**FAST, "random_state": None}).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert torch.get_num_threads() == threads


def test_caller_data_is_not_modified():
    X, y = sine_windows(n=60)
    X32, y_copy = X.astype(np.float32), y.copy()
    X_copy = X32.copy()
    ElmanRegressor(**FAST).fit(X32, y).predict(X32)
    np.testing.assert_array_equal(X32, X_copy)
    np.testing.assert_array_equal(y, y_copy)


# ---------------------------------------------------------------- training control
def test_early_stopping_restores_best_and_stops():
    X, y = sine_windows(n=200)
    model = GRURegressor(hidden_size=8, max_epochs=200, patience=3, tol=1e-1,
                         random_state=0).fit(X, y)
    assert model.n_iter_ < 200
    valid = model.history_[:, "valid_loss"]
    assert len(valid) == model.n_iter_
    # The kept weights are those of the best validation epoch.
    best = int(np.argmin(valid))
    assert model.history_[best, "valid_loss_best"]


def test_warm_start_and_partial_fit_continue_training():
    X, y = sine_windows(n=100)
    model = ElmanRegressor(warm_start=True, early_stopping=False, tol=0, **FAST).fit(X, y)
    weights = model.net_.module_.head.weight.detach().clone()
    model.fit(X, y)
    assert model.n_iter_ == 6
    assert not torch.equal(weights, model.net_.module_.head.weight)
    clf = GRUClassifier(**FAST)
    Xc, yc = two_kinds(n=40)
    clf.partial_fit(Xc[:20], yc[:20], classes=["falling", "rising"])
    clf.partial_fit(Xc[20:], yc[20:])
    assert clf.n_iter_ == 2
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(Xc, np.where(yc == "rising", "flat", yc))


def test_clip_grad_norm_and_optimizers_train():
    X, y = sine_windows(n=100)
    for optimizer in ["adam", "sgd", "rmsprop"]:
        model = LSTMRegressor(optimizer=optimizer, clip_grad_norm=0.5, **FAST).fit(X, y)
        assert np.isfinite(model.predict(X)).all()


def test_verbose_prints_epoch_progress(capsys):
    X, y = sine_windows(n=60)
    model = ElmanRegressor(verbose=1, **FAST).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out and "dur" in out
    # Quiet, skorch's epoch table is not even formatted; a warm start that asks
    # for it again gets it.
    model.set_params(verbose=0, warm_start=True).fit(X, y)
    assert "print_log" not in dict(model.net_.callbacks_)
    assert capsys.readouterr().out == ""
    model.set_params(verbose=1).fit(X, y)
    assert "train_loss" in capsys.readouterr().out


def test_predict_runs_in_large_batches_with_the_same_outputs(monkeypatch):
    from sklearn_rnn import _engine

    X, y = sine_windows(n=200)
    model = GRURegressor(**{**FAST, "batch_size": 16}).fit(X[:40], y[:40])
    sizes = []
    infer = model.net_.infer
    model.net_.infer = lambda x, **kw: sizes.append(len(x)) or infer(x, **kw)
    fast = model.predict(X)
    assert sizes == [200]
    # Long sequences or wide states: at most PREDICT_FLOATS floats of hidden
    # states (padded steps x hidden 8) a batch, never fewer sequences than the
    # training batch.
    for limit, expected in ((20 * X.shape[1] * 8, 20), (4 * X.shape[1] * 8, 16)):
        monkeypatch.setattr(_engine, "PREDICT_FLOATS", limit)
        sizes.clear()
        np.testing.assert_allclose(model.predict(X), fast, rtol=1e-6, atol=1e-6)
        assert max(sizes) == expected
    del model.net_.infer
    model.net_.batch_size = 1000  # one batch (what the first call did)
    np.testing.assert_allclose(model.predict(X), fast, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("Est", CLASSIFIERS + [TDNNClassifier])
def test_predict_log_proba_is_the_log_of_predict_proba(Est):
    X, y = two_kinds(n=60)
    model = Est(**FAST).fit(X, y)
    log_proba = model.predict_log_proba(X)
    np.testing.assert_allclose(np.exp(log_proba), model.predict_proba(X), rtol=1e-12)
    # Scores far apart: the probability of the losing class rounds to 0, its log does not.
    model.net_.module_.head.bias.data[:] = torch.tensor([800.0, -800.0])
    assert np.isfinite(model.predict_log_proba(X)).all()
    assert (model.predict_proba(X)[:, 1] == 0).all()


def _outputs(model, X):
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


@pytest.mark.parametrize("Est", [ElmanRegressor, GRURegressor, LSTMClassifier,
                                 TDNNClassifier])
def test_a_prediction_does_not_depend_on_the_other_samples(Est):
    """To float32 rounding: kernels block their sums by batch shape, so a sample
    alone and in a batch may differ in the 7th digit, no more."""
    X, y = two_kinds(n=70) if "Classifier" in Est.__name__ else sine_windows(n=70)
    model = Est(**FAST).fit(X, y)  # batches of 32: 70 = 32 + 32 + 6
    together = _outputs(model, X)
    alone = np.concatenate([_outputs(model, X[i:i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(alone, together, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_outputs(model, X[::-1]), together[::-1], rtol=1e-5,
                               atol=1e-6)


# ---------------------------------------------------------------- sample and class weights
@pytest.mark.parametrize("Est", [GRURegressor, LSTMClassifier, TDNNClassifier])
@pytest.mark.parametrize("weight", [np.ones, lambda n: 2.5])
def test_equal_sample_weights_train_exactly_as_none(Est, weight):
    X, y = two_kinds(n=80) if "Classifier" in Est.__name__ else sine_windows(n=80)
    plain = Est(**FAST).fit(X, y)
    weighted = Est(**FAST).fit(X, y, sample_weight=weight(len(y)))
    np.testing.assert_array_equal(_outputs(weighted, X), _outputs(plain, X))


@pytest.mark.parametrize("early_stopping", [True, False])
@pytest.mark.parametrize("Est, data", [(GRURegressor, "windows"), (GRUClassifier, "kinds"),
                                       (TDNNRegressor, "ragged")])
def test_zero_weight_is_as_if_the_sample_were_absent(Est, data, early_stopping):
    if data == "ragged":
        X = ragged(n=80)
        y = np.array([x[:, 0].sum() for x in X])
    else:
        X, y = two_kinds(n=80) if data == "kinds" else sine_windows(n=80)
    weight = np.tile([1.0, 0.0, 3.0], 27)[:80]
    keep = np.flatnonzero(weight)
    params = dict(FAST, early_stopping=early_stopping)
    weighted = Est(**params).fit(X, y, sample_weight=weight)
    pruned = Est(**params).fit([X[i] for i in keep] if data == "ragged" else X[keep], y[keep],
                               sample_weight=weight[keep])
    np.testing.assert_array_equal(_outputs(weighted, X), _outputs(pruned, X))
    assert weighted.history_[:, "train_loss"] == pruned.history_[:, "train_loss"]


@pytest.mark.parametrize("Est", [GRURegressor, LSTMClassifier, TDNNClassifier])
def test_integer_weights_train_as_repeated_samples(Est):
    """In one batch per epoch the weighted loss and scaling are those of the data
    with each sample repeated ``weight`` times, so training matches to float32
    rounding (measured: at most 4e-8 apart)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(15, 12))
    y = rng.integers(0, 3, size=15)
    if "Regressor" in Est.__name__:
        y = X[:, -3:].sum(axis=1) + y
    weight = rng.integers(0, 5, size=15)
    params = dict(hidden_size=8, max_epochs=30, batch_size=64, early_stopping=False,
                  random_state=0)
    repeated = Est(**params).fit(X.repeat(weight, axis=0), y.repeat(weight))
    weighted = Est(**params).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(_outputs(weighted, X), _outputs(repeated, X), atol=1e-6)
    np.testing.assert_allclose(weighted.history_[:, "train_loss"],
                               repeated.history_[:, "train_loss"], rtol=1e-5)
    np.testing.assert_allclose(weighted.input_mean_, repeated.input_mean_, rtol=1e-6)


def test_weights_move_the_fit_to_the_weighted_mean():
    # Inputs that say nothing: the best prediction is the (weighted) mean target.
    X, y = np.zeros((200, 5)), np.r_[np.zeros(100), np.ones(100)]
    params = dict(hidden_size=4, max_epochs=60, early_stopping=False, random_state=0)
    plain = GRURegressor(**params).fit(X, y)
    weighted = GRURegressor(**params).fit(X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    assert plain.predict(X[:1])[0] == pytest.approx(0.5, abs=0.03)
    assert weighted.predict(X[:1])[0] == pytest.approx(0.75, abs=0.03)


@pytest.mark.parametrize("Est", [GRUClassifier, RNNClassifier, TDNNClassifier])
def test_class_weight_balances_rare_classes(Est):
    X, y = np.zeros((200, 5)), np.r_[np.full(160, "common"), np.full(40, "rare")]
    params = dict(hidden_size=4, max_epochs=40, random_state=0)
    plain = Est(**params).fit(X, y)
    assert plain.predict_proba(X[:1])[0, 1] == pytest.approx(0.2, abs=0.05)
    balanced = Est(**params, class_weight="balanced").fit(X, y)
    assert balanced.predict_proba(X[:1])[0, 1] == pytest.approx(0.5, abs=0.05)
    # A dict of the same ratio, and sample weights, weigh the same.
    as_dict = Est(**params, class_weight={"rare": 4.0}).fit(X, y)
    np.testing.assert_allclose(as_dict.predict_proba(X), balanced.predict_proba(X), atol=1e-6)
    as_samples = Est(**params).fit(X, y, sample_weight=np.where(y == "rare", 4.0, 1.0))
    np.testing.assert_array_equal(as_samples.predict_proba(X), as_dict.predict_proba(X))
    # Both at once multiply.
    both = Est(**params, class_weight={"rare": 2.0}).fit(
        X, y, sample_weight=np.where(y == "rare", 2.0, 1.0))
    np.testing.assert_array_equal(both.predict_proba(X), as_dict.predict_proba(X))


def test_class_weight_may_name_classes_a_fold_lacks():
    # As scikit-learn's: a fold (or learning_curve's subset) without the rarest
    # class still fits, and the key of the missing class is ignored.
    X, y = two_kinds(n=40)
    weights = {"falling": 1.0, "rising": 2.0}
    plain = GRUClassifier(**FAST, class_weight=weights).fit(X, y)
    extra = GRUClassifier(**FAST, class_weight={**weights, "sideways": 5.0}).fit(X, y)
    np.testing.assert_array_equal(extra.predict_proba(X), plain.predict_proba(X))


def test_a_class_of_only_zero_weights_stays_a_class():
    """As scikit-learn's classes_: from all of y, so a soft vote's columns line up."""
    from sklearn.ensemble import StackingClassifier, VotingClassifier

    X = np.random.default_rng(0).normal(size=(40, 6))
    y = np.array(["a", "b", "c", "b"] * 10)
    weight = (y != "a").astype(float)
    model = GRUClassifier(**FAST).fit(X, y, sample_weight=weight)
    assert model.classes_.tolist() == ["a", "b", "c"]
    assert model.predict_proba(X).shape == (40, 3)
    model.partial_fit(X, y)  # "a" was in the first fit's y
    vote = VotingClassifier([("g", GRUClassifier(**FAST))], voting="soft").fit(
        X, y, sample_weight=weight)
    np.testing.assert_array_equal(vote.predict(X),
                                  vote.le_.inverse_transform(vote.estimators_[0].predict(X)))
    StackingClassifier([("g", GRUClassifier(**FAST))], cv=2).fit(X, y, sample_weight=weight)


def test_sample_weight_through_pipeline_grid_search_and_partial_fit():
    X, y = two_kinds(n=90)
    weight = np.where(y == "rising", 2.0, 1.0)
    pipe = make_pipeline(StandardScaler(), GRUClassifier(**FAST))
    pipe.fit(X[:, :, 0], y, gruclassifier__sample_weight=weight)
    search = GridSearchCV(GRUClassifier(**FAST), {"class_weight": [None, "balanced"]}, cv=3,
                          n_jobs=2)
    search.fit(X, y, sample_weight=weight)  # sliced per fold with X and y
    assert set(search.cv_results_["param_class_weight"]) == {None, "balanced"}
    model = GRUClassifier(**FAST).partial_fit(X, y, classes=["falling", "rising"],
                                              sample_weight=weight)
    model.partial_fit(X, y, sample_weight=weight)
    assert model.n_iter_ == 2
    # Metadata routing, and a meta-estimator that needs sample weights.
    with sklearn.config_context(enable_metadata_routing=True):
        routed = GRUClassifier(**FAST).set_fit_request(sample_weight=True)
        routed.set_score_request(sample_weight=False)
        scores = cross_val_score(routed, X, y, cv=3, params={"sample_weight": weight})
        assert np.isfinite(scores).all()
    boosted = AdaBoostClassifier(GRUClassifier(**FAST), n_estimators=2, random_state=0)
    assert boosted.fit(X, y).score(X, y) > 0.5


def test_warm_start_carries_optimizer_settings_and_refuses_a_new_architecture():
    X, y = sine_windows(n=64)
    model = GRURegressor(**FAST, warm_start=True, early_stopping=False).fit(X, y)
    weights = model.net_.module_.rnn.weight_hh_l0.detach().clone()
    model.set_params(lr=0.05, weight_decay=0.01).fit(X, y)
    group = model.net_.optimizer_.param_groups[0]
    assert (type(model.net_.optimizer_), group["lr"], group["weight_decay"]) == (
        torch.optim.Adam, 0.05, 0.01)
    model.set_params(optimizer="sgd").fit(X, y)
    assert isinstance(model.net_.optimizer_, torch.optim.SGD)
    assert model.net_.optimizer_.param_groups[0]["momentum"] == 0.9
    assert model.n_iter_ == 3 * FAST["max_epochs"]
    assert not torch.equal(model.net_.module_.rnn.weight_hh_l0, weights)  # trained on
    model.set_params(hidden_size=16, pooling="last")
    with pytest.raises(ValueError, match=r"warm_start=True trains the fitted network on, but "
                       r"it was built with hidden_size=8, pooling='max'; now hidden_size=16, "
                       r"pooling='last'"):
        model.fit(X, y)
    with pytest.raises(ValueError, match="partial_fit trains the fitted network on"):
        model.partial_fit(X, y)
    # A warm start trains where the network is: another device is an error (here:
    # no GPU; on a GPU machine: not where the network is), not silently ignored.
    with pytest.raises(ValueError, match="cuda"):
        model.set_params(hidden_size=8, pooling="max", device="cuda").fit(X, y)
    model.set_params(device="cpu", hidden_size=16, pooling="last")
    assert model.set_params(warm_start=False).fit(X, y).net_.module_.rnn.hidden_size == 16


def test_warm_start_may_change_tbptt_steps():
    # Truncation changes how gradients flow in training, not the network.
    X, y = sine_windows(n=64)
    params = dict(**FAST, warm_start=True, early_stopping=False, tbptt_steps=3)
    model = LSTMRegressor(**params).fit(X, y)
    model.set_params(tbptt_steps=None).fit(X, y)
    assert model.net_.module_.tbptt_steps is None
    model.set_params(tbptt_steps=np.int64(2)).partial_fit(X, y)
    assert model.net_.module_.tbptt_steps == 2 and type(model.net_.module_.tbptt_steps) is int
    # It takes effect: the same start trained on with and without truncation.
    truncated = LSTMRegressor(**params).fit(X, y)
    truncated.fit(X, y)
    full = LSTMRegressor(**params).fit(X, y)
    full.set_params(tbptt_steps=None).fit(X, y)
    assert not np.allclose(truncated.predict(X), full.predict(X))


def test_a_failed_refit_leaves_the_estimator_unfitted():
    """Not a stale network behind the new data's feature count or classes."""
    X, y = sine_windows(n=64)
    X3 = np.repeat(X[:, :, None], 2, axis=2)
    model = GRURegressor(**FAST).fit(X3, y)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        model.fit(X, np.r_[y[:-1], np.nan])
    with pytest.raises(NotFittedError):
        model.predict(X)
    Xc, yc = two_kinds(n=40)
    clf = GRUClassifier(**FAST).fit(Xc, yc)
    with pytest.raises(ValueError, match="could not set aside"):
        clf.set_params(validation_fraction=0.99).fit(Xc, np.array(list("wxyz") * 10))
    with pytest.raises(NotFittedError):
        clf.predict(Xc)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("X, match", [
    (np.full((10, 5), np.nan), "NaN"),
    (np.full((10, 5), np.inf), "infinity"),
    (np.zeros(10), "Expected 2D array"),
    (np.zeros((10, 5, 2, 2)), "dim"),
    (np.zeros((0, 5)), "0 sample"),
    ([], "empty"),
    ([np.zeros((3, 2)), np.zeros((0, 2))], "length 0"),
    ([np.zeros((3, 2)), np.zeros((4, 3))], "same number"),
    (np.array([["a", "b"], ["c", "d"]] * 5), "could not convert|numeric"),
])
def test_bad_training_input_is_a_clear_value_error(X, match):
    y = np.zeros(len(X) if len(X) else 0)
    with pytest.raises(ValueError, match=match):
        ElmanRegressor(**FAST).fit(X, y)


def test_bad_predict_input():
    X, y = two_kinds(n=40)
    model = LSTMClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="3 feature"):
        model.predict(np.zeros((2, 12, 3)))
    with pytest.raises(ValueError, match="2-D input"):
        model.predict(np.zeros((2, 12)))
    table = ElmanRegressor(**FAST).fit(*sine_windows(n=40))
    with pytest.raises(ValueError, match="X has 3 features, but ElmanRegressor is expecting 16"):
        table.predict(np.zeros((2, 3)))


def test_mismatched_lengths_and_missing_y():
    X, y = sine_windows(n=40)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ElmanRegressor(**FAST).fit(X, y[:-1])
    with pytest.raises(ValueError, match="requires y"):
        ElmanRegressor(**FAST).fit(X, None)


@pytest.mark.parametrize("params, match", [
    ({"cell": "transformer"}, "'cell' parameter"),
    ({"optimizer": "adagrad"}, "'optimizer' parameter"),
    ({"pooling": "first"}, "'pooling' parameter"),
    ({"hidden_size": 0}, "'hidden_size' parameter"),
    ({"device": "tpu"}, "device='tpu'"),
])
def test_bad_parameters_name_the_parameter(params, match):
    X, y = two_kinds(n=40)
    with pytest.raises(ValueError, match=match):
        RNNClassifier(**{**FAST, **params}).fit(X, y)


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        LSTMRegressor().predict(np.zeros((2, 3)))


def test_early_stopping_with_too_few_samples_says_so():
    with pytest.raises(ValueError, match="early_stopping=True"):
        ElmanRegressor(**FAST).fit(np.zeros((1, 4)), np.zeros(1))


# ---------------------------------------------------------------- devices
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on CPU-only machines")
def test_cuda_without_gpu_is_a_clear_error():
    X, y = sine_windows(n=40)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        ElmanRegressor(device="cuda", **FAST).fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("Est", [ElmanRegressor, LSTMClassifier])
def test_cuda_fit_predict_matches_quality(Est):
    X, y = two_kinds() if Est is LSTMClassifier else sine_windows()
    model = Est(device="cuda", **FAST).fit(X, y)
    assert model.net_.device == "cuda"
    assert model.predict(X).shape == (len(X),)
    # A GPU-trained model predicts on CPU after pickling when moved there.
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_early_stopping_split_falls_back_when_stratifying_cannot_fill_both_parts():
    # 5 classes of 2: a stratified 60 % validation split would leave 4 training
    # samples for 5 classes (train_test_split refuses); an unstratified one is fine,
    # as MLPClassifier's.
    X = np.random.RandomState(0).randn(10, 4)
    y = np.repeat(np.arange(5), 2)
    model = GRUClassifier(hidden_size=4, max_epochs=2, validation_fraction=0.6,
                          random_state=0).fit(X, y)
    assert model.predict(X).shape == (10,)


def test_sequences_given_as_lists_of_zero_d_values_are_1d():
    # Iterating a 1-D tensor (or array) gives 0-d tensors: such lists are 1-D
    # sequences (a check of time-step widths took them for rows).
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=n) for n in (5, 7, 6, 5, 8, 6) * 4]
    y = np.array([a.sum() for a in arrays])
    model = GRURegressor(**FAST).fit(arrays, y)
    for as_steps in ([list(torch.from_numpy(a)) for a in arrays],
                     [[np.array(v) for v in a] for a in arrays]):
        np.testing.assert_allclose(model.predict(as_steps), model.predict(arrays), rtol=1e-6)


def test_each_partial_fit_draws_new_batch_orders_reproducibly(monkeypatch):
    """An int random_state seeds the run of calls, not each call alike."""
    import sklearn_rnn._base as base

    X, y = sine_windows(n=40)
    drawn = []
    session = base.torch_session
    monkeypatch.setattr(base, "torch_session",
                        lambda seed, *args: drawn.append(seed) or session(seed, *args))

    def seeds():
        drawn.clear()
        model = GRURegressor(hidden_size=4, batch_size=8, random_state=0)
        for _ in range(3):
            model.partial_fit(X, y)
        return list(drawn)

    first, again = seeds(), seeds()
    assert first == again and len(set(first)) == 3


def test_a_target_without_spread_is_scaled_in_its_own_units():
    """A zero deviation (a constant target, a first partial_fit of one sample)
    was a scale of 1 in y's units: a constant 1e-9 came back as +-0.03, and y in
    1e-6 units after a one-sample first call scored R^2 = -7e6."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8, 2))
    y = X[:, :, 0].sum(axis=1)
    constant = GRURegressor(hidden_size=8, max_epochs=5, random_state=0).fit(
        X, np.full(200, 1e-9))
    np.testing.assert_allclose(constant.predict(X), 1e-9, rtol=0.2)
    scores = []
    for unit in (1.0, 1e-6, 1e6):
        model = GRURegressor(hidden_size=8, batch_size=16, random_state=0)
        model.partial_fit(X[:1], y[:1] * unit)
        for _ in range(3):
            model.partial_fit(X, y * unit)
        scores.append(model.score(X, y * unit))
    np.testing.assert_allclose(scores, scores[0], rtol=1e-5)
    assert scores[0] > 0  # and it learns


def test_ragged_padding_is_not_scaled_into_an_overflow():
    # A feature held at 1e39 scales to 0 where it is data; its padding once
    # scaled to -1e39 (infinite in float32) and the ragged form was refused.
    rng = np.random.default_rng(0)
    ragged = [np.c_[rng.normal(size=n), np.full(n, 1e39)] for n in (5, 8, 6, 8)]
    padded = np.stack([np.pad(a, ((0, 8 - len(a)), (0, 0)), mode="edge") for a in ragged])
    model = GRURegressor(hidden_size=4, max_epochs=2, random_state=0).fit(ragged, np.arange(4.0))
    assert np.isfinite(model.predict(ragged)).all()
    assert model.predict(ragged[1:2])[0] == model.predict(padded[1:2])[0]


def test_input_scaling_statistics_ignore_ragged_padding():
    X = [np.array([1.0, 2.0, 3.0]), np.array([10.0])]
    model = GRURegressor(hidden_size=4, max_epochs=1, early_stopping=False,
                         random_state=0).fit(X, [0.0, 1.0])
    np.testing.assert_allclose(model.input_mean_, [np.mean([1, 2, 3, 10])])
    np.testing.assert_allclose(model.input_scale_, [np.std([1, 2, 3, 10])])


def test_bidirectional_last_pooling_is_both_directions_final_state():
    # The backward direction's "last" state is the one after reading the whole
    # sequence (its step 0), not after reading one step.
    torch.manual_seed(0)
    net = RecurrentNet(2, 1, cell="gru", hidden_size=3, bidirectional=True, pooling="last")
    x = torch.randn(4, 7, 2)
    _, h_n = net.rnn(x)  # (directions, batch, hidden)
    pooled = pool_states(net.encode(x), None, "last", True)
    torch.testing.assert_close(pooled, torch.cat([h_n[0], h_n[1]], dim=1))


def test_clipping_brings_the_gradient_norm_down_to_max_norm():
    p = torch.nn.Parameter(torch.zeros(4))
    p.grad = torch.full((4,), 5.0)  # norm 10
    norm = GradientHealth(1.0).clip_and_measure([p])
    assert norm.item() == pytest.approx(10.0)  # recorded before clipping
    assert p.grad.norm().item() == pytest.approx(1.0, rel=1e-4)

