"""Behaviour of the forecasters: leakage safety, indexes, covariates, several series."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_rnn import GRURegressor, LSTMForecaster, RNNForecaster
from sklearn_rnn import forecasting
from sklearn_rnn._engine import WindowDataset
from sklearn_rnn._modules import ForecastNet
from sklearn_rnn.metrics import (mase_scorer, mean_absolute_scaled_error,
                                 naive_forecast)

FAST = dict(hidden_size=8, max_epochs=5, batch_size=32, random_state=0)


def monthly(n=120, seed=0, level=0.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = level + np.sin(t / 3) + 0.02 * t + 0.05 * rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": np.cos(t / 5)},
                        index=pd.date_range("2000-01-01", periods=n, freq="MS"))


# ---------------------------------------------------------------- leakage
def test_predict_never_reads_the_target_of_its_rows():
    df = monthly()
    fc = LSTMForecaster(target="y", lookback=6, **FAST).fit(df.iloc[:100])
    future = df.iloc[100:]
    peeked = future.assign(y=future["y"] * 100)
    np.testing.assert_array_equal(fc.predict(future), fc.predict(peeked))
    np.testing.assert_array_equal(fc.predict(future), fc.predict(future.drop(columns="y")))


def test_time_series_split_folds_never_see_their_future():
    """Changing rows after a fold's test rows must not change that fold's score."""
    df = monthly(n=100)
    cv = TimeSeriesSplit(3)
    fc = LSTMForecaster(target="y", lookback=6, **FAST)
    scores = cross_val_score(fc, df, cv=cv)
    changed = df.copy()
    changed.iloc[75:, 0] = changed.iloc[75:, 0] * 5 + 10   # the last fold's rows
    changed_scores = cross_val_score(fc, changed, cv=cv)
    np.testing.assert_array_equal(scores[:2], changed_scores[:2])
    assert scores[2] != changed_scores[2]


# ---------------------------------------------------------------- indexes
@pytest.mark.parametrize("index, expected", [
    (pd.date_range("2000-01-01", periods=40, freq="MS"),
     pd.date_range("2003-05-01", periods=3, freq="MS")),
    (pd.period_range("1980", periods=40, freq="Y"), pd.period_range("2020", periods=3, freq="Y")),
    (pd.RangeIndex(40), pd.Index([40, 41, 42])),
    (pd.Index(np.arange(1979, 2019, 1)), pd.Index([2019, 2020, 2021])),
    (pd.timedelta_range("0h", periods=40, freq="h"),
     pd.timedelta_range("40h", periods=3, freq="h")),
    # Years held as objects or as categories are years, not labels.
    (pd.Index(list(range(1979, 2019)), dtype=object), pd.Index([2019, 2020, 2021])),
    (pd.CategoricalIndex(range(1979, 2019)), pd.Index([2019, 2020, 2021])),
])
def test_forecast_extends_the_index(index, expected):
    series = pd.Series(np.sin(np.arange(40) / 3), index=index, name="rate")
    fc = LSTMForecaster(lookback=4, horizon=3, **FAST).fit(series)
    out = fc.forecast()
    assert out.name == "rate"
    assert len(out) == 3
    assert list(out.index) == list(expected)
    assert len(fc.forecast(7)) == 7


@pytest.mark.parametrize("arrow_type", ["timestamp", "date32", "duration"])
def test_a_pyarrow_time_index_is_placed_in_time(arrow_type):
    # read_parquet or read_csv with dtype_backend="pyarrow" give these; they were
    # read as row labels (forecast() indexed 30, 31, ..., rows placed by position).
    pa = pytest.importorskip("pyarrow")
    if arrow_type == "duration":
        index = pd.timedelta_range("0D", periods=33, freq="D")
        arrow = pd.ArrowDtype(pa.duration("us"))
    else:
        index = pd.date_range("2000-01-01", periods=33, freq="D")
        arrow = pd.ArrowDtype(pa.timestamp("us") if arrow_type == "timestamp" else pa.date32())
    series = pd.Series(np.sin(np.arange(33) / 3), index=index, name="rate")
    as_arrow = series.set_axis(pd.Index(index, dtype=arrow))
    fc = LSTMForecaster(lookback=3, early_stopping=False, **FAST).fit(series[:30])
    fc_arrow = LSTMForecaster(lookback=3, early_stopping=False, **FAST).fit(as_arrow[:30])
    assert list(fc_arrow.forecast(3).index) == list(index[30:])
    np.testing.assert_array_equal(fc_arrow.predict(as_arrow[31:]), fc.predict(series[31:]))
    with pytest.raises(ValueError, match="The rows to predict start at"):
        fc_arrow.predict(as_arrow[:2])
    # The (X, y) form: the same stamps, one index numpy's, the other pyarrow's.
    X = pd.DataFrame({"c": np.arange(30.0)}, index=index[:30])
    fitted = LSTMForecaster(lookback=3, early_stopping=False, **FAST).fit(X, as_arrow[:30])
    future = pd.DataFrame({"c": [30.0]}, index=index[30:31])
    assert list(fitted.predict(future).index) == list(index[30:31])


def test_inferred_frequency_extends_the_index_quietly(tmp_path):
    """A DatetimeIndex without ``freq`` (read from a file, say): the step is
    inferred, forecast() extends it, and neither that nor saving warns (pandas
    3.1 deprecates string frequencies from infer_freq and isinstance checks
    against DateOffset)."""
    from sklearn_rnn import load, save

    index = pd.DatetimeIndex(list(pd.date_range("2000-01-01", periods=30, freq="MS")))
    assert index.freq is None
    series = pd.Series(np.sin(np.arange(30) / 3), index=index)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fc = LSTMForecaster(lookback=4, horizon=2, **FAST).fit(series)
        out = fc.forecast(3)
        save(fc, tmp_path / "fc")
        again = load(tmp_path / "fc").forecast(3)
    assert list(out.index) == list(pd.date_range("2002-07-01", periods=3, freq="MS"))
    pd.testing.assert_series_equal(out, again)


def test_datetime_index_without_frequency_cannot_be_extended():
    index = pd.DatetimeIndex(["2000-01-01", "2000-01-02", "2000-01-05", "2000-01-09",
                              "2000-01-10", "2000-01-20", "2000-02-01"])
    fc = LSTMForecaster(lookback=2, early_stopping=False, **{**FAST}).fit(
        pd.Series(np.arange(7.0), index=index))
    with pytest.raises(ValueError, match="frequency"):
        fc.forecast()


def _years_without_2010(kind):
    years = [y for y in range(1980, 2021) if y != 2010]
    return {"number": pd.Index(years),
            "datetime": pd.to_datetime([f"{y}-01-01" for y in years]),
            "period": pd.PeriodIndex([str(y) for y in years], freq="Y")}[kind]


@pytest.mark.parametrize("kind", ["number", "datetime", "period"])
def test_an_index_that_skips_a_step_warns_at_fit(kind):
    index = _years_without_2010(kind)
    series = pd.Series(np.sin(np.arange(len(index)) / 3), index=index, name="rate")
    later = "placed by their periods" if kind == "period" else "read later rows as the steps"
    with pytest.warns(UserWarning, match=rf"skips 1 of its steps .*e\.g\. 2010.*{later}"):
        fc = LSTMForecaster(lookback=3, **FAST).fit(series)
    # As the warning says: a row for 2050 is the next step without a regular step,
    # 30 steps ahead on periods.
    row = pd.Series(0.0, index=pd.Index([2050]) if kind == "number" else
                    pd.DatetimeIndex(["2050-01-01"]) if kind == "datetime" else
                    pd.PeriodIndex(["2050"], freq="Y"))
    steps = 30 if kind == "period" else 1
    expected = clone(fc).set_params(lookback=3).fit(series.set_axis(range(len(series))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(fc.predict(row).to_numpy(),
                                   expected.forecast(steps).to_numpy()[-1:], rtol=1e-6)


@pytest.mark.parametrize("index", [
    # Trading days: weekends and a holiday are not steps of business-day data.
    pd.bdate_range("2024-01-01", periods=60).delete([10, 31]),
    pd.date_range("2024-01-01", periods=60, freq="D").delete(
        np.flatnonzero(pd.date_range("2024-01-01", periods=60, freq="D").day_of_week >= 5)),
    # Irregular observation times lie on no grid.
    pd.DatetimeIndex(np.sort(np.datetime64("2024-01-01") + np.random.default_rng(0).choice(
        10**6, 60, replace=False).astype("timedelta64[s]"))),
    pd.Index(np.cumsum(np.random.default_rng(0).uniform(0.5, 1.5, 60))),
    # Trading hours (nights and weekends), a calendar of its own, not gaps in hours.
    (lambda h: h[(h.day_of_week < 5) & (h.hour >= 9) & (h.hour < 17)])(
        pd.date_range("2024-01-01", periods=24 * 14, freq="h")),
    # Monday-to-Saturday opening days; weekday periods.
    (lambda d: d[d.day_of_week < 6])(pd.date_range("2024-01-01", periods=70, freq="D")),
    (lambda d: d[d.day_of_week < 5])(pd.period_range("2024-01-01", periods=70, freq="D")),
    # Numbers that only sometimes differ by their smallest step.
    pd.Index([0, 1, 3, 7, 8, 12, 20, 21, 30, 33, 34, 41]),
], ids=["business-days", "weekdays", "irregular-stamps", "irregular-numbers",
        "trading-hours", "monday-to-saturday", "weekday-periods", "irregular-integers"])
def test_trading_days_and_irregular_times_do_not_warn_of_skipped_steps(index):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LSTMForecaster(lookback=3, **FAST).fit(pd.Series(np.arange(len(index), dtype=float),
                                                          index=index))


def test_skipped_steps_warning_names_the_series_of_a_panel():
    a = pd.DataFrame({"rate": np.arange(41.0), "state": "A"}, index=pd.Index(range(1980, 2021)))
    b = pd.DataFrame({"rate": np.arange(40.0), "state": "B"},
                     index=_years_without_2010("number"))
    with pytest.warns(UserWarning, match="of series 'B' skips 1 of its steps"):
        LSTMForecaster(target="rate", series_id="state", lookback=3, **FAST).fit(
            pd.concat([a, b]))
    daily = pd.date_range("2024-01-01", periods=50, freq="D").delete([20, 21, 30])
    with pytest.warns(UserWarning, match="skips 3 of its steps \\(step D\\), e.g. 2024-01-21"):
        LSTMForecaster(lookback=3, **FAST).fit(pd.Series(np.arange(47.0), index=daily))


# ---------------------------------------------------------------- chaining
@pytest.mark.parametrize("strategy", ["recursive", "direct"])
def test_predict_chains_beyond_the_horizon(strategy):
    df = monthly()
    fc = RNNForecaster(cell="gru", target="y", lookback=6, horizon=3, strategy=strategy,
                       **FAST).fit(df.iloc[:100])
    pred = fc.predict(df.iloc[100:])
    assert len(pred) == 20 and pred.index.equals(df.index[100:])
    assert np.isfinite(pred).all()
    # The first rows are the forecast from the end of the fitted data.
    fc_plain = clone(fc).set_params(target=None).fit(df["y"].iloc[:100])
    np.testing.assert_allclose(fc_plain.forecast(3).to_numpy(), fc_plain.predict(
        df["y"].iloc[100:103]).to_numpy())


def test_recursive_forecaster_learns_a_seasonal_series():
    df = monthly(n=240)
    fc = LSTMForecaster(target="y", lookback=12, hidden_size=16, lr=1e-2, max_epochs=60,
                        random_state=0).fit(df.iloc[:216].drop(columns="x"))
    assert fc.score(df.iloc[216:].drop(columns="x")) > 0.8


# ---------------------------------------------------------------- covariates
def test_covariates_of_the_forecast_step_are_used():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    df = pd.DataFrame({"y": 2 * x + 0.01 * rng.normal(size=400), "x": x})
    fc = LSTMForecaster(target="y", lookback=4, hidden_size=16, lr=1e-2, max_epochs=60,
                        level=False, random_state=0).fit(df.iloc[:350])
    future = df.iloc[350:]
    assert fc.score(future) > 0.9
    moved = fc.predict(future.assign(x=future["x"] + 1))
    assert np.mean(moved - fc.predict(future)) > 1.0


def test_xy_form_matches_dataframe_form():
    df = monthly(n=80)
    a = LSTMForecaster(target="y", lookback=5, **FAST).fit(df)
    b = LSTMForecaster(lookback=5, **FAST).fit(df[["x"]].to_numpy(), df["y"].to_numpy())
    future = monthly(n=90).iloc[80:]
    np.testing.assert_allclose(a.predict(future).to_numpy(),
                               b.predict(future[["x"]].to_numpy()), rtol=1e-5)


# ---------------------------------------------------------------- several series
def long_panel(n=60):
    frames = []
    for key, level in [("A", 10.0), ("B", 1000.0), ("C", -5.0)]:
        t = np.arange(n)
        frames.append(pd.DataFrame({"year": 1950 + t, "state": key,
                                    "rate": level + level / 10 * np.sin(t / 4)}))
    return pd.concat(frames).set_index("year")


def test_several_series_one_global_model():
    panel = long_panel()
    train = panel[panel.index < 2000]
    fc = LSTMForecaster(target="rate", series_id="state", lookback=6, horizon=4,
                        **FAST).fit(train)
    assert list(fc.series_ids_) == ["A", "B", "C"]
    out = fc.forecast()
    assert out.index.names == ["state", "year"]
    assert list(out.loc["B"].index) == [2000, 2001, 2002, 2003]
    # Per-series scaling: each series is forecast in its own units.
    for key, level in [("A", 10.0), ("B", 1000.0), ("C", -5.0)]:
        assert np.all(np.abs(out.loc[key] - level) < abs(level) / 2)
    # predict aligns forecasts with the rows it is given, series interleaved by year.
    future = panel[panel.index >= 2000].reset_index().sort_values(["year", "state"])
    future = future.set_index("year")
    pred = fc.predict(future)
    assert pred.index.equals(future.index)
    b_rows = (future["state"] == "B").to_numpy()
    assert np.all(np.abs(pred[b_rows] - 1000) < 500)
    with pytest.raises(ValueError, match="not seen in fit"):
        fc.predict(future.assign(state=future["state"].replace("B", "Z")))


def test_untrained_level_relative_forecaster_forecasts_no_change():
    """With level=True an untrained network starts from the naive forecast, in units."""
    series = pd.Series(1000 + 0.5 * np.sin(np.arange(50)), name="y")
    fc = LSTMForecaster(lookback=5, horizon=3, strategy="direct", max_epochs=1, lr=1e-6,
                        early_stopping=False, random_state=0).fit(series)
    np.testing.assert_allclose(fc.forecast(), series.iloc[-1], atol=1.0)


def test_plain_arrays_and_past_rows():
    y = np.sin(np.arange(60) / 3)
    fc = LSTMForecaster(lookback=4, **FAST).fit(y)                  # a 1-D array is the target
    assert list(fc.forecast(3).index) == [60, 61, 62]
    no_cov = LSTMForecaster(lookback=4, **FAST).fit(None, y)         # X=None: no covariates
    np.testing.assert_allclose(no_cov.predict(np.zeros((3, 0))), fc.forecast(3).to_numpy(),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="fitted data ends at 59"):
        LSTMForecaster(lookback=4, **FAST).fit(pd.Series(y)).predict(pd.Series(y[:5]))


def test_update_moves_the_origin_without_training():
    df = monthly()
    fc = LSTMForecaster(target="y", lookback=6, **FAST).fit(df.iloc[:100].drop(columns="x"))
    weights = [p.detach().clone() for p in fc.net_.module_.parameters()]
    refit = clone(fc).fit(df.iloc[:110].drop(columns="x"))
    fc.update(df.iloc[100:110].drop(columns="x"))
    assert all(torch.equal(a, b) for a, b in zip(weights, fc.net_.module_.parameters()))
    assert fc.forecast(2).index[0] == df.index[110]
    # Same origin as a model fitted on the longer data: the same window is read.
    np.testing.assert_allclose(fc.tail_target_ * fc.target_scale_[0] + fc.target_center_[0],
                               refit.tail_target_ * refit.target_scale_[0]
                               + refit.target_center_[0], rtol=1e-5)
    with pytest.raises(ValueError, match="not after the end"):
        fc.update(df.iloc[105:112].drop(columns="x"))
    with pytest.raises(ValueError, match="observed target"):
        fc.update(df.iloc[110:112].drop(columns=["x", "y"]))


# ---------------------------------------------------------------- losses
def test_poisson_forecasts_counts():
    rng = np.random.default_rng(0)
    counts = pd.Series(rng.poisson(5 + 3 * np.sin(np.arange(150) / 4)), name="count",
                       dtype=float)
    fc = LSTMForecaster(loss="poisson", lookback=8, **FAST).fit(counts)
    assert (fc.forecast(5) > 0).all()
    with pytest.raises(ValueError, match="non-negative"):
        LSTMForecaster(loss="poisson", **FAST).fit(-counts)


def test_quantile_forecasts_give_intervals():
    rng = np.random.default_rng(0)
    series = pd.Series(rng.normal(size=300), name="noise")
    fc = LSTMForecaster(loss="quantile", quantiles=[0.1, 0.5, 0.9], lookback=4, level=False,
                        hidden_size=8, max_epochs=40, lr=1e-2, random_state=0)
    fc.fit(series.iloc[:250])
    q = fc.predict_quantiles(series.iloc[250:])
    assert list(q.columns) == [0.1, 0.5, 0.9]
    assert (q[0.1] < q[0.9]).all()
    inside = ((series.iloc[250:] > q[0.1]) & (series.iloc[250:] < q[0.9])).mean()
    assert 0.6 < inside < 0.95
    np.testing.assert_allclose(fc.predict(series.iloc[250:]), q[0.5])
    with pytest.raises(ValueError, match="loss='quantile'"):
        LSTMForecaster(**FAST).fit(series).predict_quantiles(series)


@pytest.mark.parametrize("quantiles, expected", [((0.7, 0.3), 0.3), ((0.6, 0.4), 0.4),
                                                 ((0.1, 0.55, 0.9), 0.55)])
def test_predict_returns_the_quantile_nearest_the_median_the_lower_on_a_tie(quantiles,
                                                                          expected):
    series = monthly()["y"]
    fc = LSTMForecaster(loss="quantile", quantiles=quantiles, lookback=4, **FAST).fit(
        series.iloc[:100])
    q = fc.predict_quantiles(series.iloc[100:])
    pd.testing.assert_series_equal(fc.predict(series.iloc[100:]), q[expected],
                                   check_names=False)


# ---------------------------------------------------------------- sample weights
def test_equal_row_weights_train_exactly_as_none():
    panel = long_panel()
    params = dict(target="rate", series_id="state", lookback=6, **FAST)
    plain = LSTMForecaster(**params).fit(panel)
    weighted = LSTMForecaster(**params).fit(panel, sample_weight=np.full(len(panel), 2.0))
    np.testing.assert_array_equal(weighted.forecast(3), plain.forecast(3))


def test_each_step_a_window_forecasts_weighs_its_row():
    df = monthly(n=40)
    row_weight = np.arange(40) % 3.0  # every third row weighs 0
    fc = LSTMForecaster(target="y", lookback=4, horizon=2, strategy="direct",
                        early_stopping=False)
    fc._validate_params()
    train, _ = fc._training_data(df, None, reset=True, seed=0, device=torch.device("cpu"),
                                 early_stopping=False, sample_weight=row_weight)
    starts = train.starts.numpy()
    expected = np.array([row_weight[s + 4:s + 6] for s in starts])
    assert len(starts) == 40 - 4 - 2 + 1  # no window forecasts only zero-weight rows
    np.testing.assert_allclose(train.sample_weight.numpy(), expected / expected.mean(),
                               rtol=1e-6)
    # So a row of weight 0 is never a target, also inside a window that counts:
    # changing its value (the last row: no window reads it as input) trains
    # exactly the same network (it used to weigh half of its window's loss).
    w = np.ones(40)
    w[-1] = 0
    params = dict(target="y", lookback=4, horizon=2, strategy="direct", early_stopping=False,
                  scale_inputs=False, **FAST)
    changed = df.copy()
    changed.iloc[-1, 0] += 1000.0
    a = LSTMForecaster(**params).fit(df, sample_weight=w)
    b = LSTMForecaster(**params).fit(changed, sample_weight=w)
    for p, q in zip(a.net_.module_.parameters(), b.net_.module_.parameters()):
        assert torch.equal(p, q)
    c = LSTMForecaster(**params).fit(changed)
    assert not torch.equal(next(a.net_.module_.parameters()), next(c.net_.module_.parameters()))
    # Recursive: windows whose one target row weighs 0 are left out.
    fc.set_params(horizon=1, strategy="recursive")
    train, _ = fc._training_data(df, None, reset=True, seed=0, device=torch.device("cpu"),
                                 early_stopping=False, sample_weight=row_weight)
    assert (row_weight[train.starts.numpy() + 4] > 0).all()
    assert len(train.starts) == np.count_nonzero(row_weight[4:])


def test_row_weights_move_the_forecast_to_the_weighted_mean_change():
    # Steps of 0 or 1 at random: no window predicts the next step, so the best
    # forecast of the change is its (weighted) mean, 0.5 or, weighting the
    # steps of 1 three times, 0.75.
    rng = np.random.default_rng(0)
    change = (rng.random(400) < 0.5).astype(float)
    y = pd.Series(np.cumsum(change))
    params = dict(lookback=4, hidden_size=4, max_epochs=40, early_stopping=False,
                  random_state=0)
    plain = LSTMForecaster(**params).fit(y)
    weighted = LSTMForecaster(**params).fit(y, sample_weight=np.where(change == 1, 3.0, 1.0))
    assert plain.forecast(1).iloc[0] - y.iloc[-1] == pytest.approx(0.5, abs=0.07)
    assert weighted.forecast(1).iloc[0] - y.iloc[-1] == pytest.approx(0.75, abs=0.07)


def test_row_weights_with_cross_validation_and_partial_fit():
    df = monthly(n=80)
    weight = np.linspace(0.1, 1.0, 80) ** 2  # recent years weigh more
    scores = cross_val_score(LSTMForecaster(target="y", lookback=6, **FAST), df,
                             cv=TimeSeriesSplit(3), params={"sample_weight": weight})
    assert np.isfinite(scores).all()
    fc = LSTMForecaster(target="y", lookback=6, **FAST).partial_fit(df, sample_weight=weight)
    assert fc.n_iter_ == 1
    with pytest.raises(ValueError, match="no training window with a non-zero weight"):
        LSTMForecaster(target="y", lookback=6, **FAST).fit(
            df, sample_weight=np.r_[np.ones(6), np.zeros(74)])
    # Provisional last rows weighing 0: early stopping validates on the last windows
    # that count.
    fc = LSTMForecaster(target="y", lookback=6, **FAST).fit(
        df, sample_weight=np.r_[np.ones(77), np.zeros(3)])
    assert np.isfinite(fc.history_[:, "valid_loss"]).all()


# ---------------------------------------------------------------- sklearn tools
def test_grid_search_and_cross_val_with_y_none():
    df = monthly(n=100)
    search = GridSearchCV(LSTMForecaster(target="y", **FAST),
                          {"hidden_size": [4, 8], "lookback": [4, 8]}, cv=TimeSeriesSplit(3))
    search.fit(df)
    assert search.best_params_["lookback"] in (4, 8)
    scores = cross_val_score(LSTMForecaster(target="y", lookback=4, **FAST), df,
                             cv=TimeSeriesSplit(3), scoring=mase_scorer)
    assert np.all(scores < 0)


def test_mase_scorer_on_a_pipeline_ending_in_a_forecaster():
    df = monthly(n=80)
    pipe = make_pipeline(FunctionTransformer(), LSTMForecaster(target="y", lookback=4, **FAST))
    pipe.fit(df.iloc[:60])
    assert mase_scorer(pipe, df.iloc[60:]) == mase_scorer(pipe[-1], df.iloc[60:])
    with pytest.raises(TypeError, match="scores a fitted forecaster"):
        mase_scorer(FunctionTransformer().fit(df), df)


def test_forecasts_come_back_in_the_targets_container():
    # A target given as an array y gives arrays, as scikit-learn regressors do:
    # TransformedTargetRegressor (which passes y as an array) reshapes them.
    df = monthly(n=60, level=3.0)  # positive, for the log
    X, y = df[["x"]], df["y"]
    fc = LSTMForecaster(lookback=4, **TINY)
    as_series = clone(fc).fit(X[:50], y[:50]).predict(X[50:])
    as_array = clone(fc).fit(X[:50], y[:50].to_numpy()).predict(X[50:])
    assert isinstance(as_series, pd.Series) and isinstance(as_array, np.ndarray)
    np.testing.assert_array_equal(as_array, as_series.to_numpy())
    logged = TransformedTargetRegressor(clone(fc), func=np.log, inverse_func=np.exp)
    pred = logged.fit(X[:50], y[:50]).predict(X[50:])
    direct = clone(fc).fit(X[:50], np.log(y[:50].to_numpy())).predict(X[50:])
    np.testing.assert_allclose(pred, np.exp(direct))
    assert np.isfinite(logged.score(X[50:], y[50:]))


def test_x_and_y_indexed_differently_are_refused_not_paired_by_position():
    df = monthly(n=40)
    X, y = df[["x"]], df["y"]
    with pytest.raises(ValueError, match="X and y are indexed differently"):
        LSTMForecaster(lookback=4, **TINY).fit(X[:30], y[:30].sample(frac=1, random_state=0))
    fc = LSTMForecaster(lookback=4, **TINY).fit(X[:30], y[:30])
    with pytest.raises(ValueError, match="X and y are indexed differently"):
        fc.score(X[30:36], y[30:36].iloc[::-1])
    # A one-column frame y is its Series (index, name, container).
    as_frame = LSTMForecaster(lookback=4, **TINY).fit(X[:30], df[["y"]][:30])
    pd.testing.assert_series_equal(as_frame.predict(X[30:33]), fc.predict(X[30:33]))


def test_covariates_numbered_by_row_beside_a_dated_y_cross_validate():
    # X with pandas' default index, y a dated Series: each fold's X is a slice,
    # RangeIndex(k, ...), which numbers rows as the default index does (every
    # fold failed: "X and y are indexed differently"). Scores equal the aligned
    # form's, a moving training window (max_train_size) included.
    df = monthly(n=60)
    X, y = df[["x"]], df["y"]
    numbered = X.reset_index(drop=True)
    fc = LSTMForecaster(lookback=4, **TINY)
    for cv in (TimeSeriesSplit(3), TimeSeriesSplit(3, max_train_size=30)):
        scores = cross_val_score(fc, numbered, y, cv=cv, error_score="raise")
        assert np.isfinite(scores).all()
        np.testing.assert_array_equal(scores, cross_val_score(fc, X, y, cv=cv))
    # A hand-written loop: predict reads the next numbered rows as the steps after
    # the fitted ones (it refused them: "indexed by numbers").
    sliced = clone(fc).fit(numbered[10:40], y[10:40])
    dated = clone(fc).fit(X[10:40], y[10:40])
    np.testing.assert_array_equal(sliced.predict(numbered[40:45]), dated.predict(X[40:45]))
    # Only the rows that follow: a gap, or rows already seen, were forecast as the
    # next steps under their own numbers.
    for rows in (slice(45, 50), slice(10, 15)):
        with pytest.raises(ValueError, match="must follow them, from 40"):
            sliced.predict(numbered[rows])
    sliced.update(numbered[40:42], y[40:42])
    dated.update(X[40:42], y[40:42])
    np.testing.assert_array_equal(sliced.predict(numbered[42:45]), dated.predict(X[42:45]))
    # Numbers beside numbers are labels: they must agree.
    with pytest.raises(ValueError, match="X and y are indexed differently"):
        clone(fc).fit(numbered[10:40], y[10:40].reset_index(drop=True))


def test_a_model_fitted_on_arrays_reads_a_frame_by_position_with_a_warning():
    # As scikit-learn estimators do (it was an error naming columns [0, 1]).
    df = monthly(n=40)
    X = df[["x"]].assign(z=np.arange(40.0)).set_axis(range(40))
    fc = LSTMForecaster(lookback=4, **TINY).fit(X[:30].to_numpy(), df["y"].to_numpy()[:30])
    with pytest.warns(UserWarning, match="X has feature names, but LSTMForecaster was "
                                         "fitted without feature names"):
        got = fc.predict(X[30:33])
    np.testing.assert_array_equal(got, fc.predict(X[30:33].to_numpy()))
    with pytest.raises(ValueError, match=r"X has covariate columns \['x', 'z', 'w'\]"):
        fc.predict(X[30:33].assign(w=1.0))


def test_rows_in_another_time_zone_are_the_same_instants():
    utc = monthly(n=40)[["y"]].tz_localize("UTC")
    fc = LSTMForecaster(target="y", lookback=4, **TINY).fit(utc[:30])
    eastern = utc[30:33].tz_convert("US/Eastern")
    np.testing.assert_array_equal(fc.predict(eastern), fc.forecast(3).to_numpy())
    # An update in another zone keeps the fitted grid (month starts in UTC).
    expected = clone(fc).fit(utc[:31]).forecast(2).index
    fc.update(utc[30:31].tz_convert("US/Eastern"))
    assert fc.forecast(2).index.equals(expected)
    fc.predict(utc[31:33])  # on the grid
    # X and y holding the same instants in two zones are the same rows.
    X, y = monthly(n=40)[["x"]].tz_localize("UTC"), monthly(n=40)["y"].tz_localize("UTC")
    LSTMForecaster(lookback=4, **TINY).fit(X, y.tz_convert("US/Eastern"))


def test_an_index_alone_and_targets_beyond_float32_are_refused():
    df = monthly(n=40)[["y"]]
    fc = LSTMForecaster(target="y", lookback=4, **TINY).fit(df[:30])
    with pytest.raises(TypeError, match="X is a pandas DatetimeIndex"):
        fc.predict(df.index[30:33])  # was read as three rows after the data
    before = fc.forecast(2)
    with pytest.raises(ValueError, match="Target values are too large"):
        fc.update(pd.DataFrame({"y": [1e39]}, index=df.index[30:31]))
    pd.testing.assert_series_equal(fc.forecast(2), before)


def test_files_from_before_the_step_check_forecast_numbers_as_they_did():
    # Saved before _index_info had its fourth entry: a number index extended by
    # its last step (forecast() had started to refuse it).
    years = pd.Series(np.sin(np.arange(30) / 3), index=np.arange(1990, 2020))
    fc = LSTMForecaster(lookback=4, **TINY).fit(years)
    expected = fc.forecast(3)
    fc._index_info = [tuple(info[:3]) for info in fc._index_info]
    pd.testing.assert_series_equal(fc.forecast(3), expected)
    np.testing.assert_array_equal(fc.predict(pd.Series(0.0, index=[2022])),
                                  expected.to_numpy()[2:])


def test_mase_scorer_weighs_rows_as_score_does():
    df = monthly(n=80)
    fc = LSTMForecaster(target="y", lookback=4, **FAST).fit(df.iloc[:60])
    test = df.iloc[60:]
    errors = np.abs(test["y"].to_numpy() - fc.predict(test).to_numpy()) / fc.naive_mae_[0]
    weight = np.linspace(0.0, 2.0, len(test))
    assert mase_scorer(fc, test) == pytest.approx(-errors.mean())
    assert mase_scorer(fc, test, sample_weight=weight) == pytest.approx(
        -np.average(errors, weights=weight))
    # A weighted search scores with the weights, without scikit-learn's warning
    # that the scorer cannot take them; with several metrics too (it raised
    # AttributeError: no _accept_sample_weight).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GridSearchCV(LSTMForecaster(target="y", **FAST), {"lookback": [3, 4]},
                     cv=TimeSeriesSplit(2), scoring=mase_scorer).fit(
            df, sample_weight=np.linspace(1, 2, len(df)))
        GridSearchCV(LSTMForecaster(target="y", **FAST), {"lookback": [3]},
                     cv=TimeSeriesSplit(2), refit="mase",
                     scoring={"mase": mase_scorer, "again": mase_scorer}).fit(
            df, sample_weight=np.linspace(1, 2, len(df)))


def test_mase_scorer_takes_weights_under_metadata_routing():
    import pickle

    import sklearn
    from sklearn.model_selection import cross_validate

    df = monthly(n=80)
    weight = np.linspace(0.0, 2.0, len(df))
    fc = LSTMForecaster(target="y", lookback=4, **FAST)
    cv = TimeSeriesSplit(2)
    plain = cross_validate(fc, df, cv=cv, scoring=mase_scorer)["test_score"]
    with sklearn.config_context(enable_metadata_routing=True):
        weighted_scorer = mase_scorer.set_score_request(sample_weight=True)
        assert pickle.loads(pickle.dumps(mase_scorer)) is mase_scorer
        assert pickle.loads(pickle.dumps(weighted_scorer)).get_metadata_routing().score.requests \
            == {"sample_weight": True}
        # Only the scorer asks for the weights (the fits are unweighted).
        weighted = cross_validate(fc.set_fit_request(sample_weight=False), df, cv=cv,
                                  scoring=weighted_scorer,
                                  params={"sample_weight": weight})["test_score"]
        # Passed but asked for by nobody: scikit-learn's error, as for its scorers,
        # naming the scorer as users know it.
        with pytest.raises(Exception, match=r"sample_weight.*mase_scorer\.score"):
            cross_validate(LSTMForecaster(target="y", lookback=4, **FAST).set_fit_request(
                sample_weight=False), df, cv=cv, scoring=mase_scorer,
                params={"sample_weight": weight})
    with pytest.raises(RuntimeError, match="metadata routing is enabled"):
        mase_scorer.set_score_request(sample_weight=True)
    assert mase_scorer.get_metadata_routing().score.requests == {"sample_weight": None}
    for (train, test), expected in zip(cv.split(df), weighted):
        model = LSTMForecaster(target="y", lookback=4, **FAST).fit(df.iloc[train])
        assert mase_scorer(model, df.iloc[test], sample_weight=weight[test]) == pytest.approx(
            expected)
    assert not np.allclose(plain, weighted)


def test_metrics_against_hand_computed_values():
    assert list(naive_forecast([1, 2, 3], 2)) == [3, 3]
    assert mean_absolute_scaled_error([4, 4], [5, 3], y_train=[1, 3, 5]) == 0.5
    with pytest.raises(ValueError, match="constant"):
        mean_absolute_scaled_error([1], [1], y_train=[2, 2, 2])


@pytest.mark.parametrize("call, match", [
    (lambda: mean_absolute_scaled_error([5], [4], y_train=[1, 2, 3], seasonality=-1),
     r"seasonality must be a positive integer; got -1"),
    (lambda: mean_absolute_scaled_error([5], [4], y_train=[1, 2, 3], seasonality=0),
     r"seasonality must be a positive integer; got 0"),
    (lambda: mean_absolute_scaled_error([5], [4], y_train=[1, np.nan, 3]),
     r"Input y_train contains NaN"),
    (lambda: mean_absolute_scaled_error([], [], y_train=[1, 2, 3]), r"0 sample\(s\)"),
    (lambda: mean_absolute_scaled_error([5], [4], y_train=[1, 2, 1, 2], seasonality=2),
     r"a series that repeats every 2 steps"),
    (lambda: naive_forecast([1, 2, 3], -1), r"steps must be a positive integer; got -1"),
    (lambda: naive_forecast([1, 2, 3], 2.5), r"steps must be a positive integer; got 2.5"),
])
def test_metrics_reject_bad_input_clearly(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- windows
def test_window_dataset_matches_explicit_windows():
    series = torch.arange(40, dtype=torch.float32).reshape(20, 2)
    starts = torch.tensor([0, 3, 10])
    x, y = WindowDataset(series, series[:, 0], starts, lookback=4, horizon=2).batch(
        torch.tensor([2, 0]))
    torch.testing.assert_close(x[0], series[10:14])
    torch.testing.assert_close(x[1], series[0:4])
    torch.testing.assert_close(y, torch.stack([series[14:16, 0], series[4:6, 0]]))


# ---------------------------------------------------------------- bad input
def test_bad_input_gets_clear_errors():
    df = monthly(n=30)
    with pytest.raises(ValueError, match="too few rows|Too few rows"):
        LSTMForecaster(target="y", lookback=40, **FAST).fit(df)
    with pytest.raises(ValueError, match="target='rate' is not a column"):
        LSTMForecaster(target="rate", **FAST).fit(df)
    with pytest.raises(ValueError, match="NaN"):
        LSTMForecaster(target="y", **FAST).fit(df.assign(y=df["y"].where(df.index.month != 3)))
    with pytest.raises(ValueError, match="not sorted"):
        LSTMForecaster(target="y", **FAST).fit(df.iloc[::-1])
    with pytest.raises(ValueError, match="duplicated"):
        LSTMForecaster(target="y", **FAST).fit(pd.concat([df.iloc[:20], df.iloc[15:]]))
    with pytest.raises(TypeError, match=r"\['kind'\]"):
        LSTMForecaster(target="y", **FAST).fit(df.assign(kind="a"))
    with pytest.raises(ValueError, match="y must then be None"):
        LSTMForecaster(target="y", **FAST).fit(df, df["y"])
    fc = LSTMForecaster(target="y", lookback=4, **FAST).fit(df)
    with pytest.raises(ValueError, match="covariates"):
        fc.forecast()
    with pytest.raises(ValueError, match="covariate columns"):
        fc.predict(df.drop(columns="x"))
    with pytest.raises(ValueError, match="'strategy' parameter"):
        LSTMForecaster(target="y", strategy="mimo", **FAST).fit(df)


# ---------------------------------------------------------------- placing rows in time
TINY = dict(hidden_size=4, max_epochs=2, random_state=0)
DAILY = pd.Series(np.sin(np.arange(30) / 3), index=pd.date_range("2021-01-01", periods=30),
                  name="y")


def test_update_reads_rows_without_an_index_as_the_next_steps():
    y = np.sin(np.arange(20) / 3)
    fc = LSTMForecaster(lookback=3, **TINY).fit(y)
    fc.update(np.array([5.0, 6.0]))
    fc.update([7.0])
    assert list(fc.forecast(2).index) == [23, 24]
    # The (X, y) form: same window as updating with rows indexed after the fit.
    xy = LSTMForecaster(lookback=3, **TINY).fit(np.ones((20, 2)), y)
    indexed = clone(xy).fit(np.ones((20, 2)), y)
    xy.update(np.ones((2, 2)), [5.0, 6.0])
    indexed.update(np.ones((2, 2)), pd.Series([5.0, 6.0], index=[20, 21]))
    np.testing.assert_array_equal(xy.tail_target_, indexed.tail_target_)
    # After a DatetimeIndex fit, array rows continue the time index (as predict reads them).
    dated = LSTMForecaster(lookback=3, **TINY).fit(DAILY)
    dated.update(np.array([5.0]))
    assert dated.forecast(1).index[0] == pd.Timestamp("2021-02-01")
    with pytest.raises(ValueError, match="indexed by numbers .* by time stamps"):
        dated.update(pd.Series([5.0]))
    irregular = pd.DatetimeIndex(["2000-01-01", "2000-01-02", "2000-01-05", "2000-01-09",
                                  "2000-01-10", "2000-01-20", "2000-02-01"])
    no_freq = LSTMForecaster(lookback=2, early_stopping=False, **TINY).fit(
        pd.Series(np.arange(7.0), index=irregular))
    with pytest.raises(ValueError, match="no frequency to continue"):
        no_freq.update(np.array([5.0]))
    # A pandas object is placed by its index, even the default one.
    with pytest.raises(ValueError, match="start at 0, not after the end"):
        fc.update(pd.Series([8.0]))


def test_pandas_output_of_a_pipeline_forecasts_as_arrays_do():
    import sklearn
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), np.sin(np.arange(60) / 3)
    pipe = make_pipeline(StandardScaler(), LSTMForecaster(lookback=3, **TINY))
    expected = cross_val_score(pipe, X, y, cv=TimeSeriesSplit(3))
    expected_forecasts = clone(pipe).fit(X[:40], y[:40]).predict(X[40:])
    with sklearn.config_context(transform_output="pandas"):
        # the scaler's DataFrames carry pandas' default index 0, 1, ... in every fold
        np.testing.assert_array_equal(
            cross_val_score(pipe, X, y, cv=TimeSeriesSplit(3), error_score="raise"), expected)
        forecasts = clone(pipe).fit(X[:40], y[:40]).predict(X[40:])
        np.testing.assert_array_equal(np.asarray(forecasts), expected_forecasts)
    # A target Series keeps its index the time index: in-sample rows stay refused.
    with pytest.raises(ValueError, match="fitted data ends at 39"):
        LSTMForecaster(lookback=3, **TINY).fit(pd.Series(y[:40])).predict(pd.Series(y[:5]))


def test_explicit_frequency_of_the_index_is_kept():
    freq = pd.offsets.CustomBusinessDay(holidays=["2021-01-06", "2021-02-02"])
    idx = pd.date_range("2021-01-01", periods=20, freq=freq)
    fc = LSTMForecaster(target="y", lookback=3, **TINY).fit(
        pd.DataFrame({"y": np.arange(20.0)}, index=idx))
    expected = pd.date_range(idx[-1], periods=3, freq=freq)[1:]
    assert list(fc.forecast(2).index) == list(expected)  # skips the 2 Feb holiday
    # Each series of a panel keeps the frame's freq where its rows are regular with it.
    idx = pd.date_range("2021-01-01", periods=40, freq=freq)
    panel = pd.DataFrame({"id": ["a"] * 20 + ["b"] * 20, "y": np.arange(40.0)}, index=idx)
    out = LSTMForecaster(target="y", series_id="id", lookback=3, **TINY).fit(panel).forecast(1)
    assert out.index[1] == ("b", pd.date_range(idx[-1], periods=2, freq=freq)[1])


@pytest.mark.parametrize("params", [dict(), dict(strategy="direct", horizon=2),
                                    dict(loss="quantile")])
def test_predict_rolls_the_forecast_through_a_gap(params):
    fc = LSTMForecaster(lookback=3, **TINY, **params).fit(DAILY)   # ends 2021-01-30
    march = pd.Series(0.0, index=pd.date_range("2021-03-01", periods=2))
    # Mar 1 is 30 steps after Jan 30: the 30- and 31-step-ahead forecasts.
    np.testing.assert_allclose(fc.predict(march), fc.forecast(31).to_numpy()[-2:])
    assert fc.predict(march).index.equals(march.index)
    if params.get("loss") == "quantile":
        assert fc.predict_quantiles(march).shape == (2, 3)
    ints = LSTMForecaster(lookback=3, **TINY, **params).fit(DAILY.reset_index(drop=True))
    np.testing.assert_allclose(ints.predict(pd.Series(0.0, index=[35, 36])),
                               ints.forecast(7).to_numpy()[-2:])


def test_gaps_are_refused_where_they_cannot_be_filled():
    fc = LSTMForecaster(lookback=3, **TINY).fit(DAILY)
    with pytest.raises(ValueError, match=r"skip 121 step\(s\).*2021-01-31"):
        fc.update(pd.Series([1.0], index=[pd.Timestamp("2021-06-01")]))
    with pytest.raises(ValueError, match="off the fitted time grid"):
        fc.predict(pd.Series([1.0], index=[pd.Timestamp("2021-02-01 12:00")]))
    with_x = LSTMForecaster(target="y", lookback=3, **TINY).fit(DAILY.to_frame().assign(x=1.0))
    with pytest.raises(ValueError, match=r"skip 3 step\(s\).*covariates \['x'\]"):
        with_x.predict(pd.DataFrame({"x": [1.0]}, index=[pd.Timestamp("2021-02-03")]))
    # Without a known step nothing can be told missing: rows are the next steps.
    irregular = pd.DatetimeIndex(["2000-01-01", "2000-01-02", "2000-01-05", "2000-01-09",
                                  "2000-01-10", "2000-01-20", "2000-02-01"])
    no_freq = LSTMForecaster(lookback=2, early_stopping=False, **TINY).fit(
        pd.Series(np.arange(7.0), index=irregular))
    later = pd.Series(0.0, index=pd.DatetimeIndex(["2001-01-01", "2001-03-01"]))
    np.testing.assert_array_equal(no_freq.predict(later), no_freq.predict(np.zeros(2)))


@pytest.mark.parametrize("freq", ["Y", "M", "2M", "3D"])
def test_periods_are_placed_by_their_steps(freq):
    # Periods of the fitted frequency are counted in steps of it (also when a
    # step is several units); a period between two steps is off the grid.
    index = pd.period_range("2000-01-01", periods=30, freq=freq)
    fc = LSTMForecaster(lookback=3, **TINY).fit(pd.Series(np.sin(np.arange(30.0)), index=index))
    ahead = pd.period_range(start=index[-1], periods=6, freq=freq)[[1, 3, 5]]
    np.testing.assert_allclose(fc.predict(pd.Series(0.0, index=ahead)),
                               fc.forecast(5).to_numpy()[[0, 2, 4]])
    if index.freq.n > 1:
        between = pd.PeriodIndex([pd.Period(ordinal=ahead[0].ordinal + 1, freq=index.freq)])
        with pytest.raises(ValueError, match="off the fitted time grid"):
            fc.predict(pd.Series(0.0, index=between))


def test_cross_validation_with_a_gap_scores_forecasts_that_far_ahead():
    from sklearn.metrics import r2_score

    series = pd.Series(np.sin(np.arange(60) / 3), index=pd.date_range("2021-01-01", periods=60))
    cv = TimeSeriesSplit(n_splits=3, gap=5)
    fc = LSTMForecaster(lookback=3, **TINY)
    expected = []
    for train, test in cv.split(series):
        forecast = clone(fc).fit(series.iloc[train]).forecast(5 + len(test))
        expected.append(r2_score(series.iloc[test], forecast.to_numpy()[5:]))
    np.testing.assert_allclose(cross_val_score(fc, series, cv=cv), expected, rtol=1e-6)


def test_missing_series_id_is_a_clear_error():
    panel = pd.DataFrame({"id": ["a"] * 10 + [np.nan] + ["b"] * 10, "y": np.arange(21.0)})
    with pytest.raises(ValueError, match="series_id column 'id' has missing values"):
        LSTMForecaster(target="y", series_id="id", lookback=3, **TINY).fit(panel)


@pytest.mark.parametrize("steps", [True, False])
def test_forecast_rejects_bool_steps(steps):
    fc = LSTMForecaster(lookback=3, **TINY).fit(DAILY)
    with pytest.raises(ValueError, match=f"steps must be a positive integer; got {steps}"):
        fc.forecast(steps)


def test_forecast_names_horizon_when_its_default_steps_are_bad():
    fc = LSTMForecaster(lookback=3, **TINY).fit(DAILY).set_params(horizon="x")
    with pytest.raises(ValueError, match=r"^horizon \(forecast's default steps\) must be a "
                                         r"positive integer; got 'x'"):
        fc.forecast()


def test_forecast_of_more_steps_than_memory_holds_is_a_clear_error():
    fc = LSTMForecaster(lookback=3, **TINY).fit(DAILY)
    with pytest.raises(ValueError, match=r"Forecasting 1000000000000 steps ahead would need "
                                         r"[\d,.]+ GiB, more than this machine's"):
        fc.forecast(10**12)


def test_warm_start_may_change_what_the_network_does_not_depend_on():
    # Under the recursive strategy horizon is forecast()'s default number of steps
    # only; quantiles shape nothing without the quantile loss.
    fc = LSTMForecaster(lookback=3, warm_start=True, **TINY).fit(DAILY)
    fc.set_params(horizon=3, quantiles=(0.2, 0.8)).fit(DAILY)
    assert len(fc.forecast()) == 3 and fc.n_iter_ == 2 * TINY["max_epochs"]
    direct = LSTMForecaster(lookback=3, strategy="direct", warm_start=True, **TINY).fit(DAILY)
    with pytest.raises(ValueError, match=r"built with horizon=1; now horizon=3"):
        direct.set_params(horizon=3).fit(DAILY)


def test_non_numeric_quantiles_get_the_quantiles_error():
    with pytest.raises(ValueError, match=r"numbers strictly between 0 and 1; got \['a'\]"):
        LSTMForecaster(loss="quantile", quantiles=["a"], lookback=3, **TINY).fit(DAILY)


def test_y_index_is_the_time_index_when_x_has_none():
    expected = pd.date_range("2021-01-31", periods=2)
    fc = LSTMForecaster(lookback=3, **TINY).fit(None, DAILY)
    assert fc.forecast(2).index.equals(expected)
    fc = LSTMForecaster(lookback=3, **TINY).fit(np.zeros((30, 0)), DAILY)
    assert fc.forecast(2).index.equals(expected)


@pytest.mark.parametrize("change", [dict(lookback=5), dict(horizon=2), dict(loss="quantile"),
                                    dict(strategy="recursive"), dict(target="other")])
def test_predicting_after_set_params_of_the_network_is_a_clear_error(change):
    # predict and forecast read lookback, horizon (direct), strategy and loss: after
    # set_params they silently changed the forecasts or failed inside numpy and torch.
    fc = LSTMForecaster(lookback=3, strategy="direct", horizon=3, **TINY).fit(DAILY)
    expected = fc.forecast(3)
    fc.set_params(**change)
    (name, value), = change.items()
    message = rf"uses the fitted network, but it was built with {name}=.*; now {name}="
    for call in (fc.forecast, lambda: fc.predict(np.zeros((2, 0))),
                 lambda: fc.score(DAILY.iloc[-3:]), lambda: mase_scorer(fc, DAILY.iloc[-3:])):
        with pytest.raises(ValueError, match=message):
            call()
    fc.set_params(**{name: value for name, value in
                     dict(lookback=3, horizon=3, loss="squared_error", strategy="direct",
                          target=None).items() if name in change})
    pd.testing.assert_series_equal(fc.forecast(3), expected)


X_SEQ = np.random.default_rng(0).normal(size=(20, 5))


def test_a_parameter_list_edited_in_place_after_fit_is_a_change():
    quantiles = [0.2, 0.5, 0.8]
    fc = LSTMForecaster(lookback=3, loss="quantile", quantiles=quantiles, **TINY).fit(DAILY)
    quantiles[0] = 0.3  # (the built-with record was this very list: never a change)
    with pytest.raises(ValueError, match=r"built with quantiles=\[0.2, 0.5, 0.8\]; now "
                                         r"quantiles=\[0.3, 0.5, 0.8\]"):
        fc.forecast(2)


def test_forecasts_repeat_when_a_submodule_was_left_in_training_mode():
    # Dropout of a submodule put back in training mode (MC dropout, debugging) must
    # not reach predictions: every module is switched to eval, not just the top.
    fc = LSTMForecaster(lookback=3, num_layers=2, dropout=0.5, **TINY).fit(DAILY)
    expected = fc.forecast(3)
    fc.net_.module_.encoder.train()
    assert not fc.net_.module_.training
    pd.testing.assert_series_equal(fc.forecast(3), expected)
    model = GRURegressor(hidden_size=4, num_layers=2, dropout=0.5, max_epochs=1,
                         random_state=0).fit(X_SEQ, X_SEQ.sum(1))
    pred = model.predict(X_SEQ)
    model.net_.module_.dropout.train()
    np.testing.assert_array_equal(model.predict(X_SEQ), pred)




def test_parameters_that_only_shape_training_may_change_before_predicting():
    fc = LSTMForecaster(lookback=3, **TINY).fit(DAILY)          # recursive
    expected = fc.forecast(5)
    fc.set_params(horizon=5, dropout=0.5, forget_bias=None, tbptt_steps=2, max_epochs=9)
    pd.testing.assert_series_equal(fc.forecast(), expected)   # horizon: the default steps
    model = GRURegressor(hidden_size=4, max_epochs=1, random_state=0).fit(X_SEQ, X_SEQ.sum(1))
    pred = model.predict(X_SEQ)
    np.testing.assert_array_equal(model.set_params(hidden_size=8, dropout=0.3).predict(X_SEQ),
                                  pred)


def test_scoring_an_array_with_a_y_series_places_rows_by_y_index():
    y = pd.Series(np.sin(np.arange(40) / 3) + np.arange(40) / 10,
                  index=pd.date_range("1980", periods=40, freq="YS"))
    X = np.zeros((40, 0))
    fc = LSTMForecaster(lookback=3, **TINY).fit(X[:25], y.iloc[:25])
    test = slice(28, None)                             # three steps after the fit
    assert fc.score(X[test], y.iloc[test]) == pytest.approx(fc.score(y.iloc[test]))
    assert mase_scorer(fc, X[test], y.iloc[test]) == pytest.approx(mase_scorer(fc, y.iloc[test]))
    cv = TimeSeriesSplit(3, gap=3)
    np.testing.assert_allclose(cross_val_score(LSTMForecaster(lookback=3, **TINY), X, y, cv=cv),
                               cross_val_score(LSTMForecaster(lookback=3, **TINY), y, cv=cv))


@pytest.mark.parametrize("index, ahead", [
    (pd.timedelta_range("0h", periods=30, freq="h"),
     pd.timedelta_range("34h", periods=2, freq="h")),
    (pd.Index(list(range(1990, 2020)), dtype=object), pd.Index([2024, 2025], dtype=object)),
    (pd.CategoricalIndex(range(1990, 2020)), pd.Index([2024, 2025])),
])
def test_rows_are_placed_in_time_by_elapsed_times_and_numbers_held_as_objects(index, ahead):
    # These were labels: rows 5 and 6 steps ahead got the 1- and 2-step forecasts,
    # and rows inside the fitted data were accepted.
    series = pd.Series(np.sin(np.arange(30) / 3), index=index)
    fc = LSTMForecaster(lookback=3, **TINY).fit(series)
    got = fc.predict(pd.Series(0.0, index=ahead))
    np.testing.assert_allclose(got, fc.forecast(6).to_numpy()[4:6])
    with pytest.raises(ValueError, match="predict forecasts the steps after the fitted data"):
        fc.predict(series.iloc[:2])


def test_a_shuffled_cross_validation_is_told_to_split_in_time():
    series = pd.Series(np.sin(np.arange(40) / 3), index=range(1980, 2020))
    from sklearn.model_selection import cross_val_score
    with pytest.raises(ValueError, match=r"Split with TimeSeriesSplit.*an integer cv means KFold"):
        cross_val_score(LSTMForecaster(lookback=3, **TINY), series, cv=3, error_score="raise")


def test_an_index_of_date_objects_is_a_time_index():
    days = pd.date_range("1980", periods=30, freq="YS")
    dates = pd.Series(np.sin(np.arange(30) / 3), index=pd.Index([d.date() for d in days]))
    fc = LSTMForecaster(lookback=3, **TINY).fit(dates)
    reference = LSTMForecaster(lookback=3, **TINY).fit(dates.set_axis(days))
    # date objects give a second-resolution index (pandas 3), date_range microseconds
    pd.testing.assert_series_equal(fc.forecast(5), reference.forecast(5), check_index_type=False)
    ahead = pd.Series([0.0], index=[days[-1].date().replace(year=2014)])
    assert fc.predict(ahead).iloc[0] == pytest.approx(reference.forecast(5).iloc[-1])
    with pytest.raises(ValueError, match="start at 1990-01-01.*fitted data ends at 2009"):
        fc.predict(dates.iloc[10:12])


@pytest.mark.parametrize("case, data, match", [
    ("date strings", pd.Series(np.arange(30.0), index=[f"{1980 + i}-01-01" for i in range(30)]),
     r"strings that read as dates \(e.g. '1980-01-01'\); parse them first"),
    ("date strings after a label", pd.Series(np.arange(30.0), index=["start"] + [
        f"{1980 + i}-01-01" for i in range(29)]), r"read as dates \(e.g. '1980-01-01'\)"),
    ("mixed time zones", pd.Series(np.arange(4.0), index=pd.Index([
        pd.Timestamp("2000-01-01", tz="UTC"), pd.Timestamp("2000-01-02", tz="UTC"),
        pd.Timestamp("2000-01-03", tz="US/Eastern"), pd.Timestamp("2000-01-04", tz="US/Eastern")],
        dtype=object)), r"do not make one DatetimeIndex .* utc=True"),
    ("NaT", pd.Series(np.arange(30.0), index=pd.date_range("2000", periods=30).insert(3, pd.NaT)[:30]),
     r"missing time stamps \(NaT or NaN, e.g. at row 3\)"),
    ("NaN covariate", pd.DataFrame({"y": np.arange(30.0), "b": np.r_[np.zeros(7), np.nan, np.zeros(22)]}),
     r"1 value\(s\) in column\(s\) \['b'\], the first at row 7 \(7\)"),
    ("complex covariate", pd.DataFrame({"y": np.arange(30.0), "b": np.arange(30) * 1j}),
     r"\['b'\] are not \(dtypes \['complex128'\]\)"),
])
def test_time_index_and_covariate_problems_are_named(case, data, match):
    target = "y" if isinstance(data, pd.DataFrame) else None
    with pytest.raises((ValueError, TypeError), match=match):
        LSTMForecaster(target=target, lookback=3, **TINY).fit(data)


def test_series_id_with_one_series_is_a_clear_error():
    with pytest.raises(ValueError, match="series_id='state' needs X as a DataFrame with that "
                                         "column; got a 1-D X"):
        LSTMForecaster(series_id="state", lookback=3, **TINY).fit(DAILY)
    with pytest.raises(ValueError, match="y_train must be 1-D"):
        naive_forecast([[1, 2], [3, 4]], 2)


def test_n_features_in_counts_the_columns_of_x_whatever_its_container():
    y = np.sin(np.arange(30) / 3)
    rows = np.ones((30, 2))
    counts = [LSTMForecaster(lookback=3, **TINY).fit(X, y).n_features_in_
              for X in (rows, rows.tolist(), pd.DataFrame(rows, columns=["a", "b"]))]
    assert counts == [2, 2, 2]
    frame = pd.DataFrame({"y": y, "a": 1.0})
    fc = LSTMForecaster(target="y", lookback=3, **TINY).fit(frame)
    assert fc.n_features_in_ == 2 and list(fc.feature_names_in_) == ["y", "a"]
    assert LSTMForecaster(lookback=3, **TINY).fit(y).n_features_in_ == 1


def test_tags_say_that_y_is_optional():
    tags = LSTMForecaster().__sklearn_tags__()
    assert not tags.target_tags.required and not tags.input_tags.one_d_array
    LSTMForecaster(lookback=3, **TINY).fit(DAILY)   # no y: the series is the target


def _trend(n=60):
    t = np.arange(n)
    return pd.Series(np.sin(t / 3) + 0.1 * t, name="y")


def test_level_is_the_last_value_of_the_window(monkeypatch):
    monkeypatch.setattr(ForecastNet, "head_scale", 0.0)  # the untrained change is exactly 0
    y = pd.Series(np.arange(40.0) ** 1.5, name="y")
    fc = LSTMForecaster(lookback=5, max_epochs=1, lr=1e-9, early_stopping=False,
                        hidden_size=4, random_state=0).fit(y)
    np.testing.assert_allclose(fc.forecast(1).to_numpy(), [y.iloc[-1]], rtol=1e-4)


def test_direct_validation_windows_start_after_a_gap(monkeypatch):
    # The last training window's targets end before the first validation target.
    seen, real = [], forecasting.WindowDataset

    def record(series, target, starts, lookback, horizon, weight=None):
        seen.append(starts.cpu().numpy())
        return real(series, target, starts, lookback, horizon, weight)

    monkeypatch.setattr(forecasting, "WindowDataset", record)
    h = 3
    LSTMForecaster(lookback=4, horizon=h, strategy="direct", validation_fraction=0.2,
                   **FAST).fit(_trend())
    train, valid = seen
    assert train.max() + h - 1 < valid.min()


def test_direct_forecast_is_one_window_of_horizon_outputs():
    fc = LSTMForecaster(lookback=4, horizon=3, strategy="direct", **FAST).fit(_trend())
    x = torch.from_numpy(fc.tail_target_[:, :, None])
    with torch.no_grad():
        z = fc.net_.module_.eval()(x).numpy()[0]
    np.testing.assert_allclose(fc.forecast(3).to_numpy(),
                               z * fc.target_scale_[0] + fc.target_center_[0], rtol=1e-5)


def test_naive_mae_is_the_mean_absolute_one_step_change():
    y = _trend()
    fc = LSTMForecaster(lookback=4, **FAST).fit(y)
    np.testing.assert_allclose(fc.naive_mae_, [np.abs(np.diff(y)).mean()])


def test_covariates_are_centred_and_scaled():
    t = np.arange(80)
    df = pd.DataFrame({"y": np.sin(t / 3), "x": 1000 + np.cos(t / 5)})
    fc = LSTMForecaster(target="y", lookback=4, **FAST).fit(df)
    np.testing.assert_allclose(fc.covariate_mean_[0], [df["x"].mean()])
    np.testing.assert_allclose(fc.covariate_scale_[0], [df["x"].std(ddof=0)])

