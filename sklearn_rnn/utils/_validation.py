"""The input contract for sequences.

Three forms are accepted:

* a 2-D array or DataFrame ``(n_samples, n_timesteps)``: univariate sequences,
  one column per time step (the "table" form, where sklearn's 2-D
  transformers can sit in front and ``n_features_in_`` counts columns);
* a 3-D array ``(n_samples, n_timesteps, n_features)``;
* a list or tuple of 1-D ``(n_timesteps,)`` or 2-D ``(n_timesteps, n_features)``
  arrays whose lengths may differ; the same held in cells (a Series or object
  array of them, a one-column frame, or sktime's nested frame with one 1-D
  sequence per channel, stacked per row: ``_sequence_column``).

The last two are the "sequence" form, where ``n_features_in_`` counts
features per step and any length is accepted at predict time. A model fitted
on either form predicts sequences of any length with the same number of
features per step; a table given to a model fitted on univariate sequences is
read as one sequence per row. A list of equal-length 1-D sequences is a table,
as scikit-learn reads it.
"""

from collections.abc import Mapping, Set
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd
from scipy.sparse import issparse
from sklearn.utils._param_validation import InvalidParameterError, Interval
from sklearn.utils.validation import (_check_feature_names, _check_sample_weight, check_array,
                                      validate_data)


@dataclass
class SequenceBatch:
    """Validated sequences: right-padded values and the valid lengths.

    ``x`` is ``(n_samples, max_len, n_features)``, float32 where the input was
    float32 and float64 otherwise (so that scaling, done before the cast to the
    network's float32, keeps the precision of large or offset values);
    ``lengths`` is an int64 array, or None when every sequence has the full
    length.
    """

    x: np.ndarray
    lengths: np.ndarray | None = None

    def __len__(self):
        return self.x.shape[0]

    def take(self, index):
        return SequenceBatch(self.x[index],
                             None if self.lengths is None else self.lengths[index])


def _is_sequence(item):
    """An item of a list of sequences (an array or list, not a string, mapping or set)."""
    if type(item) is np.ndarray:  # the common case, without the ABC checks below
        return True
    return hasattr(item, "__len__") and not isinstance(item, (str, bytes, Mapping, Set))


def _is_sequence_list(X):
    """A list of sequences that is not a plain 2-D table.

    Equal-length lists of numbers stay a table, as scikit-learn reads them;
    sequences of different lengths, or 2-D ones, make a sequence list.
    """
    if not (isinstance(X, (list, tuple)) and len(X) > 0 and all(map(_is_sequence, X))):
        return False
    return len({len(s) for s in X}) > 1 or any(_item_ndim(s) == 2 for s in X)


def _item_ndim(s):
    try:
        return np.ndim(s)
    except ValueError:  # rows of different widths: a 2-D sequence, named per item
        return 2


def _sequence_column(X):
    """The sequences of ``X`` when it holds them in cells, else None: a 1-D object
    array or Series of arrays; a one-column DataFrame or ``(n, 1)`` object array
    of them (what a ColumnTransformer hands on); or a DataFrame or object array
    with one sequence per channel in each row (sktime's "nested" frames), each
    row stacked into a ``(n_timesteps, n_channels)`` sequence."""
    if getattr(X, "ndim", None) == 2 and X.shape[1] >= 1 and len(X) and all(
            map(_holds_cells, X.dtypes if hasattr(X, "dtypes") else [X.dtype])):
        cells = _cells(X)
        if not any(map(_is_sequence, cells[:, 0])):
            return None  # (a missing cell is named per item or row below)
        if cells.shape[1] == 1:
            return list(cells[:, 0])
        return [_stack_channels(i, row) for i, row in enumerate(cells)]
    if getattr(X, "ndim", None) == 1 and _holds_cells(getattr(X, "dtype", None)) and len(X):
        cells = _cells(X)
        if any(map(_is_sequence, cells)):
            return list(cells)
    return None


def _cells(X):
    """The cells of ``X`` as an object array. pyarrow lists of lists (one
    ``(n_timesteps, n_features)`` sequence a cell) come out of pandas as arrays
    of arrays: each becomes one 2-D array."""
    if not hasattr(X, "to_numpy"):
        return X
    cells = X.to_numpy(dtype=object)
    if any(isinstance(t, pd.ArrowDtype)
           for t in (X.dtypes if isinstance(X, pd.DataFrame) else [X.dtype])):
        cells = np.array(cells, dtype=object)  # pandas may hand out a read-only view
        for i, cell in np.ndenumerate(cells):
            if isinstance(cell, np.ndarray) and cell.dtype == object and len(cell) and all(
                    isinstance(c, np.ndarray) for c in cell):
                cells[i] = np.stack(cell) if len({len(c) for c in cell}) == 1 else cell
    return cells


