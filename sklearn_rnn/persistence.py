"""Safe persistence: save and load estimators without pickle.

A pickle from someone else can run arbitrary code when it is loaded, and so
can ``joblib.load`` and ``torch.load`` without ``weights_only``. ``save``
writes one zip file with

* ``estimator.json``: the class, the parameters, the fitted attributes that
  are not numeric arrays (labels, vocabularies, histories, index
  information) and the library and torch versions, as plain JSON;
* ``tensors.pt``: the network weights and the numeric fitted arrays, read
  back with ``torch.load(weights_only=True)``, which refuses anything but
  tensors and plain containers.

``load`` rebuilds the estimator from those alone, so loading a tampered,
truncated or foreign file raises :class:`PersistenceError` and never executes
code. Both functions take a file name (str, bytes or ``os.PathLike``) or an
open binary file object, as ``torch.save`` and ``joblib.dump`` do. A model
trained on a GPU is loaded onto the CPU on a machine without one (weights are
mapped there; this path has not yet run on a GPU machine).
"""

import io
import json
import lzma
import math
import os
import re
import reprlib
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .utils import module_build, resolve_device

FORMAT = "sklearn_rnn.estimator"
FORMAT_VERSION = 1
_JSON, _TENSORS = "estimator.json", "tensors.pt"
# What scikit-learn's meta-estimators attach to an estimator only while they fit
# it (callback contexts): not the estimator's state.
_TRANSIENT = {"_parent_callback_ctx", "_callback_fit_ctx"}


class PersistenceError(ValueError):
    """The file is not a (compatible, intact) sklearn_rnn estimator file."""


class _Malformed(Exception):
    """A part of the file does not have the structure ``save`` writes.

    Raised where the file name is not known; ``load`` turns it into a
    :class:`PersistenceError` that names the file.
    """


