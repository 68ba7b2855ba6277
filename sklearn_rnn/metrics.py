"""Forecast skill against the naive forecasts that keep forecasting demos honest."""

import numpy as np
from sklearn.utils.validation import check_consistent_length, column_or_1d


def naive_forecast(y_train, steps, *, seasonality=1):
    """Repeat the last observed season: the (seasonal) naive forecast.

    Parameters
    ----------
    y_train : array-like of shape (n_steps,)
        The observed series, oldest first.
    steps : int
        Steps to forecast after its end.
    seasonality : int, default=1
        1 repeats the last value ("no change"); ``m`` repeats the last ``m``
        values (seasonal naive).

    Returns
    -------
    forecast : ndarray of shape (steps,)

    Examples
    --------
    >>> naive_forecast([1, 2, 3, 4], 3, seasonality=2)
    array([3., 4., 3.])
    """
    y_train = column_or_1d(y_train).astype(np.float64)
    if seasonality < 1 or len(y_train) < seasonality:
        raise ValueError(f"seasonality={seasonality} needs 1 <= seasonality <= "
                         f"len(y_train)={len(y_train)}.")
    return np.resize(y_train[-seasonality:], steps)


def mean_absolute_scaled_error(y_true, y_pred, *, y_train, seasonality=1):
    """MASE: forecast MAE divided by the in-sample MAE of the naive forecast.

    Below 1, the forecast beats what (seasonal) naive one-step forecasts
    achieved on the training series (Hyndman & Koehler, 2006).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_steps,)
    y_train : array-like of shape (n_train,)
        The series the forecast was made from.
    seasonality : int, default=1

    Returns
    -------
    mase : float

    Examples
    --------
    >>> mean_absolute_scaled_error([5, 6], [5, 5], y_train=[1, 2, 3, 4])
    0.5
    """
    y_true, y_pred = column_or_1d(y_true), column_or_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    y_train = column_or_1d(y_train).astype(np.float64)
    if len(y_train) <= seasonality:
        raise ValueError(f"y_train needs more than seasonality={seasonality} values.")
    scale = np.mean(np.abs(y_train[seasonality:] - y_train[:-seasonality]))
    if scale == 0:
        raise ValueError("The naive forecast is exact on y_train (a constant series), so "
                         "MASE is undefined.")
    return float(np.mean(np.abs(y_true - y_pred)) / scale)


def mase_scorer(estimator, X, y=None):
    """Scorer: minus the MASE of a fitted forecaster's ``predict(X)``.

    The scale of each series is its in-sample naive one-step MAE recorded at
    fit (``naive_mae_``), so this works in ``cross_val_score`` and
    ``GridSearchCV`` (``scoring=mase_scorer``) without the training data.
    Greater is better; above -1 the forecaster beats the naive forecast's
    in-sample error.
    """
    panel = estimator._parse(X, y, fitting=False)
    if any(t is None for t in panel.target):
        raise ValueError("mase_scorer needs the true target values in X (or y).")
    pred = np.asarray(estimator.predict(X), dtype=np.float64)
    positions = estimator._positions(panel.keys)
    errors = np.empty(len(pred))
    for key, rows, target, pos in zip(panel.keys, panel.rows, panel.target, positions):
        scale = estimator.naive_mae_[pos]
        if not scale > 0:
            raise ValueError(f"Series {key!r} was constant in fit, so its MASE is undefined.")
        errors[rows] = np.abs(target - pred[rows]) / scale
    return -float(errors.mean())