def _holds_cells(dtype):
    """Whether a column of ``dtype`` can hold sequences: objects, or pyarrow lists
    (``read_parquet(..., dtype_backend="pyarrow")``, whose cells come out as arrays)."""
    return dtype == object or (isinstance(dtype, pd.ArrowDtype) and dtype.type is list)


def _stack_channels(i, row):
    """Row ``i`` of a nested frame (one 1-D sequence per channel) as one
    ``(n_timesteps, n_channels)`` array."""
    if not all(map(_is_sequence, row)):
        j = next(j for j, c in enumerate(row) if not _is_sequence(c))
        raise ValueError(f"X[{i}, {j}] is {row[j]!r:.60}, not a sequence, while other cells "
                         "hold sequences; each cell of a nested frame must be a 1-D "
                         "sequence (one channel of one sample).")
    for j, c in enumerate(row):
        check_not_times(c, input_name=f"X[{i}, {j}]")
    channels = [np.asarray(c) for c in row]
    lengths = [len(c) for c in channels]
    if len(set(lengths)) > 1 or any(c.ndim != 1 for c in channels):
        raise ValueError(f"Row {i} of X holds channels of lengths {lengths} (or not 1-D); "
                         "the channels of one sample must be 1-D sequences of one length.")
    return np.stack(channels, axis=1)


# Kept as given when float32 or float64, otherwise converted to float64.
FLOATS = (np.float64, np.float32)


def check_not_times(X, input_name="X"):
    """Refuse date/time values, which numpy would silently turn into counts of
    some time unit (so the same dates would mean other numbers in another
    unit)."""
    hint = ("the network needs numbers. Turn them into numeric features first (e.g. "
            "elapsed days, day of week).")
    if hasattr(X, "dtypes") and hasattr(X, "columns"):  # a DataFrame
        bad = [(c, t) for c, t in zip(X.columns, X.dtypes) if _is_time_dtype(t)]
        if bad:
            raise TypeError(f"{input_name} has date/time columns {[c for c, _ in bad]} "
                            f"(dtypes {[str(t) for _, t in bad]}); {hint}")
        return
    dtype = getattr(X, "dtype", None)
    if _is_time_dtype(dtype):
        raise TypeError(f"{input_name} holds date/time values (dtype {dtype}); {hint}")
    if isinstance(X, (list, tuple)) or dtype == object:
        # Python or numpy date/time objects among plain values (the first rows
        # tell: a column of dates is dates throughout).
        if any(isinstance(s, pd.DataFrame) for s in X[:100]):
            return  # sequences as frames: each is checked on its own (its dtypes)
        try:
            values = np.asarray(list(X[:100]), dtype=object).ravel()
        except (TypeError, ValueError):  # ragged: each sequence is checked on its own
            return
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind in ("datetime64", "datetime", "date", "timedelta64", "timedelta", "time",
                    "period"):
            raise TypeError(f"{input_name} holds date/time values ({kind}); {hint}")


def _is_time_dtype(dtype):
    if dtype is None:
        return False
    if getattr(dtype, "kind", None) in ("m", "M"):
        return True
    # pandas' own extension dtypes (tz-aware, periods)
    return isinstance(dtype, (pd.DatetimeTZDtype, pd.PeriodDtype))