def _get(entry, key, types, what="entry"):
    """``entry[key]``, checked to be of ``types`` (a bool is no int here)."""
    types = types if isinstance(types, tuple) else (types,)
    if not isinstance(entry, dict) or key not in entry:
        raise _Malformed(f"an encoded {what} lacks its {key!r} field")
    value = entry[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        expected = " or ".join(t.__name__ for t in types)
        raise _Malformed(f"the {key!r} field of an encoded {what} is {reprlib.repr(value)}, "
                         f"expected {expected}")
    return value


def _classes():
    import sklearn_rnn

    return {name: getattr(sklearn_rnn, name) for name in sklearn_rnn.__all__
            if isinstance(getattr(sklearn_rnn, name), type)}


def _encode(value, tensors, name):
    """JSON for ``value``; numeric arrays go to ``tensors`` under ``name``."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        tensors[name] = torch.from_numpy(np.ascontiguousarray(value))
        return {"__tensor__": name, "dtype": value.dtype.str}
    if isinstance(value, np.ndarray):
        # Dates stay numpy scalars: .tolist() makes date/datetime objects of them.
        items = list(value.ravel()) if value.dtype.kind in "mM" else value.tolist()
        return {"__array__": [_encode(v, tensors, f"{name}.{i}") for i, v in
                              enumerate(items)], "dtype": value.dtype.str}
    if isinstance(value, (bool, str, type(None))):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value if np.isfinite(value) else {"__float__": repr(float(value))}
    if isinstance(value, (np.datetime64, np.timedelta64)):
        # .item() turns nanosecond values into bare ints; the int64 view and the
        # dtype are exact, NaT included.
        return {"__datetime64__": int(np.asarray(value).view(np.int64)),
                "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return _encode(value.item(), tensors, name)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, tensors, f"{name}.{i}") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, tensors, f"{name}.{i}") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {"__dict__": {k: _encode(v, tensors, f"{name}.{k}")
                                 for k, v in value.items()}}
        return {"__items__": [[_encode(k, tensors, f"{name}.k{i}"),
                               _encode(v, tensors, f"{name}.v{i}")]
                              for i, (k, v) in enumerate(value.items())]}
    if isinstance(value, pd.Timestamp):
        return _encode_timestamp(value, name)
    if isinstance(value, pd.Timedelta):
        # The ISO duration keeps nanoseconds; the unit is the resolution arithmetic gets.
        return {"__timedelta__": value.isoformat(), "unit": value.unit}
    if isinstance(value, pd.Period):
        # The ordinal is exact for every frequency; the text is for people reading the file.
        return {"__period__": str(value), "freq": value.freqstr, "ordinal": int(value.ordinal)}
    if isinstance(value, pd.offsets.BaseOffset):
        return _encode_offset(value, tensors, name)
    if isinstance(value, os.PathLike):
        return {"__path__": os.fsdecode(os.fspath(value))}
    if isinstance(value, np.random.RandomState):
        algorithm, key, pos, has_gauss, cached_gaussian = value.get_state()
        return {"__random_state__": {
            "name": algorithm, "key": _encode(np.asarray(key, np.uint32), tensors, f"{name}.key"),
            "pos": int(pos), "has_gauss": int(has_gauss),
            "cached_gaussian": _encode(float(cached_gaussian), tensors, name)}}
    if isinstance(value, np.random.Generator):
        raise TypeError(f"Cannot save {name!r}: a numpy Generator ({value!r}) is not a "
                        "random_state scikit-learn accepts; expected None, an int or a "
                        "numpy RandomState.")
    raise TypeError(f"Cannot save {name!r} of type {type(value).__name__} safely "
                    "(only numbers, strings, paths, arrays, containers, RandomStates and "
                    "time stamps).")


def _history_json(history, tensors, cache=None):
    """The training history's epochs, without their per-batch records, as the
    JSON text of a list.

    ``cache`` (a list) keeps each epoch's text between saves of one fit (a
    checkpoint after every epoch): epochs before the last one saved are final
    and are neither encoded nor serialised again. Only epochs of plain values
    (numbers, flags, names) are kept; one with anything else is encoded with
    the rest, every time.
    """
    if cache is not None:
        keep = min(max(len(cache) - 1, 0), len(history))  # the last may have changed
        new = [_plain_epoch(epoch) for epoch in history[keep:]]
        if all(epoch is not None for epoch in new):
            cache[keep:] = [json.dumps(epoch) for epoch in new]
            return "[" + ", ".join(cache) + "]"
        cache.clear()
    return json.dumps([
        _plain_epoch(epoch) or _encode({k: v for k, v in epoch.items() if k != "batches"},
                                       tensors, f"history.{i}")
        for i, epoch in enumerate(history)])


def _plain_epoch(epoch):
    """An epoch as ``_encode`` writes it, where it holds plain values only (else
    None): a checkpoint after each of 2,000 epochs encoded 10**7 values one
    ``_encode`` call at a time."""
    values = {}
    for key, value in epoch.items():
        if key == "batches":
            continue
        if not isinstance(key, str) or not (
                value is None or isinstance(value, (bool, str))
                or (isinstance(value, (int, float)) and math.isfinite(value))):
            return None
        values[key] = float(value) if isinstance(value, np.floating) else value
    return {"__dict__": values}


def _encode_timestamp(value, name):
    """A Timestamp with its time zone *name* and unit, not just its UTC offset.

    ``isoformat()`` alone keeps the offset of that one instant (+01:00), so a
    loaded 'Europe/Berlin' index would step across daylight saving time in
    fixed-offset hours; the unit (ns, us, ...) is the dtype of indexes built from it.
    """
    encoded = {"__timestamp__": value.isoformat(), "tz": None, "unit": value.unit}
    if value.tz is not None:
        encoded["tz"] = str(value.tz)
        try:
            restored = _decode_timestamp(encoded)
            faithful = restored == value and str(restored.tz) == encoded["tz"]
        except Exception:  # a tz object that pandas cannot find again by its name
            faithful = False
        if not faithful:
            raise TypeError(f"Cannot save {name!r}: its time zone {value.tz!r} has no name "
                            "pandas can rebuild it from; expected an IANA name such as "
                            "'Europe/Berlin' (zoneinfo or pytz), 'UTC' or a fixed offset.")
    return encoded


def _decode_timestamp(value):
    # Converting from the stored instant, not localizing the wall time: no
    # ambiguity at the hour that a DST change repeats.
    ts = pd.Timestamp(value["__timestamp__"])
    if value.get("tz") is not None:
        ts = ts.tz_convert(value["tz"])
    return ts.as_unit(value["unit"]) if value.get("unit") else ts


def _encode_offset(value, tensors, name):
    """An offset by class, n, normalize and keywords, checked to come back equal.

    ``freqstr`` alone loses some: ``Week()`` reads back as ``Week(weekday=6)``,
    ``normalize=True`` is dropped and ``DateOffset(months=1)`` does not parse.
    """
    encoded = {"__offset__": value.freqstr, "class": type(value).__name__, "n": int(value.n),
               "normalize": bool(value.normalize), "kwds": None}
    if all(isinstance(v, (bool, int, float, str, type(None))) for v in value.kwds.values()):
        encoded["kwds"] = _encode(dict(value.kwds), tensors, f"{name}.kwds")
    candidates = [encoded, {"__offset__": value.freqstr}]
    for candidate in candidates if encoded["kwds"] is not None else candidates[1:]:
        try:
            restored = _decode_offset(candidate, tensors)
        except Exception:
            continue
        if type(restored) is type(value) and restored == value and \
                restored.normalize == value.normalize:
            return candidate
    raise TypeError(f"Cannot save {name!r}: the offset {value!r} does not come back equal "
                    "from its class and keywords or from its frequency string "
                    f"{value.freqstr!r}; expected an offset pandas can rebuild, such as 'D', "
                    "'W-MON', 'MS' or DateOffset(months=1).")


def _decode_offset(value, tensors):
    freqstr = _get(value, "__offset__", str, "time offset")
    if value.get("class") is None:
        return pd.tseries.frequencies.to_offset(freqstr)
    name = _get(value, "class", str, "time offset")
    cls = getattr(pd.offsets, name, None)
    # Only pandas offset classes: the name comes from the file.
    if not (isinstance(cls, type) and issubclass(cls, pd.offsets.BaseOffset)):
        raise _Malformed(f"unknown offset class {reprlib.repr(name)}")
    kwds = _decode(_get(value, "kwds", dict, "time offset"), tensors)
    if not isinstance(kwds, dict):
        raise _Malformed(f"the keywords of offset {name} are not a mapping")
    return cls(n=_get(value, "n", int, "time offset"),
               normalize=_get(value, "normalize", bool, "time offset"), **kwds)


# The form numpy's ``dtype.str`` takes ('<f4', '|b1', '<U7', '|O', '<M8[ns]'):
# np.dtype parses other strings with ast.literal_eval, which raises SyntaxError.
_DTYPE = re.compile(r"[<>|=]?[a-zA-Z]\d*(\[\w+\])?")


def _dtype(entry, what):
    text = _get(entry, "dtype", str, what)
    if not _DTYPE.fullmatch(text):
        raise _Malformed(f"the dtype of an encoded {what} is {reprlib.repr(text)}, expected "
                         "a numpy dtype string such as '<f4'")
    return np.dtype(text)


def _decode(value, tensors):
    """The value ``_encode`` wrote; every field is checked, since it comes from the file."""
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        name = _get(value, "__tensor__", str, "tensor reference")
        if name not in tensors:
            raise _Malformed(f"the tensor {reprlib.repr(name)} is missing from {_TENSORS}")
        dtype = _dtype(value, "tensor reference")
        return tensors[name].numpy().astype(dtype, copy=False)
    if "__array__" in value:
        items = [_decode(v, tensors) for v in _get(value, "__array__", list, "array")]
        dtype = _dtype(value, "array")
        out = np.empty(len(items), dtype=dtype) if dtype == object else np.asarray(items, dtype)
        if dtype == object:
            out[:] = items
        return out
    if "__tuple__" in value:
        return tuple(_decode(v, tensors) for v in _get(value, "__tuple__", list, "tuple"))
    if "__dict__" in value:
        return {k: _decode(v, tensors)
                for k, v in _get(value, "__dict__", dict, "mapping").items()}
    if "__items__" in value:
        items = _get(value, "__items__", list, "mapping")
        if not all(isinstance(item, list) and len(item) == 2 for item in items):
            raise _Malformed("a mapping's items are not [key, value] pairs")
        return {_hashable(_decode(k, tensors)): _decode(v, tensors) for k, v in items}
    if "__float__" in value:
        return float(_get(value, "__float__", str, "float"))
    if "__datetime64__" in value:
        return np.asarray(_get(value, "__datetime64__", int, "datetime64"), np.int64).view(
            _dtype(value, "datetime64"))[()]
    if "__timestamp__" in value:
        _get(value, "__timestamp__", str, "time stamp")
        for key in ("tz", "unit"):
            if value.get(key) is not None:
                _get(value, key, str, "time stamp")
        return _decode_timestamp(value)
    if "__timedelta__" in value:
        return pd.Timedelta(_get(value, "__timedelta__", str, "time delta")).as_unit(
            _get(value, "unit", str, "time delta"))
    if "__period__" in value:
        freq = _get(value, "freq", str, "period")
        if "ordinal" in value:
            return pd.Period(ordinal=_get(value, "ordinal", int, "period"), freq=freq)
        return pd.Period(_get(value, "__period__", str, "period"), freq=freq)
    if "__offset__" in value:
        return _decode_offset(value, tensors)
    if "__path__" in value:
        return Path(_get(value, "__path__", str, "path"))
    if "__random_state__" in value:
        state = _get(value, "__random_state__", dict, "RandomState")
        random_state = np.random.RandomState()
        random_state.set_state((
            _get(state, "name", str, "RandomState"), _decode(state.get("key"), tensors),
            _get(state, "pos", int, "RandomState"), _get(state, "has_gauss", int, "RandomState"),
            _decode(state.get("cached_gaussian"), tensors)))
        return random_state
    raise _Malformed(f"unknown entry {reprlib.repr(sorted(value))}")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _file_argument(path, method):
    """``(file name, None)`` or ``(None, binary file object)`` for ``path``.

    ``method`` is the file object method needed: 'write' for save, 'read' for load.
    """
    if isinstance(path, (str, bytes, os.PathLike)):
        return os.fsdecode(path), None
    mode = "wb" if method == "write" else "rb"
    file_mode = getattr(path, "mode", None)  # tempfile wrappers are no TextIOBase
    if isinstance(path, io.TextIOBase) or (isinstance(file_mode, str) and "b" not in file_mode):
        raise TypeError(f"path is a text file object ({type(path).__name__}); expected a "
                        f"binary one: open the file with mode {mode!r}, or pass its name.")
    if callable(getattr(path, method, None)):
        return None, path
    raise TypeError(f"path must be a file name (str, bytes or os.PathLike) or a binary file "
                    f"object with a {method}() method, got {type(path).__name__} "
                    f"({reprlib.repr(path)}).")


def _file_label(name, file):
    """How error messages name the file: its name, or the file object's type."""
    if name is None:
        name = getattr(file, "name", None)
    if isinstance(name, (str, bytes)):
        return os.fsdecode(name)
    return f"the {type(file).__name__} file object"


