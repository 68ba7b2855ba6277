"""Forecasting time series, one or many, with recurrent networks."""

import warnings
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd
import torch
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (_get_feature_names, _num_features, _num_samples,
                                      check_array, column_or_1d)

from ._base import BaseNetEstimator, store_parameters
from ._engine import WindowDataset
from ._modules import RNN_CELLS, ForecastNet, QuantileLoss
from .recurrent import parameter_docs
from .utils import (check_count, check_memory, check_not_times, check_sample_weight,
                    robust_mean, robust_std, torch_threads, unit_mean_weights)

_LOSSES = {"squared_error": torch.nn.MSELoss, "absolute_error": torch.nn.L1Loss,
           "poisson": torch.nn.PoissonNLLLoss, "quantile": QuantileLoss}


# pandas.api.types.infer_dtype kinds that are numbers.
_NUMERIC_KINDS = {"floating", "integer", "mixed-integer-float", "decimal", "boolean", "empty"}


# What needs the target's values, for the errors when they are missing.
_TARGET_NEEDS = {"fit": "fit needs the target values to train on",
                 "update": "update needs the observed target values of its rows",
                 "score": "score needs the true target values"}


@dataclass
class _Panel:
    """Forecaster input split into series: row positions, values and time index."""

    keys: list
    rows: list
    target: list
    covariates: list
    index: list
    indexed: bool  # False: arrays or lists, whose time index _parse invented


#: The parameters predict, forecast and score read besides the fitted state.
_PREDICT_PARAMETERS = ("target", "series_id", "lookback", "strategy", "loss", "quantiles",
                       "level")