def _sequences_from_list(X):
    batch = _plain_arrays(X)
    if batch is not None:
        return batch
    seqs, unchecked = [], False
    for i, s in enumerate(X):
        if type(s) is np.ndarray and s.dtype.kind in "fiub":
            # Plain numeric arrays, the common case: converted here and checked for
            # NaN/infinity all at once below (check_array per item cost 40 us, most
            # of predicting 20,000 ragged sequences).
            a, unchecked = (s if s.dtype in FLOATS else s.astype(np.float64)), True
        else:
            if getattr(s, "ndim", None) == 2 and s.shape[1] == 0:  # (before check_array's
                # "at least one array or dtype is required" for a frame of no columns)
                raise ValueError(f"X[{i}] has 0 features per time step; every time step "
                                 "needs at least one.")
            check_not_times(s, input_name=f"X[{i}]")
            _check_step_widths(s, i)
            a = check_array(s, ensure_2d=False, dtype=FLOATS, input_name=f"X[{i}]",
                            ensure_min_samples=0)
        if a.ndim == 1:
            a = a[:, None]
        elif a.ndim != 2:
            raise ValueError(
                f"X[{i}] has {a.ndim} dimensions; each sequence in a list must be "
                "1-D (n_timesteps,) or 2-D (n_timesteps, n_features).")
        if a.shape[0] == 0:
            raise ValueError(f"X[{i}] is a sequence of length 0; every sequence needs "
                             "at least one time step.")
        if a.shape[1] == 0:
            raise ValueError(f"X[{i}] has 0 features per time step; every time step "
                             "needs at least one.")
        if seqs and a.shape[1] != seqs[0].shape[1]:
            raise ValueError(
                f"X[{i}] has {a.shape[1]} features per time step but X[0] has "
                f"{seqs[0].shape[1]}; all sequences must have the same number.")
        seqs.append(a)
    lengths = np.array([len(a) for a in seqs], dtype=np.int64)
    x = np.zeros((len(seqs), lengths.max(), seqs[0].shape[1]),
                 dtype=np.result_type(*[a.dtype for a in seqs]))
    for row, a in zip(x, seqs):
        row[:len(a)] = a
    if unchecked:
        _check_finite_rows(x, seqs)
    return SequenceBatch(x, None if (lengths == lengths[0]).all() else lengths)


def _plain_arrays(X):
    """The common case at C speed: every item a numeric numpy array, all 1-D or all
    2-D of one width, none empty (predicting 20,000 ragged sequences spent more
    time in a per-item loop than in the network). None for anything else, which
    the per-item loop checks and names."""
    if not all(type(s) is np.ndarray for s in X):
        return None
    dtypes = {s.dtype for s in X}
    shapes = {(s.ndim,) + s.shape[1:] for s in X}  # (dimensions, width if 2-D)
    if not all(d.kind in "fiub" for d in dtypes) or len(shapes) != 1:
        return None
    (shape,) = shapes
    if shape != (1,) and not (shape[0] == 2 and shape[1] > 0):
        return None
    lengths = np.fromiter(map(len, X), dtype=np.int64, count=len(X))
    if not lengths.all():
        return None
    tail = shape[1:]
    width = tail[0] if tail else 1
    dtype = np.result_type(*[d if d in FLOATS else np.float64 for d in dtypes])
    x = np.zeros((len(X), lengths.max(), width), dtype=dtype)
    steps = x if tail else x[:, :, 0]
    for i, s in enumerate(X):
        steps[i, :len(s)] = s
    _check_finite_rows(x, X)
    return SequenceBatch(x, None if (lengths == lengths[0]).all() else lengths)


def _plain(X):
    """A non-empty, finite float numpy array as it is, without check_array (whose
    data-frame detection alone cost 110 us a call: most of predicting one
    sequence); None for anything else, which check_array checks and names."""
    if type(X) is np.ndarray and X.dtype in FLOATS and X.size and np.isfinite(X).all():
        return X
    return None


def _check_step_widths(s, i):
    """A 2-D sequence given as rows (lists, or arrays of arrays): every time step
    needs as many values (numpy would say "inhomogeneous shape")."""
    if isinstance(s, (list, tuple)) or (isinstance(s, np.ndarray) and s.dtype == object):
        widths = [len(r) if _is_sequence(r) and np.ndim(r) else None for r in s]
        if any(w is not None for w in widths) and len(set(widths)) > 1:
            sizes = sorted(w for w in set(widths) if w is not None)
            odd = " and steps that are not rows of values" if None in widths else ""
            raise ValueError(
                f"X[{i}] has time steps of {sizes} values{odd}; each time step of a 2-D "
                "sequence needs the same n_features values.")


def _check_finite_rows(x, seqs):
    """Raise check_array's error for the first sequence with NaN or infinity (the
    zero padding of ``x`` is finite)."""
    if np.isfinite(x).all():  # (the row-wise test below costs 10x more)
        return
    finite = np.isfinite(x.reshape(len(x), -1)).all(axis=1)
    i = int(np.argmin(finite))
    if np.isnan(seqs[i]).any():
        raise ValueError(f"Input X[{i}] contains NaN.")
    raise ValueError(f"Input X[{i}] contains infinity or a value too large for "
                     f"{seqs[i].dtype!r}.")


