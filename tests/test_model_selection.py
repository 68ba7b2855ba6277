"""PanelTimeSeriesSplit: folds of a panel cut every series at the same time stamp."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import TimeSeriesSplit, cross_val_score

from sklearn_rnn import LSTMForecaster
from sklearn_rnn.datasets import load_us_crime
from sklearn_rnn.model_selection import PanelTimeSeriesSplit


def _crime_panel():
    # Mississippi's data start in 1995: the panel is unequal.
    crime = load_us_crime()
    crime = crime[crime.state.isin(["AK", "AL", "MS", "NY"])]
    return crime.set_index("year")[["state", "violent_rate"]].sort_index(kind="stable")


@pytest.mark.parametrize("params", [dict(n_splits=4), dict(n_splits=3, gap=2),
                                    dict(n_splits=3, test_size=5, max_train_size=10)])
def test_folds_cut_every_series_at_the_same_time_stamp(params):
    panel = _crime_panel()
    years = np.unique(panel.index)
    expected = list(TimeSeriesSplit(**params).split(years))
    folds = list(PanelTimeSeriesSplit(**params).split(panel))
    assert len(folds) == len(expected) == PanelTimeSeriesSplit(**params).get_n_splits()
    for (train, test), (train_years, test_years) in zip(folds, expected):
        # every row of the fold's years, and no other
        np.testing.assert_array_equal(train, np.flatnonzero(panel.index.isin(years[train_years])))
        np.testing.assert_array_equal(test, np.flatnonzero(panel.index.isin(years[test_years])))


def test_plain_time_series_split_cuts_inside_a_year_of_this_panel():
    # Why the splitter exists: by rows, some year is on both sides of a fold.
    panel = _crime_panel()
    shared = [set(panel.index[tr]) & set(panel.index[te])
              for tr, te in TimeSeriesSplit(4).split(panel)]
    assert any(shared)


def test_rows_in_any_order_and_time_from_a_column():
    panel = _crime_panel().reset_index().sort_values(["state", "year"])
    by_column = list(PanelTimeSeriesSplit(3, time="year").split(panel))
    by_index = list(PanelTimeSeriesSplit(3).split(panel.set_index("year")))
    for (a, b), (c, d) in zip(by_column, by_index):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
        assert panel.year.iloc[a].max() < panel.year.iloc[b].min()
    assert np.all(np.diff(by_column[0][0]) > 0)          # row order


def test_cross_validates_a_global_forecaster():
    t = np.arange(40)
    panel = pd.concat([
        pd.DataFrame({"id": "a", "y": np.sin(t / 3)}, index=t),
        pd.DataFrame({"id": "b", "y": np.cos(t[3:] / 3)}, index=t[3:])])  # starts later
    fc = LSTMForecaster(target="y", series_id="id", lookback=3, hidden_size=4, max_epochs=2,
                        random_state=0)
    cv = PanelTimeSeriesSplit(3, gap=1)
    scores = cross_val_score(fc, panel, cv=cv, error_score="raise")
    train, test = list(cv.split(panel))[0]
    assert scores[0] == clone(fc).fit(panel.iloc[train]).score(panel.iloc[test])


def test_series_without_enough_training_rows_sit_out_the_fold():
    # Mississippi's data start in 1995: by series, the early folds leave it out of both
    # sets until it has min_train_steps training rows; the other states keep every row.
    panel = _crime_panel()
    plain = list(PanelTimeSeriesSplit(5).split(panel))
    by_series = list(PanelTimeSeriesSplit(5, series_id="state", min_train_steps=4)
                     .split(panel))
    ms_rows = (panel.state == "MS").to_numpy()
    sat_out = []
    for (train, test), (all_train, all_test) in zip(by_series, plain):
        n_ms = int(ms_rows[all_train].sum())
        keep = np.ones_like(ms_rows) if n_ms >= 4 else ~ms_rows
        np.testing.assert_array_equal(train, all_train[keep[all_train]])
        np.testing.assert_array_equal(test, all_test[keep[all_test]])
        sat_out.append(n_ms < 4)
    assert sat_out[0] and not sat_out[-1]  # out early, in later
    with pytest.raises(ValueError, match=r"series_id='id' must name a column of X"):
        next(PanelTimeSeriesSplit(2, series_id="id").split(panel))
    with pytest.raises(ValueError, match=r"min_train_steps must be a positive integer"):
        next(PanelTimeSeriesSplit(2, series_id="state", min_train_steps=0).split(panel))
    with pytest.raises(ValueError, match=r"Fold 0 has no test rows left"):
        next(PanelTimeSeriesSplit(2, series_id="state", min_train_steps=10**6).split(panel))
    flat = panel.reset_index()
    with pytest.raises(ValueError, match=r"series_id='year' and time='year' name the same"):
        next(PanelTimeSeriesSplit(2, time="year", series_id="year").split(flat))
    twice = flat.set_axis(["year", "state", "state"], axis=1)
    with pytest.raises(ValueError, match=r"series_id='state' names 2 columns of X"):
        next(PanelTimeSeriesSplit(2, time="year", series_id="state").split(twice))
    with pytest.raises(ValueError, match=r"time='year' names 3 columns of X"):
        next(PanelTimeSeriesSplit(2, time="year").split(flat.set_axis(["year"] * 3, axis=1)))


def test_a_late_series_no_longer_fails_the_early_folds():
    t = np.arange(40)
    panel = pd.concat([
        pd.DataFrame({"id": "a", "y": np.sin(t / 3)}, index=t),
        pd.DataFrame({"id": "b", "y": np.cos(t[20:] / 3)}, index=t[20:])])  # starts at 20
    fc = LSTMForecaster(target="y", series_id="id", lookback=3, hidden_size=4, max_epochs=2,
                        early_stopping=False, random_state=0)
    with pytest.raises(ValueError, match="not seen in fit"):
        cross_val_score(fc, panel, cv=PanelTimeSeriesSplit(4), error_score="raise")
    cv = PanelTimeSeriesSplit(4, series_id="id", min_train_steps=4)
    scores = cross_val_score(fc, panel, cv=cv, error_score="raise")
    assert np.isfinite(scores).all()
    train, test = list(cv.split(panel))[0]
    assert set(panel.id.iloc[train]) == set(panel.id.iloc[test]) == {"a"}
    assert scores[0] == clone(fc).fit(panel.iloc[train]).score(panel.iloc[test])


@pytest.mark.parametrize("X, params, error, match", [
    (np.zeros((10, 2)), {}, TypeError, r"reads the time stamps from groups=.* got X of type ndarray"),
    (pd.DataFrame({"a": range(10)}), dict(time="year"), ValueError,
     r"time='year' must name a column of X \(a DataFrame\); its columns are \['a'\]"),
    (pd.Series(range(4), index=[1.0, np.nan, 2.0, 3.0]), {}, ValueError,
     r"time stamps of X have missing values \(at row 1\)"),
    (pd.Series(range(4), index=pd.MultiIndex.from_product([[1, 2], [1, 2]])), {}, ValueError,
     "needs one time stamp per row"),
    # TimeSeriesSplit checks none of these: gap=-1 put each test stamp in its training set.
    (pd.Series(range(5), index=range(2000, 2005)), dict(gap=-1), ValueError,
     r"gap must be a non-negative integer; got -1"),
    (pd.Series(range(5), index=range(2000, 2005)), dict(test_size=0), ValueError,
     r"test_size must be None or a positive integer; got 0"),
    (pd.Series(range(5), index=range(2000, 2005)), dict(max_train_size=0), ValueError,
     r"max_train_size must be None or a positive integer; got 0"),
    (pd.Series(range(5), index=range(2000, 2005)), dict(gap=1.5), ValueError,
     r"gap must be a non-negative integer; got 1.5"),
])
def test_bad_input_is_named(X, params, error, match):
    with pytest.raises(error, match=match):
        next(PanelTimeSeriesSplit(2, **params).split(X))


def test_groups_are_the_time_stamps_of_array_rows():
    # Windows of several states as rows of an array, sorted or not: the years come in
    # as groups, as GridSearchCV(...).fit(X, y, groups=years) passes them.
    from sklearn.model_selection import GridSearchCV
    from sklearn_rnn import ElmanRegressor

    panel = _crime_panel()
    years = panel.index.to_numpy()
    X = np.random.default_rng(0).normal(size=(len(panel), 4))
    for (a, b), (c, d) in zip(PanelTimeSeriesSplit(3).split(X, groups=years),
                              PanelTimeSeriesSplit(3).split(panel)):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    search = GridSearchCV(ElmanRegressor(hidden_size=2, max_epochs=1, random_state=0),
                          {"hidden_size": [2, 3]}, cv=PanelTimeSeriesSplit(2))
    search.fit(X, X.sum(axis=1), groups=years)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    with pytest.raises(ValueError, match="groups has 3 time stamps for 5 rows"):
        next(PanelTimeSeriesSplit(2).split(np.zeros((5, 1)), groups=[1, 2, 3]))
    with pytest.raises(ValueError, match="groups would give them a second time"):
        next(PanelTimeSeriesSplit(2, time="year").split(panel.reset_index(), groups=years))


def test_groups_are_routed_when_metadata_routing_is_on():
    import sklearn
    from sklearn.model_selection import cross_validate
    from sklearn_rnn import ElmanRegressor

    X = np.random.default_rng(0).normal(size=(40, 4))
    years = np.repeat(np.arange(20), 2)
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(ElmanRegressor(hidden_size=2, max_epochs=1, random_state=0),
                                X, X.sum(axis=1), cv=PanelTimeSeriesSplit(2),
                                params={"groups": years})
    assert len(result["test_score"]) == 2


def test_too_few_time_stamps_are_named_as_time_stamps():
    with pytest.raises(ValueError, match=r"cannot split 3 distinct time stamps \(6 rows\)"):
        next(PanelTimeSeriesSplit(5).split(pd.Series(range(6), index=[1, 1, 2, 2, 3, 3])))