def save(estimator, path):
    """Save a fitted (or unfitted) estimator to ``path`` without pickle.

    Parameters
    ----------
    estimator : a sklearn_rnn estimator
    path : str, bytes, os.PathLike or binary file object
        The file to write (a zip; ``.skrnn`` is a good suffix), or an object
        opened for binary writing (``open(..., "wb")``, ``io.BytesIO``): the
        file is written with one ``write()`` call at its current position and
        the object is left open.

    Raises
    ------
    TypeError
        If ``estimator`` is not a sklearn_rnn estimator, holds a value that
        cannot be saved safely (see Notes), or ``path`` is neither a file name
        nor a binary file object.

    Notes
    -----
    Parameters are stored faithfully where JSON allows: an ``os.PathLike``
    (``checkpoint_dir=Path(...)``) is loaded back as a :class:`pathlib.Path`;
    a ``random_state`` RandomState comes back as a RandomState in the state
    it had when saved (after ``fit`` drew its seed from it); time stamps keep
    their time zone name and unit. Callables and numpy Generators (not a valid
    ``random_state``) raise ``TypeError``.

    Examples
    --------
    >>> import io
    >>> from sklearn_rnn import GRURegressor, load, save
    >>> buffer = io.BytesIO()
    >>> save(GRURegressor(hidden_size=4), buffer)
    >>> _ = buffer.seek(0)
    >>> load(buffer).hidden_size
    4
    """
    _save(estimator, path)


