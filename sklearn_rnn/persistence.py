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
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

FORMAT = "sklearn_rnn.estimator"
FORMAT_VERSION = 1
_JSON, _TENSORS = "estimator.json", "tensors.pt"


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
        return {"__timestamp__": value.isoformat()}
    if isinstance(value, pd.Period):
        return {"__period__": str(value), "freq": value.freqstr}
    if isinstance(value, pd.offsets.BaseOffset):
        return {"__offset__": value.freqstr}
    raise TypeError(f"Cannot save {name!r} of type {type(value).__name__} safely "
                    "(only numbers, strings, arrays, containers and time stamps).")


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
    if "__timestamp__" in value:
        return pd.Timestamp(value["__timestamp__"])
    if "__period__" in value:
        return pd.Period(value["__period__"], freq=value["freq"])
    if "__offset__" in value:
        return pd.tseries.frequencies.to_offset(value["__offset__"])
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
    state = {k: v for k, v in vars(estimator).items() if k not in params and k != "net_"}
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
        Where to put the network: None keeps the saved device when it is
        available and falls back to the CPU otherwise.

    Returns
    -------
    estimator
    """
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
            setattr(estimator, key, value)
        if document["net"] is not None:
            _restore_net(estimator, document["net"], tensors, device)
    except PersistenceError:
        raise
    except Exception as exc:
        raise PersistenceError(f"{path} does not fit this version of {cls.__name__} "
                               f"({type(exc).__name__}: {exc}).") from None
    return estimator


def _restore_net(estimator, net_doc, tensors, device):
    saved = torch.device(net_doc["device"])
    if device is None:
        device = saved if saved.type == "cpu" or torch.cuda.is_available() else "cpu"
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
