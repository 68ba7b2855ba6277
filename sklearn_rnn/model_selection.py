"""Cross-validation splitters for panels: several time series in one long frame."""

import numpy as np
import pandas as pd
from sklearn.model_selection import TimeSeriesSplit
from sklearn.model_selection._split import GroupsConsumerMixin
from sklearn.utils.validation import _num_samples

from .utils import check_count


class PanelTimeSeriesSplit(GroupsConsumerMixin, TimeSeriesSplit):
    """``TimeSeriesSplit`` over the time stamps of a panel, not over its rows.

    ``TimeSeriesSplit`` cuts a frame by row count, so in a panel sorted by
    time a fold boundary falls inside a time step whenever the number of
    series present changes (a state whose data starts later): the model then
    trains on one series' year and is tested on another's same year. This
    splitter splits the sorted distinct time stamps instead and gives each
    fold every row of its time stamps, so all series are cut at the same
    time. ``n_splits``, ``max_train_size``, ``test_size`` and ``gap`` count
    time stamps. Rows may come in any order; the indices returned are in row
    order. The time stamps are ``groups`` where given (so arrays work too, as
    in ``GridSearchCV(...).fit(X, y, groups=years)``), else the column
    ``time`` or ``X``'s index.

    Parameters
    ----------
    n_splits : int, default=5
        Number of splits.
    time : str or None, default=None
        The column of ``X`` holding the time stamps; None reads them from
        ``groups`` if given, else from ``X``'s index (a DataFrame or Series).
    max_train_size : int or None, default=None
        Most time stamps in a training set.
    test_size : int or None, default=None
        Time stamps in each test set (default: as ``TimeSeriesSplit``).
    gap : int, default=0
        Time stamps left out between each training and test set.
    series_id : str, int or None, default=None
        The column of ``X`` naming each row's series (a forecaster's
        ``series_id``). With it, a series that has fewer than
        ``min_train_steps`` rows in a fold's training set is left out of
        that fold, training and test rows alike: a series whose data start
        late (or one too short to train on) is then scored only in the
        folds whose model has seen it, instead of failing the early folds
        ("not seen in fit"). Without it, every row is kept.
    min_train_steps : int, default=1
        With ``series_id``, the fewest training rows a series needs to be in
        a fold: 1 keeps every series the model has seen; a forecaster needs
        ``lookback + 1`` (``lookback + horizon`` with ``strategy="direct"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_rnn.model_selection import PanelTimeSeriesSplit
    >>> panel = pd.DataFrame({"state": ["AK", "AK", "AL", "AK", "AL", "AK", "AL"],
    ...                       "rate": [1.0, 2, 3, 4, 5, 6, 7]},
    ...                      index=[2000, 2001, 2001, 2002, 2002, 2003, 2003])
    >>> for train, test in PanelTimeSeriesSplit(n_splits=2).split(panel):
    ...     print(sorted(set(panel.index[train])), sorted(set(panel.index[test])))
    [2000, 2001] [2002]
    [2000, 2001, 2002] [2003]
    """

    def __init__(self, n_splits=5, *, time=None, max_train_size=None, test_size=None,
                 gap=0, series_id=None, min_train_steps=1):
        super().__init__(n_splits, max_train_size=max_train_size, test_size=test_size,
                         gap=gap)
        self.time = time
        self.series_id = series_id
        self.min_train_steps = min_train_steps

    def split(self, X, y=None, groups=None):
        """Row indices of each training and test set.

        Parameters
        ----------
        X : DataFrame, Series or array-like of shape (n_samples, n_features)
            The panel's rows, in any order. Without ``groups``, a DataFrame
            with the ``time`` column or, with ``time=None``, a DataFrame or
            Series indexed by the time stamps.
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Each row's time stamp (any sortable values), instead of the
            ``time`` column or ``X``'s index; not with ``time`` set.

        Yields
        ------
        train : ndarray
            The training set's row indices, in row order.
        test : ndarray
            The test set's row indices, in row order.
        """
        self._check_counts()
        codes, n_stamps = self._time_codes(X, groups)
        series = self._series_codes(X)
        try:
            folds = list(super().split(np.empty((n_stamps, 0))))
        except ValueError as exc:  # worded in samples; these are time stamps
            raise ValueError(f"{type(self).__name__}(n_splits={self.n_splits}, "
                             f"test_size={self.test_size}, gap={self.gap}) cannot split "
                             f"{n_stamps} distinct time stamps ({_num_samples(X)} rows): "
                             f"{exc}".replace("samples", "time stamps")) from None
        for k, (train, test) in enumerate(folds):
            # Both are runs of consecutive sorted time stamps.
            train = np.flatnonzero((codes >= train[0]) & (codes <= train[-1]))
            test = np.flatnonzero((codes >= test[0]) & (codes <= test[-1]))
            if series is not None:
                counts = np.bincount(series[train], minlength=series.max() + 1)
                seen = counts >= self.min_train_steps
                train, test = train[seen[series[train]]], test[seen[series[test]]]
                if not len(test):
                    raise ValueError(
                        f"Fold {k} has no test rows left: no series of its test time "
                        f"stamps has {self.min_train_steps} or more rows before them "
                        f"(min_train_steps={self.min_train_steps}). Use fewer splits, or "
                        "start the panel later.")
            yield train, test

    def _series_codes(self, X):
        """Each row's series as a code (None without ``series_id``)."""
        check_count(self.min_train_steps, "min_train_steps", low=1)
        if self.series_id is None:
            return None
        if not isinstance(X, pd.DataFrame) or self.series_id not in X.columns:
            columns = list(X.columns) if isinstance(X, pd.DataFrame) else None
            raise ValueError(f"series_id={self.series_id!r} must name a column of X (a "
                             f"DataFrame); its columns are {columns}.")
        if self.series_id == self.time:
            raise ValueError(f"series_id={self.series_id!r} and time={self.time!r} name the "
                             "same column; series_id names the column that tells which "
                             "series a row belongs to.")
        codes, _ = pd.factorize(_one_column(X, self.series_id, "series_id"))
        if (codes < 0).any():
            raise ValueError(f"The series_id column {self.series_id!r} has missing values "
                             f"(at row {int(np.argmax(codes < 0))}); every row needs its "
                             "series.")
        return codes

    def _check_counts(self):
        """``TimeSeriesSplit`` checks only ``n_splits``: a negative gap put each
        test stamp in its training set, test_size=0 failed inside range()."""
        check_count(self.gap, "gap", low=0)
        check_count(self.test_size, "test_size", none=True)
        check_count(self.max_train_size, "max_train_size", none=True)

    def _time_codes(self, X, groups=None):
        """Each row's rank among the distinct time stamps, and their number."""
        if groups is not None:
            if self.time is not None:
                raise ValueError(f"time={self.time!r} names a column of time stamps; "
                                 "groups would give them a second time: pass one.")
            stamps = pd.Index(np.asarray(groups).ravel()
                              if not isinstance(groups, (pd.Series, pd.Index)) else groups)
            if len(stamps) != _num_samples(X):
                raise ValueError(f"groups has {len(stamps)} time stamps for "
                                 f"{_num_samples(X)} rows of X; give one per row.")
        elif self.time is None:
            if not isinstance(X, (pd.DataFrame, pd.Series)):
                raise TypeError(f"{type(self).__name__} reads the time stamps from "
                                "groups=..., a column named by time=... or X's index; got "
                                f"X of type {type(X).__name__}, which has no index, and no "
                                "groups.")
            stamps = X.index
        else:
            if not isinstance(X, pd.DataFrame) or self.time not in X.columns:
                columns = list(X.columns) if isinstance(X, pd.DataFrame) else None
                raise ValueError(f"time={self.time!r} must name a column of X (a DataFrame); "
                                 f"its columns are {columns}.")
            stamps = _one_column(X, self.time, "time")
        if isinstance(stamps, pd.MultiIndex):
            raise ValueError(f"{type(self).__name__} needs one time stamp per row; X is "
                             f"indexed by a MultiIndex {list(stamps.names)}.")
        try:
            codes, uniques = pd.factorize(stamps, sort=True)
        except TypeError as exc:  # unorderable mixtures
            raise TypeError(f"The time stamps of X cannot be sorted: {exc}") from None
        if (codes < 0).any():
            raise ValueError(f"The time stamps of X have missing values (at row "
                             f"{int(np.argmax(codes < 0))}); every row needs one.")
        return codes, len(uniques)


def _one_column(X, label, name):
    """The column ``label`` of frame ``X``, refused where the label is duplicated."""
    column = X[label]
    if isinstance(column, pd.DataFrame):
        raise ValueError(f"{name}={label!r} names {column.shape[1]} columns of X; the "
                         "column labels must be unique.")
    return column