class _BaseForecaster(RegressorMixin, BaseNetEstimator):
    """Recurrent forecaster; see RNNForecaster for the documentation."""

    _parameter_constraints = {
        **BaseNetEstimator._parameter_constraints,
        "target": [None, str, Integral],
        "lookback": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"recursive", "direct"})],
        "series_id": [None, str, Integral],
        "level": ["boolean"],
        "loss": [StrOptions(set(_LOSSES))],
        "quantiles": ["array-like"],
    }

    def __init__(self, *, target=None, lookback=8, horizon=1, strategy="recursive",
                 series_id=None, level=True, loss="squared_error", quantiles=(0.1, 0.5, 0.9),
                 hidden_size=64, num_layers=1, dropout=0.0, bidirectional=False,
                 pooling="last", max_epochs=100, batch_size="auto", lr=1e-3,
                 optimizer="adam", weight_decay=0.0, clip_grad_norm=None, early_stopping=True,
                 validation_fraction=0.1, patience=20, tol=1e-4, scale_inputs=True,
                 warm_start=False, random_state=None, device="cpu", n_threads=1, verbose=0,
                 tbptt_steps=None, forget_bias=1.0, checkpoint_dir=None,
                 fast_path=True):
        store_parameters(self, locals())

    # ---------------------------------------------------------------- public
    def fit(self, X, y=None, sample_weight=None):
        """Fit the forecaster to a series (or several) given row by row in time.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_steps, n_covariates)
            Rows are consecutive time steps (within each series when
            ``series_id`` is set). A DataFrame holds the ``target`` column
            (unless ``y`` is given) and covariates; a Series is the target
            itself; an array holds covariates only and needs ``y``.
        y : array-like of shape (n_steps,), default=None
            The target, when it is not a column of ``X``. When ``X`` is None
            or an array (no index of its own) and ``y`` is a Series, ``y``'s
            index is the time index; a DataFrame ``X`` keeps its own, unless
            it is pandas' default index (or a slice of one, beside a ``y``
            indexed by time stamps), which only numbers the rows.
        sample_weight : array-like of shape (n_steps,) or float, default=None
            Non-negative weight of each row as a forecast target (to weigh
            recent years more, say): each step a training window forecasts
            weighs its row's weight, in training and early-stopping
            validation alike. Only relative weights matter. A
            row of weight 0 is never a target but is still read as input (the
            validation period is the last windows that weigh something);
            equal weights train exactly as None does. Scaling is not weighted.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    def partial_fit(self, X, y=None, sample_weight=None):
        """Train one epoch on ``X`` (initialising on the first call), without early
        stopping, and start forecasts after ``X``'s rows.

        To move the forecast origin without training, use ``update``.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_steps, n_covariates)
            Consecutive time steps, in the forms ``fit`` takes; after the
            first call, with the covariates of that call.
        y : array-like of shape (n_steps,), default=None
            The target, when it is not a column of ``X`` (as in ``fit``).
        sample_weight : array-like of shape (n_steps,) or float, default=None
            Non-negative weight of each row as a forecast target, as in
            ``fit``.

        Returns
        -------
        self : object
            The forecaster, trained one more epoch.
        """
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def update(self, X, y=None):
        """Append observed steps after the fitted data, without training.

        Forecasts (``predict``, ``forecast``) then start after these rows:
        the way to move the forecast origin day by day without the drift of
        refitting. Rows of an array or list (and of ``y`` without an index)
        are the steps right after the data already seen; a DataFrame or
        Series is placed by its index, which must then start at the next
        step exactly when the step is known (a frequency, or a regular
        integer step) and skip none (missing observations cannot be filled
        in here), or else after the data already seen.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_steps, n_covariates)
            The observed steps, in the forms ``fit`` takes, with the fitted
            covariates; it must hold the observed target values (the
            ``target`` column, or ``X`` itself as a Series), unless ``y``
            gives them.
        y : array-like of shape (n_steps,), default=None
            The observed target values, when they are not in ``X``.

        Returns
        -------
        self : object
            The forecaster, its forecast origin after these rows.
        """
        self._check_fitted("update")
        panel = self._parse(X, y, reset=False, need_target="update")
        positions = self._positions(panel.keys)
        if panel.indexed:
            for pos, key, index in zip(positions, panel.keys, panel.index):
                offsets = self._step_offsets(pos, index, key, "update")
                if offsets is not None and not np.array_equal(offsets,
                                                               np.arange(len(index))):
                    missing = self._missing_steps(pos, offsets)
                    raise ValueError(
                        f"The new rows{_of_series(key)} skip {len(missing)} step(s) after "
                        f"the data already seen (which ends at {self._origin(pos)[1]}), "
                        f"e.g. {', '.join(map(str, missing[:3]))}: update needs every step "
                        "observed, in order; fill the missing observations first.")
        else:
            panel.index = [self._continue_index(pos, len(r))
                           for pos, r in zip(positions, panel.rows)]
        self._advance_origin(
            positions,
            [self._scale(t, p) for t, p in zip(panel.target, positions)],
            [self._scale_covariates(c, p) for c, p in zip(panel.covariates, positions)],
            panel.index)
        if getattr(self, "_rows_end", None) is not None:  # numbered rows count on
            self._rows_end += len(panel.rows[0])
        return self

    def _advance_origin(self, positions, targets, covariates, indexes):
        """Make the end of these scaled rows the point forecasts start from.

        The rows must already be checked to come after the data seen
        (``_step_offsets``); ``_index_info`` of a series is None on a fit.
        """
        L = self.lookback
        for pos, z, c, index in zip(positions, targets, covariates, indexes):
            info = self._index_info[pos]
            index = _in_zone_of(index, None if info is None else self._origin(pos)[1])
            self.tail_target_[pos] = np.concatenate([self.tail_target_[pos], z])[-L:]
            self.tail_covariates_[pos] = np.concatenate([self.tail_covariates_[pos], c])[-L:]
            if info is None:
                new = _index_info(index)
            else:
                info = self._origin(pos)
                if info[0] == "position":  # labels carry no time: count the rows
                    new = ("position", info[1] + len(index), 1, False)
                elif info[3]:  # checked to continue on the known step
                    new = (_index_kind(index), index[-1], info[2], True)
                else:
                    new = _index_info(index)
                    if len(index) < 3:  # too short to infer a step: keep the old one
                        new = (new[0], new[1], info[2], False)
            self._index_info[pos] = new

    def _origin(self, pos):
        """(kind, last value, step/freq, step known) of series ``pos``'s data seen.

        Files saved before the fourth entry existed hold three: a frequency, a
        PeriodIndex or a number step counts as known there (those versions
        extended a numeric index by its last step, unchecked).
        """
        info = tuple(self._index_info[pos])
        if len(info) == 3:
            info += (info[0] in ("period", "number")
                     or (info[0] == "datetime" and info[2] is not None),)
        return info

    def _step_offsets(self, pos, index, key, action):
        """Steps after the data seen of each of ``index``'s time stamps (0: the next
        step), or None where the fitted index has no known step.

        Raises a clear error for time stamps of another kind, not after the data
        seen, or off the fitted time grid.
        """
        kind, last, step, known = self._origin(pos)
        if kind == "position":
            return None
        where = _of_series(key)
        new_kind = _index_kind(index)
        if new_kind != kind:
            raise ValueError(
                f"The rows{where} are indexed by {_KIND_NAMES[new_kind]} (starting at "
                f"{index[0]!r}), but the fitted data by {_KIND_NAMES[kind]} (ending at "
                f"{last!r}); index them the same way, or pass an array, whose rows are "
                "the steps after the fitted data.")
        try:
            after = bool(index[0] > last)
        except (TypeError, ValueError) as exc:  # time zones, period frequencies
            raise ValueError(f"The rows{where} start at {index[0]!r}, which cannot be "
                             f"compared with the end of the fitted data ({last!r}): "
                             f"{exc}") from None
        if not after and action == "update":
            raise ValueError(f"The new rows{where} start at {index[0]}, not after the end "
                             f"of the data already seen ({last}).")
        if not after:
            raise ValueError(
                f"The rows to predict{where} start at {index[0]}, but the fitted data "
                f"ends at {last}: predict forecasts the steps after the fitted "
                f"data. Pass rows indexed after it, or move the origin with update(). "
                "(Cross-validating? Split with TimeSeriesSplit, or PanelTimeSeriesSplit "
                "for a panel, so that each test fold follows its training rows: an "
                "integer cv means KFold.)")
        if not known:
            return None
        if kind == "number":
            ahead = (np.asarray(index, dtype=np.float64) - last) / step
            whole = np.round(ahead)
            on_grid = np.isclose(ahead, whole, rtol=0, atol=1e-9)
            offsets = whole.astype(np.int64) - 1
        elif kind == "period" and index.freq == step:
            # Periods of one frequency count steps in their ordinals (a quarter of
            # predict's time went into building the period_range below).
            ahead = index.asi8 - last.ordinal
            on_grid = ahead % step.n == 0
            offsets = ahead // step.n - 1
        else:
            index = _in_zone_of(index, last)
            try:
                grid = _RANGES[kind](start=last, end=index[-1], freq=step)
                offsets = grid.get_indexer(index) - 1
            except (TypeError, ValueError) as exc:
                raise ValueError(f"The rows{where} cannot be placed on the fitted time "
                                 f"grid (step {step}, ending at {last!r}): {exc}") from None
            on_grid = offsets >= 0
        if not on_grid.all():
            bad = index[np.flatnonzero(~on_grid)[0]]
            raise ValueError(f"The rows{where} are off the fitted time grid: {bad!r} is "
                             f"not a whole number of steps ({step}) after the end of the "
                             f"fitted data ({last!r}).")
        return offsets

    def _missing_steps(self, pos, offsets):
        """Time stamps of the steps between the data seen and ``offsets[-1]`` that
        ``offsets`` skips."""
        grid = self._continue_index(pos, int(offsets[-1]) + 1)
        return grid[np.setdiff1d(np.arange(len(grid)), offsets)]

    def _continue_index(self, pos, steps):
        """Time stamps of ``steps`` rows without an index: the steps after the data seen."""
        kind, _, step, _ = self._origin(pos)
        if kind in _FREQ_KINDS and step is None:
            raise ValueError(
                "X has no time index, so its rows would be the steps after the fitted "
                f"data, but the fitted {_KIND_NAMES[kind]} has no frequency to continue "
                "it with: pass a DataFrame or Series indexed by its time stamps.")
        return self._future_index(pos, steps)

    def predict(self, X):
        """Forecast one value per row of ``X``, the steps after the fitted data.

        The target's values in ``X`` (if any) are never used: row ``k`` of a
        series gets its ``k+1``-step-ahead forecast from the end of the
        fitted data, chained on earlier forecasts (every step after the
        first with ``strategy="recursive"``, those beyond ``horizon`` with
        ``"direct"``).
        Covariates of each row are used for that row's step.

        Rows of an array are the steps right after the fitted data. A
        DataFrame or Series is placed by its index, which must start after
        the fitted data. When the fitted index has a known step (a
        frequency, or a regular integer step), rows may leave steps out (a
        gap after the fitted data, as ``TimeSeriesSplit(gap=...)`` leaves):
        the forecast is rolled forward through the missing steps, so each
        row gets its true many-steps-ahead forecast. A forecaster with
        covariates cannot do that (their values at the missing steps are
        unknown) and raises an error naming them.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_rows, n_covariates)
            The rows to forecast, with the fitted covariates (and the
            ``series_id`` column, if set): a DataFrame (the ``target`` column
            may be left out or hold placeholders; ``pd.DataFrame(index=...)``
            for a forecaster without covariates), a 2-D array of the
            covariates, or, without covariates, a Series or 1-D array whose
            values are ignored.

        Returns
        -------
        forecasts : Series or ndarray of shape (n_rows,)
            A Series with X's index when X is a DataFrame or Series and the
            target was given in pandas at fit (a column of X, a Series X or
            a Series y); an ndarray otherwise, also for a target given as an
            array ``y`` (as ``TransformedTargetRegressor`` passes it).
        """
        panel, out = self._predict_panel(X)
        return self._assemble(X, panel, self._point_forecasts(out), name=self._target_name())

    def predict_quantiles(self, X):
        """Forecast quantiles (``loss="quantile"``), one row per row of ``X``.

        Steps beyond the first are chained on the median forecast, so their
        intervals describe the uncertainty of each step given that path.
        Rows are placed in time as in ``predict``.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_rows, n_covariates)
            The rows to forecast, in the forms ``predict`` takes.

        Returns
        -------
        quantiles : DataFrame or ndarray of shape (n_rows, n_quantiles)
            A DataFrame (X's index, one column per quantile) as ``predict``
            gives a Series.
        """
        self._check_fitted("predict_quantiles")
        if self.loss != "quantile":
            raise ValueError(f"predict_quantiles needs loss='quantile'; this forecaster "
                             f"was built with loss={self.loss!r}.")
        panel, out = self._predict_panel(X)
        return self._assemble(X, panel, out, name=list(self.quantiles_))

    def forecast(self, steps=None):
        """Forecast ``steps`` (default ``horizon``) steps past the fitted data.

        Only for forecasters without covariates (their future values are
        unknown here: use ``predict`` with a frame of future covariates).

        Parameters
        ----------
        steps : int, default=None
            Steps to forecast, a positive integer; None forecasts
            ``horizon`` steps.

        Returns
        -------
        forecasts : Series
            Indexed by the future time stamps (DatetimeIndex and PeriodIndex
            extended with their frequency, integer indexes by their step);
            with several series, by ``(series, time)``.
        """
        self._check_fitted("forecast")
        name = "horizon (forecast's default steps)" if steps is None else "steps"
        steps = self.horizon if steps is None else steps
        check_count(steps, name)  # forecast(True) is a mistake, not one step
        if self.covariates_:
            raise ValueError(
                f"This forecaster uses covariates {self.covariates_}, whose future values "
                "forecast() does not know: call predict(X_future) with them instead.")
        positions = np.arange(len(self.series_ids_))
        for pos in positions:
            kind, last, _, known = self._origin(pos)
            if kind == "number" and not known:
                raise ValueError(
                    f"The fitted time index{_of_series(self.series_ids_[pos])} is made of "
                    f"numbers without a regular step (it ends at {last}), so forecast() "
                    "cannot tell which numbers the next steps have: call predict() with "
                    "the rows' index, or fit on a regular index.")
        no_covariates = [np.zeros((steps, 0))] * len(positions)
        forecasts = self._rollout(positions, no_covariates, [steps] * len(positions))
        values, index = [], []
        for pos, forecast in zip(positions, forecasts):
            if self.loss == "quantile":
                forecast = forecast[:, self._median_index()]
            values.append(self._unscale(forecast, pos))
            index.append(self._future_index(pos, steps))
        time_name = self._time_name if self._time_name is not None else "time"
        if self.series_id is None:
            return pd.Series(values[0], index=index[0].rename(self._time_name),
                             name=self._target_name())
        keys = np.repeat(self.series_ids_, steps)
        return pd.Series(np.concatenate(values), name=self._target_name(),
                         index=pd.MultiIndex.from_arrays(
                             [keys, np.concatenate([np.asarray(i) for i in index])],
                             names=[self.series_id, time_name]))

    def score(self, X, y=None, sample_weight=None):
        """R^2 of ``predict(X)`` against the target's values in ``X`` (or ``y``).

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_rows, n_covariates)
            The rows to forecast, as in ``predict``, holding the true target
            values (the ``target`` column, or ``X`` itself as a Series)
            unless ``y`` gives them. With an array ``X`` and a Series ``y``,
            the rows are placed by ``y``'s index, as in ``fit``.
        y : array-like of shape (n_rows,), default=None
            The true target values, when they are not in ``X``.
        sample_weight : array-like of shape (n_rows,), default=None
            Weight of each row in the R^2.

        Returns
        -------
        score : float
            The coefficient of determination R^2 of the forecasts.
        """
        _, y_true, pred = self._scored(X, y)
        return r2_score(y_true, pred, sample_weight=sample_weight)

    def _scored(self, X, y):
        """The target's values (from ``X`` or ``y``) and the forecasts of their rows.

        One parse places the rows, so with an array ``X`` and a ``y`` Series they
        sit where ``y``'s index puts them, as in ``fit`` (``predict(X)`` alone
        would take them for the steps right after the fitted data).
        """
        self._check_fitted("score")
        panel = self._parse(X, y, reset=False, need_target="score")
        _, out = self._predict_panel(X, panel)
        n = sum(len(r) for r in panel.rows)
        y_true, pred = np.empty(n), np.empty(n)
        for rows, target, f in zip(panel.rows, panel.target, self._point_forecasts(out)):
            y_true[rows], pred[rows] = target, f
        return panel, y_true, pred

    # ---------------------------------------------------------------- parsing
    def _target_name(self):
        return self.target if self.target is not None else getattr(self, "_y_name", None)

    def _parse(self, X, y, *, reset, need_target=None):
        """Split ``X`` (and ``y``) into series; validate values and time order.

        ``reset`` records the columns (a fit from scratch). ``need_target``
        names what needs the target values (``"fit"``, ``"update"``,
        ``"score"``): they must then be there, numeric and finite; otherwise
        (``predict``) they are never read, so a placeholder column of any
        kind is fine.
        """
        name = type(self).__name__
        target_values, index, series_col = None, None, None
        if reset:
            self._y_name = None
        if isinstance(y, pd.DataFrame) and y.shape[1] == 1:
            y = y.iloc[:, 0]  # a one-column frame is its Series: name, index, container
        if isinstance(X, pd.Index):
            what = ("a Series of the target indexed by it" if need_target else
                    "pd.DataFrame(index=...) (rows to forecast at those time stamps)")
            raise TypeError(f"X is a pandas {type(X).__name__}; {name} reads rows, not an "
                            f"index alone. Pass {what}.")
        if isinstance(X, pd.DataFrame):
            if self.target is not None and y is not None:
                raise ValueError(f"target={self.target!r} names a column of X; y must then "
                                 "be None (give the target one way, not both).")
            index = X.index
            columns = list(X.columns)
            if X.columns.has_duplicates:
                dup = X.columns[X.columns.duplicated()].unique().tolist()
                raise ValueError(f"X has duplicated column names {dup}; every column must "
                                 "have its own name.")
            if self.series_id is not None and self.series_id == self.target:
                raise ValueError(f"series_id={self.series_id!r} and target={self.target!r} "
                                 "name the same column; series_id names the column that "
                                 "tells which series a row belongs to.")
            if self.series_id is not None and self.series_id not in columns:
                raise ValueError(f"series_id={self.series_id!r} is not a column of X; the "
                                 f"columns are {columns}.")
            if need_target and self.target is not None:
                if self.target not in columns:
                    raise ValueError(f"target={self.target!r} is not a column of X (the "
                                     f"columns are {columns}): {_TARGET_NEEDS[need_target]}.")
                target_values = X[self.target].to_numpy()
            if self.series_id is not None:
                series_col = X[self.series_id].to_numpy()
            covariate_cols = [c for c in columns if c not in (self.target, self.series_id)]
            if reset:
                self.covariates_ = covariate_cols
                self._positional_covariates = False
            elif (getattr(self, "_positional_covariates", False) and self.target is None
                    and self.series_id is None and len(covariate_cols) == len(self.covariates_)
                    and covariate_cols != self.covariates_):
                # Fitted on an array: a frame of as many columns is read by position,
                # with scikit-learn's warning.
                warnings.warn(f"X has feature names, but {name} was fitted without feature "
                              "names", UserWarning, stacklevel=3)
                return self._parse(X.set_axis(self.covariates_, axis=1), y, reset=reset,
                                   need_target=need_target)
            elif covariate_cols != self.covariates_:
                raise ValueError(f"X has covariate columns {covariate_cols}, but {name} was "
                                 f"fitted with {self.covariates_}.")
            covariates = _numeric_columns(X, covariate_cols)
        elif isinstance(X, pd.Series) or (y is None and X is not None and _ndim(X) == 1):
            if y is not None:
                raise ValueError("X is a Series, read as the target series itself; y must "
                                 "then be None.")
            if self.series_id is not None:
                raise ValueError(f"series_id={self.series_id!r} needs X as a DataFrame "
                                 "with that column; got a 1-D X (one series).")
            if (self.target is not None and isinstance(X, pd.Series)
                    and X.name is not None and X.name != self.target):
                raise ValueError(
                    f"X is a Series named {X.name!r}, read as the target series, but "
                    f"target={self.target!r}: pass the DataFrame holding the column "
                    f"{self.target!r}, or that column itself.")
            if not reset and self.covariates_:
                raise ValueError(
                    f"X is 1-D, read as the target series, but {name} was fitted with "
                    f"{len(self.covariates_)} covariate(s). Reshape your data to a 2-D "
                    "array (n_steps, n_covariates) of their values.")
            if isinstance(X, pd.Series):
                index = X.index
            else:
                X = pd.Series(np.asarray(X))
            target_values = X.to_numpy() if need_target else None
            covariates = np.zeros((len(X), 0))
            if reset:
                self.covariates_ = []
                self._y_name = X.name
        else:
            if self.series_id is not None:
                raise ValueError(f"series_id={self.series_id!r} needs X as a DataFrame.")
            if self.target is not None and reset:
                # Fitted with a target column, predict and update read an array's
                # columns as the covariates (and update its target from y).
                got = ("X is None" if X is None else
                       f"X (a {type(X).__name__}) has no named columns (a Pipeline's "
                       "transformers hand on arrays unless it is "
                       "set_output(transform='pandas'))")
                raise TypeError(
                    f"target={self.target!r} names a column of a DataFrame X, but {got}. "
                    "Pass X as a DataFrame with that column, or give the target as y with "
                    "target=None.")
            if X is None:
                if y is None:
                    raise ValueError(f"{name} needs X (a DataFrame, a Series, or covariates "
                                     "with y).")
                X = np.zeros((len(y), 0))
            if isinstance(y, pd.Series):
                index = y.index  # X has no index of its own: y's is the time index
            if _ndim(X) != 2:
                raise ValueError(
                    f"X has {_ndim(X)} dimension(s); give the target series as a 1-D "
                    "array or Series (with y=None), covariates as a 2-D array with y, or "
                    "a DataFrame naming the target column with target=...")
            check_not_times(X)
            covariates = _numeric_array(X, self)
            if reset:
                self.covariates_ = list(range(covariates.shape[1]))
                self._positional_covariates = True
            elif covariates.shape[1] != len(self.covariates_):
                hint = ""
                if self.target is not None and covariates.shape[1] == len(self.covariates_) + 1:
                    hint = (f" An array holds the covariates {self.covariates_} alone; pass "
                            "a DataFrame to give the columns by name, the target "
                            f"{self.target!r} among them.")
                raise ValueError(f"X has {covariates.shape[1]} features, but {name} is "
                                 f"expecting {len(self.covariates_)} features as input "
                                 f"(covariate columns).{hint}")
        if len(covariates) == 0:
            raise ValueError(f"X is empty: {name} needs at least one row.")
        if y is not None:
            if _num_samples(y) != len(covariates):
                raise ValueError(f"X has {len(covariates)} rows but y has "
                                 f"{_num_samples(y)}.")
            if need_target:
                target_values = column_or_1d(y, warn=True)
            if reset and isinstance(y, pd.Series):
                self._y_name = y.name
            # Compared as time stamps (a pyarrow index holds numpy's as well).
            y_index = _time_index(y.index) if isinstance(y, pd.Series) else None
            if y_index is not None and index is not None:
                index = _time_index(index)
                if not _in_zone_of(y_index, index[0] if len(index) else None).equals(index):
                    if not _numbers_rows(index, y_index):
                        raise ValueError(
                            "X and y are indexed differently; their rows would be paired "
                            "by position, not by time. Give y the index of X (or align "
                            "them with y.reindex(X.index)).")
                    index = y_index  # X's index counts rows: y's is the time index
        if need_target:
            target_values = self._check_target(target_values, need_target)
        index = None if index is None else _time_index(index)
        _check_finite_covariates(covariates, self.covariates_, index)
        if isinstance(index, pd.MultiIndex):
            raise ValueError(
                f"X is indexed by a MultiIndex {list(index.names)}; {name} reads the rows "
                "of one series as time steps in order, and several series from a column. "
                "Call X.reset_index() and name the series column with series_id=..., "
                "leaving the time stamps as the index.")
        indexed = index is not None
        if reset:
            # Covariates in a DataFrame with pandas' default index and the target
            # as an array or a Series of its own index: a transformer's pandas
            # output of arrays (a Pipeline under set_output(transform="pandas")).
            # Its index counts rows, not time, so later rows are read as an
            # array's: the steps after the data seen.
            self._counts_rows = (isinstance(X, pd.DataFrame) and y is not None
                                 and _numbers_rows(X.index, y_index)
                                 and not (isinstance(y, pd.Series)
                                          and y.index.equals(X.index)))
            # Where the fitted rows' numbers end: the next numbered rows follow.
            self._rows_end = X.index.stop if self._counts_rows else None
            # Forecasts come back in the target's container: arrays for a target
            # given as an array y (as TransformedTargetRegressor passes it).
            self._array_target = y is not None and not isinstance(y, pd.Series)
        elif (getattr(self, "_counts_rows", False) and series_col is None
              and isinstance(index, pd.RangeIndex) and index.step == 1):
            # Numbered rows, as fitted: pandas' default index (a transformer's
            # output) or the slice that follows the fitted rows' numbers are an
            # array's rows, the steps after the fitted data.
            end = getattr(self, "_rows_end", None)
            if not _default_index(index) and end is not None and index.start != end:
                raise ValueError(
                    f"The rows are numbered from {index.start}, but the rows seen so far "
                    f"end before number {end}: numbered rows (beside a time-indexed y at "
                    f"fit) must follow them, from {end}, none skipped or repeated. Give "
                    "the rows y's time index to place them in time.")
            indexed, index = False, None
        if index is None:
            index = pd.RangeIndex(len(covariates))
        if series_col is None:
            keys, rows = [None], [np.arange(len(covariates))]
            indexes = [index]  # not index[rows], which drops a DatetimeIndex's freq
        else:
            missing = pd.isna(series_col)
            if missing.any():
                raise ValueError(
                    f"The series_id column {self.series_id!r} has missing values (in "
                    f"{int(missing.sum())} row(s), e.g. at {index[np.argmax(missing)]!r}); "
                    "every row needs the series it belongs to.")
            if series_col.dtype == object:
                bad = next((v for v in series_col
                            if isinstance(v, (tuple, list, set, dict, np.ndarray))), None)
                if bad is not None:
                    raise ValueError(f"The series_id column {self.series_id!r} holds "
                                     f"sequences (e.g. {bad!r}); a series id must be one "
                                     "value (a number or a string).")
            codes, uniques = pd.factorize(series_col)
            keys = list(uniques)
            # Each series' rows in order, in one pass (not one scan per series).
            order = np.argsort(codes, kind="stable")
            rows = np.split(order, np.cumsum(np.bincount(codes, minlength=len(keys)))[:-1])
            indexes = [_keep_freq(index[r], getattr(index, "freq", None)) for r in rows]
        for key, sub in zip(keys, indexes) if indexed else ():  # (else: row numbers)
            _check_time_order(sub, key)
        return _Panel(keys=keys, rows=rows,
                      target=[None if target_values is None else target_values[r]
                              for r in rows],
                      covariates=[covariates[r] for r in rows],
                      index=indexes, indexed=indexed)

    def _check_target(self, values, need):
        """The target's values as float64, checked for what ``need`` needs."""
        if values is None and need == "fit":  # scikit-learn's wording
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None (or name the target column of a DataFrame with "
                             "target=...).")
        if values is None:
            hint = (f"X with the target column {self.target!r}" if self.target is not None
                    else "y (or name the target column of a DataFrame with target=...)")
            raise ValueError(f"{type(self).__name__}: {_TARGET_NEEDS[need]}, but none was "
                             f"given: pass {hint}.")
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind not in _NUMERIC_KINDS:
            raise ValueError(f"The target must be numeric; got values of type {kind!r}.")
        try:
            values = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("The target must be numeric.") from None
        if not np.isfinite(values).all():
            bad = np.flatnonzero(~np.isfinite(values))
            raise ValueError(
                f"The target has NaN or infinite values (in {len(bad)} row(s), the first at "
                f"position {bad[0]}): {_TARGET_NEEDS[need]}, with no NaN (fill or drop "
                "them first).")
        if self.loss == "poisson" and need != "score" and (values < 0).any():
            raise ValueError("loss='poisson' needs a non-negative target; got values down to "
                             f"{values.min():g}.")
        return values

    # ---------------------------------------------------------------- training
    def _training_data(self, X, y, *, reset, seed, device, early_stopping,
                       sample_weight=None):
        panel = self._parse(X, y, reset=reset, need_target="fit")
        if panel.indexed:
            _warn_skipped_steps(panel, type(self).__name__)
        row_weight = check_sample_weight(sample_weight, sum(len(r) for r in panel.rows))
        if row_weight is not None and np.all(row_weight == row_weight[0]):
            row_weight = None  # equal weights: exactly as unweighted
        if reset:
            self._fit_scaling(panel)
            # Columns of a 2-D X (a list of rows too), as sklearn counts them;
            # a series given alone counts as its one column.
            two_d = X is not None and _ndim(X) == 2
            self.n_features_in_ = _num_features(X) if two_d else len(self.covariates_) + 1
            names = _get_feature_names(X) if two_d else None
            if names is not None:
                self.feature_names_in_ = names
        positions = self._positions(panel.keys)
        L, h = self.lookback, self._train_horizon()
        blocks, train_starts, valid_starts, offset = [], [], [], 0
        tails_z, tails_c, window_weights = [], [], []
        for pos, key, target, cov, rows in zip(positions, panel.keys, panel.target,
                                               panel.covariates, panel.rows):
            n = len(target)
            if n < L + h:
                where = "" if key is None else f"Series {key!r}: "
                raise ValueError(f"{where}Too few rows (n_samples={n}) for lookback={L} "
                                 f"and {h} step(s) ahead; need at least {L + h}.")
            z, c = self._scale(target, pos), self._scale_covariates(cov, pos)
            blocks.append(_channels(z, c))
            starts = offset + np.arange(n - L - h + 1)
            if row_weight is not None:
                # Each step a window forecasts weighs its row's weight (a row of
                # weight 0 is never a target); a window whose rows all weigh 0 is
                # left out before the split, so the validation period is the
                # last stretch of windows that count.
                weight = np.lib.stride_tricks.sliding_window_view(row_weight[rows][L:], h)
                counts = weight.any(axis=1)
                starts, weight = starts[counts], weight[counts]
            n_valid = int(np.ceil(self.validation_fraction * len(starts))) if early_stopping else 0
            # Leave a gap of h - 1 windows so no training target falls in the
            # validation period.
            train_starts.append(starts[:max(len(starts) - n_valid - (h - 1 if n_valid else 0), 0)])
            valid_starts.append(starts[len(starts) - n_valid:] if n_valid else starts[:0])
            if row_weight is not None:
                window_weights.append((starts, weight))
            tails_z.append(z)
            tails_c.append(c)
            offset += n
        train_starts, valid_starts = np.concatenate(train_starts), np.concatenate(valid_starts)
        if row_weight is not None and len(train_starts) + len(valid_starts) == 0:
            raise ValueError("sample_weight leaves no training window with a non-zero "
                             "weight: every row a window would forecast weighs 0.")
        if len(train_starts) == 0:
            raise ValueError("No training windows are left after setting aside "
                             f"validation_fraction={self.validation_fraction} for early "
                             "stopping; use more rows, a smaller lookback, or "
                             "early_stopping=False.")
        weights = (None, None)
        if row_weight is not None:
            by_start = np.zeros((offset, h))
            for starts, weight in window_weights:
                by_start[starts] = weight
            if h == 1:
                by_start = by_start[:, 0]  # one weight per window
            weights = (unit_mean_weights(by_start[train_starts]),
                       unit_mean_weights(by_start[valid_starts]) if len(valid_starts) else None)
        if reset:
            self.tail_target_ = np.zeros((len(self.series_ids_), L), dtype=np.float32)
            self.tail_covariates_ = np.zeros((len(self.series_ids_), L, len(self.covariates_)),
                                             dtype=np.float32)
            self._index_info = [None] * len(self.series_ids_)
            self._time_name = panel.index[0].name
        for pos in positions:  # fitted rows replace the old origin, they don't extend it
            self._index_info[pos] = None
        self._advance_origin(positions, tails_z, tails_c, panel.index)
        series = torch.from_numpy(np.concatenate(blocks).astype(np.float32)).to(device)

        def dataset(starts, weight):
            if weight is not None:
                weight = torch.from_numpy(weight).to(device)
            return WindowDataset(series, series[:, 0], torch.from_numpy(starts).to(device),
                                 L, h, weight)

        return (dataset(train_starts, weights[0]),
                dataset(valid_starts, weights[1]) if len(valid_starts) else None)

    def _check_parameters(self):
        try:
            q = np.asarray(self.quantiles, dtype=np.float64)
        except (TypeError, ValueError):
            q = np.array([np.nan])  # not numbers: fails the check below
        # Checked whatever the loss: a value only loss="quantile" reads is still
        # a parameter the user set (and a grid search may switch the loss on).
        if (q.ndim != 1 or len(q) == 0 or not ((q > 0) & (q < 1)).all()
                or len(np.unique(q)) < len(q)):
            raise ValueError("quantiles must be a non-empty list of distinct numbers strictly "
                             f"between 0 and 1; got {self.quantiles!r}.")

    def _structure(self):
        structure = super()._structure()
        # The network that a recursive strategy trains forecasts one step, whatever
        # the horizon (forecast's default number of steps); quantiles shape it only
        # for the quantile loss. A warm start may change them.
        if self.strategy == "recursive":
            structure.pop("horizon")
        if self.loss != "quantile":
            structure.pop("quantiles")
        return structure

    def _predict_parameters(self):
        # horizon shapes the output only with strategy="direct"; with "recursive"
        # it is just forecast()'s default number of steps.
        direct = (getattr(self, "_built_with", None) or {}).get("strategy") == "direct"
        return _PREDICT_PARAMETERS + (("horizon",) if direct else ())

    def _train_horizon(self):
        return self.horizon if self.strategy == "direct" else 1

    def _fit_scaling(self, panel):
        self.series_ids_ = np.array(panel.keys, dtype=object)
        self.quantiles_ = np.asarray(self.quantiles, dtype=np.float64)  # checked
        centers, scales, cov_means, cov_scales, naive = [], [], [], [], []
        for target, cov in zip(panel.target, panel.covariates):
            if self.loss == "poisson":
                center, scale = 0.0, target.mean()
            else:
                center, scale = float(robust_mean(target)), float(robust_std(target))
            if not self.scale_inputs:
                center, scale = (0.0, 1.0)
            centers.append(center)
            scales.append(scale if scale > 0 else 1.0)
            mean, std = robust_mean(cov), robust_std(cov)
            cov_means.append(mean if self.scale_inputs else np.zeros_like(mean))
            cov_scales.append(np.where(std > 0, std, 1.0) if self.scale_inputs
                              else np.ones_like(std))
            naive.append(np.abs(np.diff(target)).mean() if len(target) > 1 else np.nan)
        self.target_center_, self.target_scale_ = np.array(centers), np.array(scales)
        self.covariate_mean_, self.covariate_scale_ = np.stack(cov_means), np.stack(cov_scales)
        self.naive_mae_ = np.array(naive)

    def _positions(self, keys):
        lookup = {key: i for i, key in enumerate(self.series_ids_)}
        unknown = [key for key in keys if key not in lookup]
        if unknown:
            raise ValueError(f"Series {unknown} were not seen in fit; the forecaster needs "
                             "a series' history to forecast it.")
        return np.array([lookup[key] for key in keys], dtype=np.int64)

    def _scale(self, target, pos):
        scaled = (target - self.target_center_[pos]) / self.target_scale_[pos]
        if not (np.abs(scaled) < np.finfo(np.float32).max).all():
            raise ValueError("Target values are too large for the network's float32 "
                             "arithmetic once scaled (with the statistics of the first "
                             "fit); rescale them, or fit again.")
        return scaled

    def _unscale(self, z, pos):
        return np.asarray(z, dtype=np.float64) * self.target_scale_[pos] + self.target_center_[pos]

    def _scale_covariates(self, cov, pos):
        scaled = (cov - self.covariate_mean_[pos]) / self.covariate_scale_[pos]
        if not (np.abs(scaled) < np.finfo(np.float32).max).all():
            raise ValueError("Covariate values are too large for the network's float32 "
                             "arithmetic once scaled; rescale them.")
        return scaled

    def _build_module(self):
        n_quantiles = len(self.quantiles_) if self.loss == "quantile" else None
        return ForecastNet(1 + len(self.covariates_), self._train_horizon(),
                           n_quantiles=n_quantiles, level=self.level,
                           link="log" if self.loss == "poisson" else "identity",
                           **self._recurrent_kwargs())

    def _criterion(self):
        return _LOSSES[self.loss]

    def _make_engine(self, device, settings):
        if self.loss == "poisson":
            settings = {**settings, "criterion__log_input": False}
        elif self.loss == "quantile":
            settings = {**settings, "criterion__quantiles": self.quantiles_.tolist()}
        return super()._make_engine(device, settings)

    # ---------------------------------------------------------------- prediction
    def _median_index(self):
        """The quantile ``predict`` returns: the one nearest 0.5, the lower of two
        equally near (distances rounded, so that 0.3 and 0.7 count as equal)."""
        distance = np.round(np.abs(self.quantiles_ - 0.5), 9)
        nearest = np.flatnonzero(distance == distance.min())
        return int(nearest[np.argmin(self.quantiles_[nearest])])

    def _point_forecasts(self, forecasts):
        """Per-series point forecasts: the median quantile's column with quantile loss."""
        if self.loss == "quantile":
            return [f[:, self._median_index()] for f in forecasts]
        return forecasts

    def _predict_panel(self, X, panel=None):
        self._check_fitted("predict")
        if panel is None:
            panel = self._parse(X, None, reset=False)
        positions = self._positions(panel.keys)
        offsets = []
        for pos, key, rows, index in zip(positions, panel.keys, panel.rows, panel.index):
            steps = self._step_offsets(pos, index, key, "predict") if panel.indexed else None
            steps = np.arange(len(rows)) if steps is None else steps
            if self.covariates_ and steps[-1] != len(rows) - 1:
                missing = self._missing_steps(pos, steps)
                raise ValueError(
                    f"The rows to predict{_of_series(key)} skip {len(missing)} step(s) "
                    f"after the fitted data (which ends at {self._origin(pos)[1]}), "
                    f"e.g. {', '.join(map(str, missing[:3]))}; this forecaster uses covariates "
                    f"{self.covariates_}, whose values at those steps are unknown, so it "
                    "cannot forecast across them. Give rows for every step after the "
                    "fitted data, or move the origin with update().")
            offsets.append(steps)
        # Without covariates a gap is rolled through; with them offsets are 0..n-1.
        covariates = [self._scale_covariates(c, p) if self.covariates_
                      else np.zeros((o[-1] + 1, 0))
                      for c, p, o in zip(panel.covariates, positions, offsets)]
        scaled = self._rollout(positions, covariates, [o[-1] + 1 for o in offsets])
        return panel, [self._unscale(f[o], p) for f, p, o in zip(scaled, positions, offsets)]

    def _rollout(self, positions, covariates, steps):
        """Scaled forecasts of ``steps[i]`` steps for series ``positions[i]``.

        All series advance together: a window per series per forward pass.
        The rollout stays on the model's device (each step's forecast is
        written where the next window reads it) and is read back once, so a
        GPU does not wait for the host between steps.
        """
        L, h, m = self.lookback, self._train_horizon(), max(steps)
        stride = 1 if self.strategy == "recursive" else h
        n_series, k = len(positions), len(self.covariates_)
        # float32 target, covariates and quantiles, on the host and the device.
        check_memory(2 * 4 * n_series * (L + m + h) * (1 + k + len(self.quantiles_)),
                     f"Forecasting {m} steps ahead" + (f" for {n_series} series"
                                                       if n_series > 1 else ""),
                     "ask for fewer steps (or rows nearer the end of the data seen)")
        z = np.zeros((n_series, L + m + h), dtype=np.float32)
        c = np.zeros((n_series, L + m + h, k), dtype=np.float32)
        z[:, :L] = self.tail_target_[positions]
        c[:, :L] = self.tail_covariates_[positions]
        for i, cov in enumerate(covariates):
            c[i, L:L + len(cov)] = cov
            c[i, L + len(cov):] = c[i, L + len(cov) - 1]  # unused padding
        quantile = self.loss == "quantile"
        module = self.net_.module_
        if any(m.training for m in module.modules()):  # (eval() writes each: 40 us)
            module.eval()
        device = torch.device(self.net_.device)
        z, c = torch.from_numpy(z).to(device), torch.from_numpy(c).to(device)
        q_out = torch.zeros((n_series, m + h, len(self.quantiles_)) if quantile else 0,
                            device=device, dtype=torch.float32)
        with torch_threads(self.n_threads), torch.no_grad():
            for start in range(0, m, stride):
                out = module(torch.cat([z[:, start:start + L, None],
                                        c[:, start + 1:start + L + 1]], dim=2))
                if quantile:
                    q_out[:, start:start + stride] = out[:, :stride]
                    out = out[..., self._median_index()]
                z[:, L + start:L + start + stride] = out[:, :stride]
        z, q_out = z.cpu().numpy(), q_out.cpu().numpy()
        if quantile:
            return [q_out[i, :s] for i, s in enumerate(steps)]
        return [z[i, L:L + s] for i, s in enumerate(steps)]

    def _assemble(self, X, panel, values, name):
        n = sum(len(r) for r in panel.rows)
        shape = (n,) + values[0].shape[1:]
        out = np.empty(shape)
        for rows, v in zip(panel.rows, values):
            out[rows] = v
        if isinstance(X, (pd.DataFrame, pd.Series)) and not getattr(self, "_array_target",
                                                                    False):
            if out.ndim == 2:
                return pd.DataFrame(out, index=X.index, columns=name)
            return pd.Series(out, index=X.index, name=name)
        return out

    def _future_index(self, pos, steps):
        kind, last, step, _ = self._origin(pos)
        if kind in _FREQ_KINDS and step is None:
            raise ValueError("The time index has no frequency that pandas can infer; "
                             f"give X a {type(pd.Index([last])).__name__} with a freq to "
                             "use forecast().")
        if kind in _RANGES:
            return _RANGES[kind](start=last, periods=steps + 1, freq=step)[1:]
        return pd.Index(last + step * np.arange(1, steps + 1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        # fit(series) and fit(frame) with target= need no y. (one_d_array stays
        # False: a 1-D X is the target itself, never covariates beside a y.)
        tags.target_tags.required = False
        return tags


def _default_index(index):
    """pandas' default index: a RangeIndex 0, 1, 2, ..."""
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _numbers_rows(index, y_index):
    """Whether a frame X's ``index`` only numbers its rows beside a Series ``y``
    indexed by ``y_index`` (None: no Series): pandas' default index, or --
    beside time stamps -- any RangeIndex of step 1 (a slice of a default
    index: a cross-validation fold of covariates whose time index is y's)."""
    if _default_index(index):
        return True
    return (isinstance(index, pd.RangeIndex) and index.step == 1
            and isinstance(y_index, (pd.DatetimeIndex, pd.PeriodIndex, pd.TimedeltaIndex)))


def _time_index(index):
    """``index`` as time stamps (or numbers) where it holds them as objects.

    ``datetime.date`` objects (``df["day"].dt.date``) and pyarrow time stamps or
    dates become a DatetimeIndex, so rows are placed in time as with datetime64;
    timedelta objects and pyarrow durations a TimedeltaIndex; integers or
    floats held as objects, and a CategoricalIndex of any of these, a numeric
    index. Strings that read as dates (a CSV read
    without ``parse_dates``) are refused rather than taken for labels, whose
    rows could only be read as the steps after the fitted data.
    """
    if isinstance(index, pd.CategoricalIndex):  # the values, not the categories' codes
        index = pd.Index(np.asarray(index), name=index.name)
    if isinstance(index.dtype, pd.ArrowDtype) and index.dtype.kind in "Mm":
        # pyarrow timestamps, dates and durations (read_parquet or read_csv with
        # dtype_backend="pyarrow"): numpy's, so rows are placed in time.
        as_numpy = pd.DatetimeIndex if index.dtype.kind == "M" else pd.TimedeltaIndex
        return as_numpy(index, name=index.name)
    if index.dtype != object and not pd.api.types.is_string_dtype(index):
        return index
    kind = pd.api.types.infer_dtype(index, skipna=False)
    # Numbers and elapsed times held as objects are placed in time as such, not
    # taken for labels (whose rows would be counted as the steps after the data).
    if kind == "integer" and all(-2**63 <= v < 2**63 for v in index):
        return pd.Index(index.to_numpy(dtype=np.int64), name=index.name)
    if kind in ("floating", "mixed-integer-float"):
        return pd.Index(index.to_numpy(dtype=np.float64), name=index.name)
    if kind in ("timedelta", "timedelta64"):
        return pd.TimedeltaIndex(index, name=index.name)
    if kind in ("date", "datetime"):
        try:
            return pd.DatetimeIndex(index, name=index.name)
        except (ValueError, TypeError) as exc:  # mixed time zones, say
            raise ValueError(f"The time index holds date/time objects that do not make one "
                             f"DatetimeIndex ({exc}); convert it with pd.to_datetime "
                             "(utc=True for mixed time zones).") from None
    if kind == "string" and len(index):
        dates = pd.to_datetime(pd.Series(index), format="ISO8601", errors="coerce")
        if not dates.notna().any():
            return index
        raise TypeError(
            f"The time index holds strings that read as dates (e.g. "
            f"{index[int(np.argmax(dates.notna().to_numpy()))]!r}); parse "
            "them first (pd.to_datetime(df.index), or read_csv(..., parse_dates=[...], "
            "index_col=...)), so that rows are placed in time.")
    return index


def _check_finite_covariates(covariates, names, index):
    if np.isfinite(covariates).all():
        return
    bad = ~np.isfinite(covariates)
    row, col = np.argwhere(bad)[0]
    at = f"row {row}" if index is None else f"row {row} ({index[row]!r})"
    columns = [names[c] for c in np.flatnonzero(bad.any(axis=0))]
    raise ValueError(f"Covariates have NaN or infinite values: {int(bad.sum())} "
                     f"value(s) in column(s) {columns}, the first at {at}. Fill or "
                     "drop them first.")


def _numeric_columns(X, columns):
    """Covariate columns of frame ``X`` as float64. Numbers and booleans (flags
    such as holidays) are read as numbers, object columns too where they hold
    numbers; dates, text and categories must be encoded first (complex numbers
    too: their imaginary part would be dropped)."""
    # Each column is read once (an X[c] per dtype test and an X[columns] copy
    # cost 160 us when predicting one row).
    series = {c: X[c] for c in columns}  # (column names are unique: checked before)
    kinds = {c: column.dtype for c, column in series.items()}
    bad = [c for c, t in kinds.items()
           if pd.api.types.is_complex_dtype(t)
           or not (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)
                   or (t == object and pd.api.types.infer_dtype(series[c], skipna=True)
                       in _NUMERIC_KINDS))]
    if bad:
        times = [c for c in bad if pd.api.types.is_datetime64_any_dtype(kinds[c])
                 or isinstance(kinds[c], pd.PeriodDtype)]
        hint = (f" A column of time stamps is the time index: X.set_index({times[0]!r})."
                if times else "")
        raise TypeError(f"Covariate columns must be numeric (or boolean); {bad} are not "
                        f"(dtypes {[str(kinds[c]) for c in bad]}). Every column of X other "
                        f"than target and series_id is a covariate: drop the columns that "
                        f"are not (X.drop(columns={bad!r})) or encode them as numbers."
                        f"{hint}")
    values = np.empty((len(X), len(columns)), dtype=np.float64)
    for j, column in enumerate(series.values()):
        values[:, j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    return values


def _in_zone_of(index, stamp):
    """``index`` in the time zone of ``stamp`` when both are tz-aware (the same
    instants), else as it is."""
    if (isinstance(index, pd.DatetimeIndex) and index.tz is not None
            and getattr(stamp, "tzinfo", None) is not None):
        return index.tz_convert(stamp.tzinfo)
    return index


def _numeric_array(X, estimator):
    """Covariates given as an array (or list of rows) as float64, refused as the
    DataFrame path refuses them: text (numeric strings too) with a TypeError."""
    if type(X) is np.ndarray and X.dtype.kind == "f" and len(X):  # (check_array: 110 us)
        return X.astype(np.float64, copy=False)  # (2-D: _ndim; finite: checked later)
    values = X if hasattr(X, "dtype") else np.asarray(X)
    if values.dtype.kind in "US" or (values.dtype == object and any(
            isinstance(v, (str, bytes)) for v in values.ravel())):
        raise TypeError("Covariates must be numeric (or boolean); X holds text. Encode it "
                        "as numbers first.")
    return check_array(X, dtype=np.float64, ensure_min_features=0, ensure_all_finite=False,
                       estimator=estimator)


def _channels(z, c):
    """Rows ``[z_j, c_{j+1}]``: each step carries the covariates of the step after
    it, so a window ending at ``t - 1`` sees the covariates of the forecast step
    ``t``. The last row's covariates are unknown and never used in training."""
    block = np.zeros((len(z), 1 + c.shape[1]))
    block[:, 0] = z
    block[:-1, 1:] = c[1:]
    return block


def _ndim(X):
    ndim = getattr(X, "ndim", None)
    if ndim is not None:
        return ndim
    try:
        return np.asarray(X).ndim
    except ValueError:  # numpy 2: rows of different lengths
        raise ValueError("X has rows of different lengths; covariates must be a 2-D "
                         "array (n_steps, n_covariates).") from None


def _warn_skipped_steps(panel, name):
    """Warn where a series' time index skips steps of its regular grid: rows are
    read as consecutive steps, so training windows run across the gap."""
    skipped = [(key, index, gaps) for key, index in zip(panel.keys, panel.index)
               if (gaps := _grid_gaps(index)) is not None]
    if not skipped:
        return
    key, index, (step, missing) = skipped[0]
    later = ("later rows are placed by their periods" if isinstance(index, pd.PeriodIndex) else
             "as the index has no regular step, predict and update read later rows as the "
             "steps right after the data seen, in order, whatever their time stamps")
    more = f" (and the time index of {len(skipped) - 1} more series)" if len(skipped) > 1 else ""
    warnings.warn(
        f"The time index{_of_series(key)}{more} skips {len(missing)} of its steps "
        f"(step {step}), e.g. {', '.join(missing[:3].astype(str))}. {name} reads the rows as "
        f"consecutive steps, so training windows run across the gap; {later}. Fill the "
        "missing steps first (reindex on the full grid and interpolate) to train and "
        "forecast on regular steps.", UserWarning, stacklevel=5)


def _check_time_order(index, key):
    where = "" if key is None else f" of series {key!r}"
    if index.hasnans:
        raise ValueError(f"The time index{where} has missing time stamps (NaT or NaN, "
                         f"e.g. at row {int(np.argmax(pd.isna(index)))}); every row needs "
                         "its time stamp.")
    if not index.is_unique:
        dup = index[index.duplicated()][0]
        raise ValueError(f"The time index{where} has duplicated time stamps (e.g. {dup!r}); "
                         "rows must be consecutive time steps.")
    if not index.is_monotonic_increasing:
        raise ValueError(f"The time index{where} is not sorted; sort the rows by time "
                         "first (rows must be consecutive time steps).")


def _infer_freq(index):
    """The frequency pandas infers for ``index``, as an offset (or None).

    pandas 3.1 warns that ``infer_freq`` will return an offset instead of a
    string and offers an option to opt in; older versions have no option.
    """
    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            freq = pd.infer_freq(index)
    except pd.errors.OptionError:
        freq = pd.infer_freq(index)
    return None if freq is None else pd.tseries.frequencies.to_offset(freq)


_KIND_NAMES = {"datetime": "time stamps (DatetimeIndex)", "period": "periods (PeriodIndex)",
               "timedelta": "elapsed times (TimedeltaIndex)",
               "number": "numbers", "position": "labels"}


def _of_series(key):
    return "" if key is None else f" of series {key!r}"


def _keep_freq(index, freq):
    """``index`` (a series' rows of a frame's index) with the frame's ``freq`` back,
    where its time stamps are regular with it (integer indexing drops it)."""
    if freq is None or not isinstance(index, pd.DatetimeIndex) or len(index) == 0:
        return index
    try:
        return pd.DatetimeIndex(index, freq=freq)
    except ValueError:  # this series skips steps: no freq
        return index


#: The regular time grids of the index kinds that have one.
_RANGES = {"datetime": pd.date_range, "period": pd.period_range,
           "timedelta": pd.timedelta_range}
#: The kinds whose step is a frequency that may be unknown (not inferable).
_FREQ_KINDS = ("datetime", "timedelta")


def _index_kind(index):
    """The kind of time stamps ``index`` holds (the first entry of _index_info)."""
    if isinstance(index, pd.DatetimeIndex):
        return "datetime"
    if isinstance(index, pd.TimedeltaIndex):
        return "timedelta"
    if isinstance(index, pd.PeriodIndex):
        return "period"
    if pd.api.types.is_integer_dtype(index) or pd.api.types.is_float_dtype(index):
        return "number"
    return "position"


def _index_info(index):
    """What forecast() needs to extend ``index`` and predict/update to place rows
    after it: (kind, last value, step/freq, whether that step is known to be
    regular, so that a skipped step can be told)."""
    kind = _index_kind(index)
    if kind in ("datetime", "timedelta"):  # on a frequency
        freq = index.freq
        if freq is None and len(index) >= 3:
            freq = _infer_freq(index)
        return kind, index[-1], freq, freq is not None
    if kind == "period":
        return "period", index[-1], index.freq, True
    if kind == "number":
        step = index[-1] - index[-2] if len(index) >= 2 else 1
        diffs = np.diff(np.asarray(index, dtype=np.float64))
        regular = len(diffs) > 0 and np.allclose(diffs, diffs[0], rtol=1e-9, atol=0)
        return "number", index[-1], step, bool(regular)
    return "position", len(index) - 1, 1, False


#: The share of a grid's steps an index may skip and still be read as that grid
#: with gaps (a missing year); more (trading hours, irregular times) is a
#: calendar of its own.
_MAX_SKIPPED_SHARE = 0.1


def _grid_gaps(index):
    """(step, skipped time stamps) where ``index`` -- sorted, unique -- lies on
    a regular grid of time steps but skips a few of them (at most a tenth);
    else None.

    The step is the smallest difference for numbers, the frequency for
    periods, and one that pandas infers on a run of three stamps for time
    stamps and elapsed times. Business days are not read as skipping their
    holidays, nor weekday-only daily data their weekends: trading days are
    the steps of such series.
    """
    n = len(index)
    if n < 3:
        return None
    most = int(n / (1 - _MAX_SKIPPED_SHARE))  # grid steps, at most
    if isinstance(index, pd.PeriodIndex):
        if index.freqstr.startswith("B"):
            return None
        span = (index.asi8[-1] - index.asi8[0]) // max(getattr(index.freq, "n", 1), 1) + 1
        if span == n or span > most:
            return None
        return index.freqstr, pd.period_range(index[0], index[-1], freq=index.freq
                                              ).difference(index)
    if pd.api.types.is_integer_dtype(index) or pd.api.types.is_float_dtype(index):
        values = np.asarray(index, dtype=np.float64)
        diffs = np.diff(values)
        step = diffs.min()
        ratio = diffs / step
        whole = np.round(ratio)
        if (not np.isfinite(ratio).all() or whole.sum() + 1 > most or whole.sum() == n - 1
                or not np.allclose(ratio, whole, rtol=0, atol=1e-6)):
            return None
        at = np.concatenate([[0], np.cumsum(whole)]).astype(np.int64)
        skipped = np.setdiff1d(np.arange(at[-1] + 1), at)
        if pd.api.types.is_integer_dtype(index) and float(step).is_integer():
            return int(step), pd.Index(index[0] + int(step) * skipped)
        step = (values[-1] - values[0]) / at[-1]  # the mean step: less rounding error
        return f"{step:.10g}", pd.Index([f"{v:.10g}" for v in values[0] + step * skipped])
    if (not isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex))
            or index.freq is not None or _infer_freq(index) is not None):
        return None
    weekdays_only = (isinstance(index, pd.DatetimeIndex)
                     and not (index.day_of_week >= 5).any())
    for start in dict.fromkeys(min(k * n // 4, n - 3) for k in range(5)):
        run = index[start:start + 3]
        freq = _infer_freq(run)
        if freq is None:
            continue
        if (weekdays_only and freq.freqstr in ("D", "B")) or freq.freqstr.startswith("C"):
            return None  # trading days: holidays and weekends are not steps
        # Grid steps over the span, at the run's spacing: the grid is built only
        # where it is short (a calendar frequency over decades is not).
        if (index[-1] - index[0]) / ((run[-1] - run[0]) / 2) + 1 > most:
            continue
        grid = _RANGES["datetime" if isinstance(index, pd.DatetimeIndex) else "timedelta"](
            start=index[0], end=index[-1], freq=freq)
        if len(grid) > most or not index.isin(grid).all():
            continue
        return freq.freqstr, grid.difference(index)
    return None


_DOC = """{summary}

    Fits a global recurrent network on windows of ``lookback`` steps cut from
    one or several series *inside* ``fit``, so that under ``TimeSeriesSplit``
    a fold never sees its own future. Each window step carries the target
    and the covariates of the following step, so a forecast for step ``t``
    uses the target up to ``t - 1`` and the covariates of step ``t`` (taken
    from the rows passed to ``predict``). Target and covariates are
    standardised per series inside the estimator; forecasts come back in the
    original units.

    Parameters
    ----------{cell}
    target : str, int or None, default=None
        The column (label) of a DataFrame ``X`` to forecast; the other numeric columns
        (but ``series_id``) are covariates. None: the target is ``y`` (or ``X``
        itself when ``X`` is a Series).
    lookback : int, default=8
        Past steps the network reads for each forecast. For seasonal series,
        about two seasons (24 for monthly data) did best in the study.
    horizon : int, default=1
        Steps forecast at once by the "direct" strategy, and the default
        number of steps of ``forecast()``.
    strategy : {{"recursive", "direct"}}, default="recursive"
        "recursive" trains one-step forecasts and feeds them back;
        "direct" forecasts ``horizon`` steps from one window. A direct window
        sees the covariates of the first step it forecasts only; the
        covariates of its later steps are not used.
    series_id : str, int or None, default=None
        Column (label) naming the series of each row (long format): one global model
        across series, with per-series scaling.
    level : bool, default=True
        Express each window relative to its level (its last value; with
        ``loss="poisson"`` its mean, multiplicatively), so the network learns
        changes and an untrained network forecasts "no change" plus its
        output layer's random change, about one naive error (zeroing that
        layer trained worse: benchmarks/RESULTS.md). This handles trends
        and series of different levels.
    loss : {{"squared_error", "absolute_error", "poisson", "quantile"}}, default="squared_error"
        "poisson" suits counts (log link, non-negative target);
        "quantile" trains one output per entry of ``quantiles`` with the
        pinball loss (see ``predict_quantiles``).
    quantiles : array-like of float, default=(0.1, 0.5, 0.9)
        Distinct quantiles for ``loss="quantile"``; ``predict`` returns the
        one nearest 0.5 (the lower of two equally near).
{sizes}    pooling : {{"last", "mean", "max"}}, default="last"
        How a window's hidden states are summarised before the output layer:
        the state at its last step, or the mean/max over its steps.
    max_epochs : int, default=100
        Upper bound on passes over the training windows.
    batch_size : int or "auto", default="auto"
        Windows per gradient step; "auto" takes ``n_train // 32`` within
        [16, 128], ``n_train`` being the number of training windows.
    lr : float, default=1e-3
        Learning rate.
{optimizer}    clip_grad_norm : float or None, default=None
        Clip the global gradient norm to this value at every step; None
        turns clipping off.
    early_stopping : bool, default=True
        Hold out the last ``validation_fraction`` of each series' windows
        (in time; with ``strategy="direct"`` after a gap of ``horizon - 1``
        windows, so no training target falls in them) and stop when their
        loss stops improving; keep the best epoch.
    validation_fraction : float, default=0.1
        Share of the windows held out for early stopping.
    patience : int, default=20
        Epochs without improvement before stopping. The training defaults
        here were chosen on nine forecasting series (benchmarks/RESULTS.md):
        patience 20 and batch_size "auto" cut the geometric-mean MASE by
        15%; the regressors' lr=3e-3 and clipping did not help here.
{tol}    scale_inputs : bool, default=True
        Standardise the target and the covariates per series (statistics
        from the first fit); False feeds both in their own units.
{warm}    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and batch order (the validation
        windows are the last ones, in time). An int gives identical results
        on CPU. Never changes numpy's or torch's global random state.
{session}    tbptt_steps : int or None, default=None
        Truncated backpropagation through time: read each window in chunks
        of this many steps, counted back from its end, detaching the hidden
        state between chunks (see :class:`~sklearn_rnn.RNNRegressor`). None
        (or a value >= ``lookback``) is full BPTT. Needs
        ``bidirectional=False``.
{persistence}
    Attributes
    ----------
    n_features_in_ : int
        Columns of a 2-D ``X`` (the target and ``series_id`` columns
        included when they are in it); else the covariates plus one.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.
    series_ids_ : ndarray
        The series seen in fit (``[None]`` for a single series).
    covariates_ : list
        Covariate columns (names, or positions for array input).
    target_center_, target_scale_ : ndarray of shape (n_series,)
        Per-series target scaling.
    covariate_mean_, covariate_scale_ : ndarray of shape (n_series, n_covariates)
        Per-series covariate scaling.
    quantiles_ : ndarray
        ``quantiles`` as an array, in the order given: the columns of
        ``predict_quantiles`` (``loss="quantile"``).
    naive_mae_ : ndarray of shape (n_series,)
        In-sample mean absolute error of the naive one-step forecast, the
        scale of :func:`~sklearn_rnn.metrics.mase_scorer`.
    tail_target_, tail_covariates_ : ndarray
        The last ``lookback`` scaled steps of each series, where forecasts
        start.
    n_iter_, history_, net_
        As for :class:`~sklearn_rnn.RNNRegressor`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_rnn import {name}
    >>> t = np.arange(120)
    >>> df = pd.DataFrame({{"y": np.sin(t / 4) + t / 50}},
    ...                   index=pd.date_range("2000-01", periods=120, freq="MS"))
    >>> fc = {name}({args}target="y", lookback=12, hidden_size=16, max_epochs=20,
    ...     random_state=0).fit(df)
    >>> fc.forecast(3).index[0]
    Timestamp('2010-01-01 00:00:00')
"""

#: The entries the forecasters share with the recurrent estimators, word for word.
_SHARED_DOCS = dict(
    sizes=parameter_docs("hidden_size", "num_layers", "dropout", "bidirectional"),
    optimizer=parameter_docs("optimizer", "weight_decay"), tol=parameter_docs("tol"),
    warm=parameter_docs("warm_start"),
    session=parameter_docs("device", "n_threads", "verbose"),
    persistence=parameter_docs("forget_bias", "checkpoint_dir", "fast_path"))


class RNNForecaster(_BaseForecaster):
    __doc__ = _DOC.format(summary="Recurrent forecaster on a choice of cell.",
                          name="RNNForecaster", args='cell="gru", ', cell="""
    cell : {"elman", "lstm", "gru"}, default="lstm"
        The recurrent cell.""", **_SHARED_DOCS)

    _parameter_constraints = {**_BaseForecaster._parameter_constraints,
                              "cell": [StrOptions(set(RNN_CELLS))]}

    def __init__(self, cell="lstm", *, target=None, lookback=8, horizon=1,
                 strategy="recursive", series_id=None, level=True, loss="squared_error",
                 quantiles=(0.1, 0.5, 0.9), hidden_size=64, num_layers=1, dropout=0.0,
                 bidirectional=False, pooling="last", max_epochs=100, batch_size="auto",
                 lr=1e-3, optimizer="adam", weight_decay=0.0, clip_grad_norm=None,
                 early_stopping=True, validation_fraction=0.1, patience=20, tol=1e-4,
                 scale_inputs=True, warm_start=False, random_state=None, device="cpu",
                 n_threads=1, verbose=0, tbptt_steps=None, forget_bias=1.0,
                 checkpoint_dir=None, fast_path=True):
        store_parameters(self, locals())


class LSTMForecaster(_BaseForecaster):
    __doc__ = _DOC.format(summary="Recurrent forecaster on an LSTM network.",
                          name="LSTMForecaster", args="", cell="", **_SHARED_DOCS)
    _cell = "lstm"
