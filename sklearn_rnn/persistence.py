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
truncated or foreign file raises an error and never executes code. A model
trained on a GPU is loaded onto the CPU on a machine without one (weights are
mapped there; this path has not yet run on a GPU machine).
"""

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .utils import resolve_device

FORMAT = "sklearn_rnn.estimator"
FORMAT_VERSION = 1
_JSON, _TENSORS = "estimator.json", "tensors.pt"
# What scikit-learn's meta-estimators attach to an estimator only while they fit
# it (callback contexts): not the estimator's state.
_TRANSIENT = {"_parent_callback_ctx", "_callback_fit_ctx"}


class PersistenceError(ValueError):
    """The file is not a (compatible, intact) sklearn_rnn estimator file."""


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
        return {"__array__": [_encode(v, tensors, f"{name}.{i}") for i, v in
                              enumerate(value.tolist())], "dtype": value.dtype.str}
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
    if value.get("class") is None:
        return pd.tseries.frequencies.to_offset(value["__offset__"])
    cls = getattr(pd.offsets, value["class"], None)
    # Only pandas offset classes: the name comes from the file.
    if not (isinstance(cls, type) and issubclass(cls, pd.offsets.BaseOffset)):
        raise PersistenceError(f"Unknown offset class in the estimator file: {value['class']!r}")
    return cls(n=value["n"], normalize=value["normalize"], **_decode(value["kwds"], tensors))


def _decode(value, tensors):
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]].numpy().astype(np.dtype(value["dtype"]), copy=False)
    if "__array__" in value:
        items = [_decode(v, tensors) for v in value["__array__"]]
        dtype = np.dtype(value["dtype"])
        out = np.empty(len(items), dtype=dtype) if dtype == object else np.asarray(items, dtype)
        if dtype == object:
            out[:] = items
        return out
    if "__tuple__" in value:
        return tuple(_decode(v, tensors) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v, tensors) for k, v in value["__dict__"].items()}
    if "__items__" in value:
        return {_hashable(_decode(k, tensors)): _decode(v, tensors) for k, v in value["__items__"]}
    if "__float__" in value:
        return float(value["__float__"])
    if "__datetime64__" in value:
        return np.asarray(value["__datetime64__"], np.int64).view(np.dtype(value["dtype"]))[()]
    if "__timestamp__" in value:
        return _decode_timestamp(value)
    if "__timedelta__" in value:
        return pd.Timedelta(value["__timedelta__"]).as_unit(value["unit"])
    if "__period__" in value:
        if "ordinal" in value:
            return pd.Period(ordinal=value["ordinal"], freq=value["freq"])
        return pd.Period(value["__period__"], freq=value["freq"])
    if "__offset__" in value:
        return _decode_offset(value, tensors)
    if "__path__" in value:
        return Path(value["__path__"])
    if "__random_state__" in value:
        state = value["__random_state__"]
        random_state = np.random.RandomState()
        random_state.set_state((state["name"], _decode(state["key"], tensors), state["pos"],
                                state["has_gauss"], _decode(state["cached_gaussian"], tensors)))
        return random_state
    raise PersistenceError(f"Unknown entry in the estimator file: {sorted(value)}")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def save(estimator, path):
    """Save a fitted (or unfitted) estimator to ``path`` without pickle.

    Parameters
    ----------
    estimator : a sklearn_rnn estimator
    path : str or Path
        The file to write (a zip; ``.skrnn`` is a good suffix).

    Notes
    -----
    Parameters are stored faithfully where JSON allows: an ``os.PathLike``
    (``checkpoint_dir=Path(...)``) is loaded back as a :class:`pathlib.Path`;
    a ``random_state`` RandomState comes back as a RandomState in the state
    it had when saved (after ``fit`` drew its seed from it); time stamps keep
    their time zone name and unit. Callables and numpy Generators (not a valid
    ``random_state``) raise ``TypeError``.
    """
    name = type(estimator).__name__
    if _classes().get(name) is not type(estimator):
        raise TypeError(f"save() takes sklearn_rnn estimators, got {name}.")
    tensors = {}
    params = estimator.get_params(deep=False)
    for key, value in params.items():
        if callable(value):
            raise TypeError(f"Parameter {key}={value!r} is a callable, which cannot be "
                            "saved safely; use pickle for this estimator, or a built-in "
                            "option.")
    state = {k: v for k, v in vars(estimator).items()
             if k not in params and k != "net_" and k not in _TRANSIENT}
    if "_metadata_request" in state:  # set_fit_request(...) and the like
        state["_metadata_request"] = {"__metadata_request__":
                                      state["_metadata_request"]._serialize()}
    document = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "class": name,
        "versions": {"sklearn_rnn": __import__("sklearn_rnn").__version__,
                     "torch": torch.__version__},
        "params": _encode(params, tensors, "params"),
        "state": _encode(state, tensors, "state"),
        "net": None,
    }
    net = getattr(estimator, "net_", None)
    if net is not None:
        for key, value in net.module_.state_dict().items():
            tensors[f"module.{key}"] = value.detach().cpu()
        epochs = [{k: v for k, v in epoch.items() if k != "batches"} for epoch in net.history]
        document["net"] = {"device": str(net.device), "batch_size": int(net.batch_size),
                           "history": _encode(epochs, tensors, "history")}
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_JSON, json.dumps(document))
        archive.writestr(_TENSORS, buffer.getvalue())


def load(path, *, device=None):
    """Load an estimator written by :func:`save`. Never executes code from the file.

    Parameters
    ----------
    path : str or Path
    device : str or None, default=None
        Where to put the network: 'cpu', 'cuda', 'cuda:N' or 'auto'. None
        keeps the saved device when it is available and falls back to the CPU
        otherwise.

    Returns
    -------
    estimator

    Raises
    ------
    ValueError
        If ``device`` is unknown or not available on this machine (checked
        before the file is read).
    PersistenceError
        If the file is not an intact, compatible sklearn_rnn estimator file.
    """
    # Before parsing: a device this machine lacks is the caller's mistake, not
    # the file's, and must not surface as "does not fit this version".
    if device is not None:
        device = resolve_device(device)
    try:
        with zipfile.ZipFile(Path(path)) as archive:
            document = json.loads(archive.read(_JSON))
            raw = archive.read(_TENSORS)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, EOFError) as exc:
        raise PersistenceError(f"{path} is not an intact sklearn_rnn estimator file "
                               f"({type(exc).__name__}: {exc}).") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PersistenceError(f"{path} is not an sklearn_rnn estimator file.")
    if document.get("format_version") != FORMAT_VERSION:
        raise PersistenceError(
            f"{path} has format version {document.get('format_version')}; this "
            f"sklearn_rnn reads version {FORMAT_VERSION}.")
    cls = _classes().get(document.get("class"))
    if cls is None:
        raise PersistenceError(f"{path} holds a {document.get('class')!r}, which is not an "
                               "estimator of this sklearn_rnn version.")
    try:
        tensors = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refuses anything but tensors
        raise PersistenceError(f"{path}: the tensor file is damaged or holds more than "
                               f"tensors ({type(exc).__name__}: {exc}).") from None
    try:
        estimator = cls(**_decode(document["params"], tensors))
        for key, value in _decode(document["state"], tensors).items():
            if key == "_metadata_request":
                value = _metadata_request(estimator, value["__metadata_request__"])
            setattr(estimator, key, value)
        if document["net"] is not None:
            _restore_net(estimator, document["net"], tensors, device)
            if "history_" in vars(estimator):  # a skorch History, as after fit
                estimator.history_ = estimator._epoch_history()
    except PersistenceError:
        raise
    except Exception as exc:
        raise PersistenceError(f"{path} does not fit this version of {cls.__name__} "
                               f"({type(exc).__name__}: {exc}).") from None
    return estimator


def _metadata_request(estimator, requests):
    """The metadata routing requests (``set_fit_request`` and the like) back."""
    from sklearn.utils._metadata_requests import MetadataRequest

    request = MetadataRequest(owner=estimator)
    for method, params in requests.items():
        for param, alias in params.items():
            getattr(request, method).add_request(param=param, alias=alias)
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
    net = estimator._make_engine(torch.device(device), settings)
    state = {k[len("module."):]: v for k, v in tensors.items() if k.startswith("module.")}
    net.module_.load_state_dict(state)
    net.module_.to(net.device)
    history = _decode(net_doc["history"], tensors)
    net.history.clear()
    net.history.extend(history)
    estimator.net_ = net