def check_sequences(estimator, X, *, reset):
    """Validate ``X`` against the input contract and return a SequenceBatch.

    With ``reset=True`` the input form and ``n_features_in_`` (and
    ``feature_names_in_`` for a DataFrame) are recorded on ``estimator``;
    otherwise ``X`` must match what was recorded.
    """
    name = type(estimator).__name__
    if issparse(X):
        raise TypeError(f"X is a sparse matrix ({type(X).__name__}); {name} needs dense "
                        "input (call X.toarray()).")
    column = _sequence_column(X)
    named = checked = False  # channel names recorded (a fit) / compared (a predict)
    if column is not None and isinstance(X, pd.DataFrame) and X.shape[1] > 1:
        # A nested frame's columns are its channels (n_features_in_ of them):
        # their names are checked as a table's, so swapped channels are caught.
        _check_feature_names(estimator, X, reset=reset)
        named, checked = reset and hasattr(estimator, "feature_names_in_"), True
    if column is not None:
        # Sequences kept in one column (ragged data in an object array or a
        # Series): always sequences, also when a fold's happen to share one
        # length (a list of those would be read as a table).
        X = column
    if isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError(f"X is empty: {name} needs at least one sequence.")
    check_not_times(X)
    if isinstance(X, (list, tuple)):
        is_seq = [_is_sequence(s) for s in X]
        if any(is_seq) and not all(is_seq):
            i = is_seq.index(False)
            raise ValueError(
                f"X[{i}] is {X[i]!r}, not a sequence, while X[{is_seq.index(True)}] is "
                "one; each item of a list of sequences must be a 1-D (n_timesteps,) or "
                "2-D (n_timesteps, n_features) array.")
        if any(isinstance(s, pd.DataFrame) for s in X):  # frames: named channels
            named, checked = _check_frame_columns(estimator, X, reset), True
    if isinstance(X, (list, tuple)):
        sparse = next((i for i, s in enumerate(X)
                       if type(s) is not np.ndarray and issparse(s)), None)
        if sparse is not None:
            raise TypeError(f"X[{sparse}] is a sparse matrix; {name} needs dense "
                            "sequences (call .toarray() on each).")
    if getattr(X, "ndim", 0) > 3:
        raise ValueError(
            f"X has {X.ndim} dimensions (shape {X.shape}); {name} takes a 2-D "
            "(n_samples, n_timesteps), a 3-D (n_samples, n_timesteps, n_features) "
            "array or a list of sequences.")
    if _is_sequence_list(X) or (column is not None and all(map(_is_sequence, X))):
        form, batch = "sequence", _sequences_from_list(X)
    elif getattr(X, "ndim", None) == 3:
        x = _plain(X)
        if x is None:
            x = check_array(X, allow_nd=True, dtype=FLOATS, estimator=estimator)
        if x.shape[1] == 0 or x.shape[2] == 0:
            raise ValueError(f"X has shape {x.shape}; 3-D input needs at least one time "
                             "step and one feature.")
        form, batch = "sequence", SequenceBatch(x)
    elif not reset and estimator._input_form == "sequence":
        # A 2-D input to a model fitted on sequences: univariate sequences,
        # one per row, when the model reads one feature per step.
        if estimator.n_features_in_ != 1:
            raise ValueError(
                f"{name} was fitted on sequences with {estimator.n_features_in_} "
                "features per time step; got a 2-D input, which holds one feature "
                "per step. Pass a 3-D array (n_samples, n_timesteps, "
                f"{estimator.n_features_in_}) or a list of 2-D sequences.")
        x = _plain(X) if getattr(X, "ndim", None) == 2 else None
        if x is None:
            x = check_array(X, dtype=FLOATS, estimator=estimator)
        form, batch = "sequence", SequenceBatch(x[:, :, None])
    elif (not reset and type(X) is np.ndarray and X.ndim == 2
          and X.shape[1] == estimator.n_features_in_
          and not hasattr(estimator, "feature_names_in_") and _plain(X) is not None):
        # A table like the one fitted on, as validate_data would pass it (145 us).
        form, batch = "table", SequenceBatch(X[:, :, None])
    else:
        x = validate_data(estimator, X, reset=reset, dtype=FLOATS)
        form, batch = "table", SequenceBatch(x[:, :, None])
    if reset:
        estimator._input_form = form
        if form == "sequence":
            estimator.n_features_in_ = batch.x.shape[2]
            if hasattr(estimator, "feature_names_in_") and not named:
                del estimator.feature_names_in_
    elif form == "sequence" and batch.x.shape[2] != estimator._n_step_features:
        raise ValueError(
            f"X has {batch.x.shape[2]} feature(s) per time step, but {name} was "
            f"fitted with {estimator._n_step_features}.")
    elif form == "sequence" and not checked and hasattr(estimator, "feature_names_in_"):
        _check_feature_names(estimator, X, reset=False)  # scikit-learn's warning: no names
    return batch