def _save(estimator, path, epochs=None):
    """:func:`save`; ``epochs``, a list, keeps the encoded history between saves
    (a checkpoint after every epoch): epochs before the last one saved are final."""
    name = type(estimator).__name__
    if _classes().get(name) is not type(estimator):
        raise TypeError(f"save() takes sklearn_rnn estimators, got {name}.")
    file_name, file = _file_argument(path, "write")
    tensors = {}
    params = estimator.get_params(deep=False)
    for key, value in params.items():
        if callable(value):
            raise TypeError(f"Parameter {key}={value!r} is a callable, which cannot be "
                            "saved safely; use pickle for this estimator, or a built-in "
                            "option.")
    # history_ is the engine's history (saved with the network) without the
    # per-batch records: rebuilt from it on load rather than stored twice.
    state = {k: v for k, v in vars(estimator).items()
             if k not in params and k not in ("net_", "history_") and k not in _TRANSIENT}
    if "_metadata_request" in state:  # set_fit_request(...) and the like
        state["_metadata_request"] = {"__metadata_request__":
                                      state["_metadata_request"]._serialize()}
    document = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "class": name,
        "versions": {"sklearn_rnn": __import__("sklearn_rnn").__version__,
                     "torch": torch.__version__},
        "params": _encode(params, tensors, "params"),
        "state": _encode(state, tensors, "state"),
    }
    net = getattr(estimator, "net_", None)
    net_text = "null"
    if net is not None:
        for key, value in net.module_.state_dict().items():
            tensors[f"module.{key}"] = value.detach().cpu()
        # The history's text is joined in as it is (cached between checkpoints):
        # each json.dumps of a dict ends in its closing brace.
        net_text = (json.dumps({"device": str(net.device), "batch_size": int(net.batch_size)})
                    [:-1] + ', "history": ' + _history_json(net.history, tensors, epochs) + "}")
    text = json.dumps(document)[:-1] + ', "net": ' + net_text + "}"
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    # Built in memory, then written at once: a file object need not be
    # seekable, and nothing is written unless the whole estimator encoded.
    # Deflate level 1: 2.7x faster than the default 6 on a 2,000-epoch history,
    # for files about a fifth larger there (and within 1% on the weights).
    archive_bytes = io.BytesIO()
    with zipfile.ZipFile(archive_bytes, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=1) as archive:
        archive.writestr(_JSON, text)
        archive.writestr(_TENSORS, buffer.getvalue())
    if file is None:
        with open(file_name, "wb") as out:
            out.write(archive_bytes.getvalue())
    else:
        file.write(archive_bytes.getvalue())


