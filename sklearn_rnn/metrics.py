"""Forecast skill against the naive forecasts that keep forecasting demos honest."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import MetadataRequest, _routing_enabled
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted

from .utils import check_count, check_sample_weight


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
        The last ``seasonality`` values of ``y_train`` repeated, as float64.

    Examples
    --------
    >>> from sklearn_rnn.metrics import naive_forecast
    >>> naive_forecast([1, 2, 3, 4], 3, seasonality=2)
    array([3., 4., 3.])
    """
    y_train = _series(y_train, "y_train")
    check_count(steps, "steps")
    check_count(seasonality, "seasonality")
    if len(y_train) < seasonality:
        raise ValueError(f"seasonality={seasonality} needs 1 <= seasonality <= "
                         f"len(y_train)={len(y_train)}.")
    return np.resize(y_train[-seasonality:], steps)


def _series(values, name):
    """A finite, non-empty 1-D float64 array named ``name`` in errors."""
    values = check_array(values, ensure_2d=False, dtype=np.float64, input_name=name)
    if values.ndim == 2 and values.shape[1] == 1:
        return values.ravel()
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one series); got shape {values.shape}.")
    return values


def mean_absolute_scaled_error(y_true, y_pred, *, y_train, seasonality=1):
    """MASE: forecast MAE divided by the in-sample MAE of the naive forecast.

    Below 1, the forecast beats what (seasonal) naive one-step forecasts
    achieved on the training series (Hyndman & Koehler, 2006).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_steps,)
        The observed values and their forecasts.
    y_train : array-like of shape (n_train,)
        The series the forecast was made from, with more than
        ``seasonality`` values, not exactly repeating every
        ``seasonality`` steps.
    seasonality : int, default=1
        The naive forecast of the scale repeats the value ``seasonality``
        steps back (1: the previous value).

    Returns
    -------
    mase : float
        ``mean(|y_true - y_pred|)`` divided by the naive forecast's in-sample
        mean absolute error on ``y_train``.

    Examples
    --------
    >>> from sklearn_rnn.metrics import mean_absolute_scaled_error
    >>> mean_absolute_scaled_error([5, 6], [5, 5], y_train=[1, 2, 3, 4])
    0.5
    """
    y_true, y_pred = _series(y_true, "y_true"), _series(y_pred, "y_pred")
    check_consistent_length(y_true, y_pred)
    y_train = _series(y_train, "y_train")
    check_count(seasonality, "seasonality")
    if len(y_train) <= seasonality:
        raise ValueError(f"y_train needs more than seasonality={seasonality} values.")
    scale = np.mean(np.abs(y_train[seasonality:] - y_train[:-seasonality]))
    if scale == 0:
        what = ("a constant series" if seasonality == 1
                else f"a series that repeats every {seasonality} steps")
        raise ValueError(f"The naive forecast is exact on y_train ({what}), so MASE is "
                         "undefined.")
    return float(np.mean(np.abs(y_true - y_pred)) / scale)


class _MASEScorer:
    """Scorer: minus the MASE of a fitted forecaster's ``predict(X)``.

    The scale of each series is its in-sample naive one-step MAE recorded at
    fit (``naive_mae_``), so this works in ``cross_val_score`` and
    ``GridSearchCV`` (``scoring=mase_scorer``) without the training data.
    Greater is better; above -1 the forecaster beats the naive forecast's
    in-sample error. ``estimator`` may be a Pipeline ending in a forecaster
    (``X`` then goes through the steps before it). ``sample_weight`` (one
    per row of ``X``) weighs each row's scaled error, as ``score`` weighs
    its squared error, so a search fitted with weights scores with them.
    Under metadata routing (``sklearn.set_config(enable_metadata_routing=True)``)
    the weights reach it as they reach scikit-learn's scorers, once asked for:
    ``scoring=mase_scorer.set_score_request(sample_weight=True)``, which returns
    a scorer with that request (``mase_scorer`` itself stays unchanged, being
    shared by everyone in the process).
    """

    def __init__(self, sample_weight=None):
        self._sample_weight_request = sample_weight

    def __repr__(self):
        return "mase_scorer"

    _routing_repr = __repr__  # how scikit-learn's routing messages name it

    def _accept_sample_weight(self):  # what a multi-metric search asks its scorers
        return True

    def __reduce__(self):  # the shared scorer unpickles as itself
        if self._sample_weight_request is None:
            return "mase_scorer"
        return type(self), (self._sample_weight_request,)

    def __call__(self, estimator, X, y=None, sample_weight=None):
        if isinstance(estimator, Pipeline):
            X, estimator = estimator[:-1].transform(X), estimator[-1]
        if not hasattr(estimator, "naive_mae_") or not hasattr(estimator, "_parse"):
            check_is_fitted(estimator)  # an unfitted forecaster: NotFittedError
            raise TypeError(f"mase_scorer scores a fitted forecaster (LSTMForecaster, "
                            f"RNNForecaster) or a Pipeline ending in one; got "
                            f"{type(estimator).__name__}.")
        panel, y_true, pred = estimator._scored(X, y)
        positions = estimator._positions(panel.keys)
        errors = np.empty(len(pred))
        for key, rows, pos in zip(panel.keys, panel.rows, positions):
            scale = estimator.naive_mae_[pos]
            if not scale > 0:
                raise ValueError(f"Series {key!r} was constant in fit, so its MASE is undefined.")
            errors[rows] = np.abs(y_true[rows] - pred[rows]) / scale
        weight = check_sample_weight(sample_weight, len(errors))
        return -float(np.average(errors, weights=weight))

    def set_score_request(self, *, sample_weight=None):
        """A scorer that asks for ``sample_weight`` under metadata routing (``True``,
        ``False``, ``None`` or an alias), as scikit-learn's scorers'
        ``set_score_request``; this one is left as it is."""
        if not _routing_enabled():
            raise RuntimeError("set_score_request is only available when metadata "
                               "routing is enabled: sklearn.set_config("
                               "enable_metadata_routing=True).")
        return type(self)(sample_weight)

    def get_metadata_routing(self):
        request = MetadataRequest(owner=self)
        request.score.add_request(param="sample_weight", alias=self._sample_weight_request)
        return request


mase_scorer = _MASEScorer()