def _check_frame_columns(estimator, X, reset):
    """A list of DataFrames, one sequence each: their columns (the channels) must
    agree, and are recorded and checked as a table's names. Whether names were
    recorded."""
    plain = next((i for i, s in enumerate(X) if not isinstance(s, pd.DataFrame)), None)
    if plain is not None:
        frame = next(i for i, s in enumerate(X) if isinstance(s, pd.DataFrame))
        raise ValueError(f"X mixes DataFrames (X[{frame}]) and other sequences (X[{plain}] "
                         f"is a {type(X[plain]).__name__}), whose channels have no names "
                         "to be checked against the frames' columns; give every sequence "
                         "as a DataFrame with the same columns, or every one as an array "
                         "(frame.to_numpy()).")
    first = X[0].columns
    for i, s in enumerate(X):
        if not s.columns.equals(first):
            raise ValueError(f"X[{i}] has columns {list(s.columns)} but X[0] has "
                             f"{list(first)}; every sequence needs the same columns, in "
                             "the same order.")
    _check_feature_names(estimator, X[0], reset=reset)
    return reset and hasattr(estimator, "feature_names_in_")


def refuse_bool_numbers(estimator):
    """Refuse ``True``/``False`` for a numeric parameter (``n_threads=True``,
    ``batch_size=True``): scikit-learn's ``Interval`` accepts them, as ``bool`` is
    an ``int``, and they would pass as 1 and 0 (or fail inside torch). A column
    label that may be an int (``target``) is no bool either."""
    for name, constraints in estimator._parameter_constraints.items():
        value = getattr(estimator, name, None)
        if (isinstance(value, (bool, np.bool_)) and "boolean" not in constraints
                and any(isinstance(c, Interval) or c is Integral for c in constraints)):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be a number "
                f"(or as documented), not a bool; got {value!r}.")


def check_count(value, name, *, low=1, none=False):
    """Refuse a count argument of a method that is not an int ``>= low`` (nor None
    where ``none``): a bool, a float, a string, a negative number.

    Raises scikit-learn's ``InvalidParameterError``, both a ``ValueError`` and a
    ``TypeError``, so that a wrong type and a wrong value fail alike.
    """
    if value is None and none:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or value < low:
        expected = {0: "a non-negative integer", 1: "a positive integer"}.get(
            low, f"an integer >= {low}")
        raise InvalidParameterError(f"{name} must be {'None or ' if none else ''}{expected}; "
                                    f"got {value!r}.")


def check_sample_weight(sample_weight, n_samples):
    """``sample_weight`` for ``n_samples`` samples as a float64 array of shape
    ``(n_samples,)`` (a number is broadcast), or None when None.

    Raises ``ValueError`` naming ``sample_weight`` for a wrong shape, NaN,
    infinity, negative weights or weights that are all zero.
    """
    if sample_weight is None:
        return None
    try:
        weight = _check_sample_weight(sample_weight, np.empty((n_samples, 0)),
                                      dtype=np.float64, ensure_non_negative=True)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if "sample_weight" not in message and "Sample weights" not in message:
            message = f"sample_weight must be numbers, one per sample: {message}"
        raise ValueError(message) from None
    with np.errstate(over="ignore"):
        overflows = not np.isfinite(weight.sum())
    if overflows:
        # Only relative weights matter; sums of weights near 1e307 overflow.
        weight = weight / weight.max()
    return weight


def unit_mean_weights(weight, part=None):
    """Training weights scaled to mean 1 (float32), or None when None or all equal:
    equal weights train exactly as no weights.

    All zero is an error (it is not "all equal": nothing would be trained on);
    ``part`` names the part of the early-stopping split in the message.
    """
    if weight is None:
        return None
    if len(weight) and not weight.any():
        where = "" if part is None else f" in the {part} part of the early-stopping split"
        raise ValueError(
            f"sample_weight (times class_weight) leaves no sample with a non-zero "
            f"weight{where}. Give those samples weight, or "
            + ("change validation_fraction or random_state, or fit with "
               "early_stopping=False." if part else "drop them."))
    if np.all(weight == weight.flat[0]):
        return None
    return (weight / weight.mean()).astype(np.float32)