# What reading a damaged zip raises, besides BadZipFile: a flipped byte in the
# deflated data (zlib.error), in the compression method (NotImplementedError,
# or OSError / LZMAError if it now says bzip2 / lzma), in the flags (RuntimeError:
# "encrypted"), a size or offset (EOFError, ValueError: negative seek, struct.error),
# a name (UnicodeDecodeError) or a missing member (KeyError).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError,
               lzma.LZMAError, EOFError, ValueError, struct.error, KeyError, OverflowError)
# What rebuilding an estimator from a parsed, but tampered, file raises: fields
# of the wrong type or value (TypeError, ValueError, KeyError, IndexError,
# OverflowError), nesting deeper than Python recurses, and torch refusing
# weights of the wrong names or shapes (RuntimeError).
_SCHEMA_ERRORS = (_Malformed, TypeError, ValueError, KeyError, IndexError, OverflowError,
                  RecursionError, RuntimeError)


def load(path, *, device=None):
    """Load an estimator written by :func:`save`. Never executes code from the file.

    Parameters
    ----------
    path : str, bytes, os.PathLike or binary file object
        The file to read, or an object opened for binary reading
        (``open(..., "rb")``, ``io.BytesIO``), read from its current position
        to its end.
    device : str or None, default=None
        Where to put the network: 'cpu', 'cuda', 'cuda:N' or 'auto'. None
        keeps the saved device when it is available and falls back to the CPU
        otherwise.

    Returns
    -------
    estimator

    Raises
    ------
    TypeError
        If ``path`` is neither a file name nor a binary file object.
    ValueError
        If ``device`` is unknown or not available on this machine (checked
        before the file is read).
    OSError
        If the file cannot be read (it does not exist, is a directory, ...).
    PersistenceError
        If the file is not an intact, compatible sklearn_rnn estimator file: a
        truncated, corrupted, tampered or foreign file. A subclass of
        ``ValueError``; the message names the file and what is wrong.

    Examples
    --------
    >>> import io
    >>> from sklearn_rnn import load
    >>> from sklearn_rnn.persistence import PersistenceError
    >>> try:
    ...     load(io.BytesIO(b"not a model"))
    ... except PersistenceError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    the BytesIO file object is not an intact sklearn_rnn estimator file (BadZipFile: ...).
    """
    file_name, file = _file_argument(path, "read")
    # Before parsing: a device this machine lacks is the caller's mistake, not
    # the file's, and must not surface as "does not fit this version".
    if device is not None:
        device = resolve_device(device)
    where = _file_label(file_name, file)
    if file is None:
        with open(file_name, "rb") as source:
            data = source.read()
    else:
        data = file.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"path is a file object whose read() gave "
                            f"{type(data).__name__}, not bytes; open the file with mode "
                            "'rb'.")
    # From here on the bytes are in memory, so every error is the file's.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # zipfile reads the last archive in the bytes and skips what is in
            # front of it: another saved model (two saves to one stream) would
            # come back instead of the first, other data be ignored.
            before = min((i.header_offset for i in archive.infolist()), default=0)
            text = archive.read(_JSON)
            raw = archive.read(_TENSORS)
    except _ZIP_ERRORS as exc:
        raise PersistenceError(f"{where} is not an intact sklearn_rnn estimator file "
                               f"({type(exc).__name__}: {exc}).") from None
    if before:
        raise PersistenceError(f"{where} has {before} bytes before its archive (another "
                               "saved model, or other data): give one model's file or "
                               "stream, read from its start.")
    try:
        document = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise PersistenceError(f"{where} is not an sklearn_rnn estimator file: its "
                               f"{_JSON} is not valid JSON ({type(exc).__name__}: "
                               f"{str(exc)[:200]}).") from None
    cls = _check_document(document, where)
    try:
        tensors = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as exc:
        # torch.load of damaged or foreign bytes raises a wide, version-dependent
        # set of classes (UnpicklingError, RuntimeError, UnicodeDecodeError,
        # KeyError, IndexError, TypeError, AttributeError, AssertionError, EOFError,
        # ...). Its only input is the file's bytes, so each is the file's fault.
        raise PersistenceError(f"{where}: the tensor file is damaged or holds more than "
                               f"tensors ({type(exc).__name__}: {exc}).") from None
    if not (isinstance(tensors, dict) and all(isinstance(k, str) and isinstance(
            v, torch.Tensor) for k, v in tensors.items())):
        raise PersistenceError(f"{where}: {_TENSORS} is not a mapping of names to tensors.")
    try:
        estimator = _rebuild(cls, document, tensors, device)
    except _SCHEMA_ERRORS as exc:
        reason = str(exc)[:300] if isinstance(exc, _Malformed) else \
            f"{type(exc).__name__}: {str(exc)[:300]}"
        raise PersistenceError(f"{where} is damaged or does not fit this version of "
                               f"{cls.__name__} ({reason}).") from None
    return estimator


def _check_document(document, where):
    """The estimator class of a parsed ``estimator.json``, after checking its fields."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PersistenceError(f"{where} is not an sklearn_rnn estimator file.")
    version = document.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise PersistenceError(f"{where} has format version {reprlib.repr(version)}; this "
                               f"sklearn_rnn reads version {FORMAT_VERSION}.")
    name = document.get("class")
    cls = _classes().get(name) if isinstance(name, str) else None
    if cls is None:
        raise PersistenceError(f"{where} holds a {reprlib.repr(name)}, which is not an "
                               "estimator of this sklearn_rnn version.")
    problems = [f"{key!r} is {reprlib.repr(document.get(key))}, expected an encoded mapping"
                for key in ("params", "state")
                if not isinstance(document.get(key), dict)
                or not isinstance(document[key].get("__dict__"), dict)]
    net = document.get("net")
    if "net" not in document:
        problems.append("'net' is missing")
    elif net is not None:
        if not isinstance(net, dict):
            problems.append(f"'net' is {reprlib.repr(net)}, expected null or an object")
        else:
            for key, types in (("device", str), ("batch_size", int), ("history", list)):
                value = net.get(key)
                if not isinstance(value, types) or isinstance(value, bool):
                    problems.append(f"'net.{key}' is {reprlib.repr(value)}, expected "
                                    f"{types.__name__}")
            if isinstance(net.get("batch_size"), int) and net["batch_size"] < 1:
                problems.append(f"'net.batch_size' is {net['batch_size']}, expected >= 1")
    if problems:
        raise PersistenceError(f"{where} is damaged: " + "; ".join(problems) + ".")
    return cls


def _rebuild(cls, document, tensors, device):
    estimator = cls(**_decode(document["params"], tensors))
    for key, value in _decode(document["state"], tensors).items():
        # Fitted attributes and private state; a dunder name (__class__,
        # __dict__) would rewrite the object itself.
        if not key.isidentifier() or (key.startswith("__") and key.endswith("__")):
            raise _Malformed(f"the fitted attribute name {reprlib.repr(key)} is not allowed")
        if key == "_metadata_request":
            value = _metadata_request(estimator, _get(value, "__metadata_request__", dict,
                                                      "routing request"))
        setattr(estimator, key, value)
    if document["net"] is not None:
        try:
            _restore_net(estimator, document["net"], tensors, device)
            # A skorch History, as after fit (older files stored it as well).
            if "n_iter_" in vars(estimator) or "history_" in vars(estimator):
                estimator.__dict__.pop("history_", None)
                estimator.history_ = estimator._epoch_history()
        except AttributeError as exc:
            # Only a fitted attribute the file lacks is the file's fault; any
            # other AttributeError is a bug and propagates.
            if getattr(exc, "obj", None) is not estimator:
                raise
            raise _Malformed(f"the fitted attribute {exc.name!r} is missing") from None
    return estimator


def _metadata_request(estimator, requests):
    """The metadata routing requests (``set_fit_request`` and the like) back."""
    from sklearn.utils._metadata_requests import MetadataRequest, MethodMetadataRequest

    request = MetadataRequest(owner=estimator)
    for method, params in requests.items():
        # The method name comes from the file: only the request's own methods.
        method_request = getattr(request, method, None) if isinstance(method, str) else None
        if not isinstance(method_request, MethodMetadataRequest) or not isinstance(params, dict):
            raise _Malformed(f"invalid metadata routing request for {reprlib.repr(method)}")
        for param, alias in params.items():
            method_request.add_request(param=param, alias=alias)
    return request


def _restore_net(estimator, net_doc, tensors, device):
    if device is None:
        try:
            device = resolve_device(net_doc["device"])
        except ValueError:  # saved on a GPU (or a GPU index) this machine lacks
            device = torch.device("cpu")
    # The prediction batch size too: float32 results depend on it in the last digit.
    settings = dict(max_epochs=1, batch_size=net_doc["batch_size"], train_split=None,
                    callbacks=[],
                    iterator_train__generator=torch.Generator(), verbose=0)
    state = {k[len("module."):]: v for k, v in tensors.items() if k.startswith("module.")}
    # The network as it was built: a parameter that defines it may have been
    # set_params'd since (predict then refuses it until it is set back).
    built = vars(estimator).get("_built_with") or {}
    if not isinstance(built, dict) or not set(built) <= set(estimator.get_params(deep=False)):
        raise _Malformed("the parameters the network was built with are not a mapping of "
                         "the estimator's parameters")
    now = {k: vars(estimator)[k] for k in built if k in vars(estimator)}
    try:
        vars(estimator).update({k: v for k, v in built.items() if k in now})
        with module_build():  # float32, ordinary tensors, the caller's RNG untouched
            net = estimator._make_engine(torch.device(device), settings)
            net.module_.load_state_dict(state)
            net.module_.to(net.device)
    finally:
        vars(estimator).update(now)
    history = _decode(net_doc["history"], tensors)
    if not all(isinstance(epoch, dict) for epoch in history):
        raise _Malformed("the training history is not a list of epochs")
    net.history.clear()
    net.history.extend(history)
    estimator.net_ = net
