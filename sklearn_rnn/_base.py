"""Shared estimator bases: the fit/predict template around the skorch engine.

``BaseNetEstimator`` holds the parameters and the training template common to
every estimator; ``BaseSequenceEstimator`` adds the sequence input contract
(one sequence per sample) used by the regressors and classifiers.
"""

from numbers import Integral, Real

import contextlib
import copy
import difflib
import functools
import inspect
import os
import tempfile
import threading
import warnings
import weakref

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from pathlib import Path

from skorch.callbacks import Callback
from skorch.helper import predefined_split
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from ._engine import (BatchSlicer, DeviceDataset, EarlyStop, GradientHealth,
                      NonFiniteLoss, SequenceEngine)
from ._modules import POOLINGS, RecurrentNet
from .utils import (autograd_on, check_sample_weight, check_sequences, check_thread_count,
                    draw_seed, python_scalars, refuse_bool_numbers, resolve_device,
                    robust_mean, robust_std, torch_session, torch_threads, unit_mean_weights)

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD,
              "rmsprop": torch.optim.RMSprop}

#: What a warm start (``warm_start=True``, ``partial_fit``) may change: how training
#: goes on. Every other parameter defines the network, its inputs or its targets,
#: and must stay as it was when the network was built.
TRAINING_PARAMETERS = frozenset({
    "max_epochs", "batch_size", "lr", "optimizer", "weight_decay", "clip_grad_norm",
    "early_stopping", "validation_fraction", "patience", "tol", "warm_start",
    "random_state", "device", "n_threads", "verbose", "checkpoint_dir", "fast_path",
    "class_weight", "tbptt_steps"})


#: The parameters that size a network, named when torch cannot allocate it.
_SIZE_PARAMETERS = ("hidden_size", "num_layers", "embedding_size", "context")

#: The largest float32: torch holds lr, weight_decay and biases as float32 and
#: fails on a larger number with a bare "cannot be converted ... without overflow".
_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Stacked layers at most: torch builds them in time that grows faster than
#: their count (10,000 layers took 10 s on a 2-core machine; 10**9 never ends).
MAX_LAYERS = 1000


class Checkpoint(Callback):
    """Save the whole estimator after every epoch to ``checkpoint_dir``.

    The file is ``<checkpoint_dir>/checkpoint.skrnn``, written with
    :func:`sklearn_rnn.save` (replaced atomically, so an interruption never
    leaves a half-written file). ``sklearn_rnn.load`` gives back a fitted
    estimator; ``set_params(warm_start=True).fit(...)`` resumes training from
    those weights (the optimizer's moments start afresh). It holds the latest
    epoch: after early stopping has put the best epoch's weights back, the
    estimator ``fit`` returns is the best one, the checkpoint the last one.
    """

    def __init__(self, estimator):
        self.estimator = estimator
        self.failed = False
        self.epochs = []  # the history encoded by the last save: extended, not redone

    def on_epoch_end(self, net, **kwargs):
        from .persistence import _save

        if self.failed:
            return
        estimator = self.estimator
        estimator.n_iter_ = len(net.history)
        estimator.history_ = estimator._epoch_history()
        directory = Path(estimator.checkpoint_dir)
        # A name of its own: the fits of a parallel search share checkpoint_dir
        # (clone copies it), and one fit's replace must not move another's file.
        partial = directory / f"checkpoint.skrnn.{os.getpid()}-{threading.get_ident()}.partial"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            _save(estimator, partial, self.epochs)
            os.replace(partial, directory / "checkpoint.skrnn")
        except BaseException as exc:
            with contextlib.suppress(OSError):  # the directory itself may be gone
                partial.unlink(missing_ok=True)
            if not isinstance(exc, Exception):  # KeyboardInterrupt: fit handles it
                raise
            # A disk that fills up, a directory that stops being writable, state
            # that cannot be saved: the training in memory goes on, said once.
            self.failed = True
            warnings.warn(
                f"{type(estimator).__name__} could not write its checkpoint after epoch "
                f"{len(net.history)} to {str(directory)!r} ({type(exc).__name__}: "
                f"{exc}); training goes on without checkpoints (the last one written, if "
                "any, stays).", RuntimeWarning, stacklevel=2)

    def __getstate__(self):
        # A fitted estimator's pickle should not hold itself through its engine.
        return {}


def store_parameters(estimator, arguments):
    """The body of every estimator's ``__init__``: store each argument as given.

    ``arguments`` is the ``__init__``'s ``locals()``. The signatures stay
    explicit (scikit-learn reads parameters from them), but no class repeats
    the parameter list a second time in its body.
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def public_init(cls):
    """Give ``cls`` an ``__init__`` that names ``cls`` when called with a wrong keyword.

    Most estimators inherit their ``__init__`` from a private base, so Python's own
    error named that base (``_SequenceClassifier.__init__() got an unexpected
    keyword argument``). The wrapper keeps the signature (scikit-learn reads the
    parameters from it, through ``__wrapped__``) and, for a misspelt keyword,
    names the class and the closest parameter. Returns ``cls``.
    """
    init = cls.__init__
    if getattr(init, "_public_init", False):  # ours, inherited: wrap what it wraps
        init = init.__wrapped__
    signature = inspect.signature(init)
    parameters = tuple(signature.parameters)[1:]

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise TypeError(_call_error(cls.__name__, parameters, kwargs, exc)) from None
        init(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__name__}.__init__"
    __init__._public_init = True
    cls.__init__ = __init__
    return cls


def _call_error(name, parameters, kwargs, exc):
    unknown = [k for k in kwargs if k not in parameters]
    if not unknown:
        return f"{name}(): {exc}."
    close = difflib.get_close_matches(unknown[0], parameters, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (f"{name} got an unexpected keyword argument {unknown[0]!r}.{hint} "
            f"Its parameters are: {', '.join(parameters)}.")


def _same(a, b):
    """Parameter values equal (arrays and tuples of numbers included)."""
    if a is b:  # unchanged since fit (most calls: 5 us saved a parameter)
        return True
    try:
        return bool(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))
    except (TypeError, ValueError):
        return a is b


def _silent(*args):
    """A sink for skorch messages when not verbose (picklable, unlike a lambda)."""


#: class -> its parameter names (BaseNetEstimator._get_param_names).
_PARAM_NAMES = weakref.WeakKeyDictionary()


class BaseNetEstimator(BaseEstimator):
    """Parameters and the training template shared by every estimator. Not for direct use.

    ``_fit`` validates the parameters, resolves the device and seed, asks the
    ``_training_data`` hook for the train and validation datasets (objects with
    ``batch(index)``, ``__len__`` and ``device``, see ``_engine.py``), then
    trains the skorch engine built around ``_build_module()`` and
    ``_criterion()``.
    """

    _parameter_constraints = {
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, MAX_LAYERS, closed="both")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "bidirectional": ["boolean"],
        "pooling": [StrOptions(set(POOLINGS))],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, _FLOAT32_MAX, closed="right")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "weight_decay": [Interval(Real, 0, _FLOAT32_MAX, closed="both")],
        "clip_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "scale_inputs": ["boolean"],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "device": [str],
        "n_threads": [None, Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "tbptt_steps": [None, Interval(Integral, 1, None, closed="left")],
        # Finite bounds refuse NaN and infinity (and bools, see refuse_bool_numbers).
        "forget_bias": [None, Interval(Real, -_FLOAT32_MAX, _FLOAT32_MAX, closed="both")],
        "checkpoint_dir": [None, str, os.PathLike],
        "fast_path": ["boolean"],
    }

    #: The recurrent cell of the named estimators; RNN* classes take ``cell``.
    _cell = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            public_init(cls)

    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads the names from the __init__ signature at every
        # get_params (inspect.signature, about 0.2 ms; partial_fit asks twice a
        # call): a class's signature does not change, so it is read once.
        names = _PARAM_NAMES.get(cls)
        if names is None:
            names = _PARAM_NAMES[cls] = tuple(super()._get_param_names())
        return list(names)

    # Defaults chosen by the UCR/UEA study in benchmarks/RESULTS.md.
    def __init__(self, *, hidden_size=64, num_layers=1, dropout=0.0,
                 bidirectional=False, pooling="max", max_epochs=200, batch_size="auto",
                 lr=3e-3, optimizer="adam", weight_decay=0.0, clip_grad_norm=1.0,
                 early_stopping=True, validation_fraction=0.1, patience=20, tol=1e-4,
                 scale_inputs=True, warm_start=False, random_state=None, device="cpu",
                 n_threads=1, verbose=0, tbptt_steps=None, forget_bias=1.0,
                 checkpoint_dir=None, fast_path=True):
        store_parameters(self, locals())

    # --------------------------------------------------------------- template
    def _fit(self, X, y, *, incremental, **kwargs):
        self._validate_params()
        refuse_bool_numbers(self)
        check_thread_count(self.n_threads)
        self._check_tbptt()
        self._check_checkpoint_dir()
        self._check_parameters()
        reset = not hasattr(self, "net_") or not (incremental or self.warm_start)
        # Before an earlier fit is forgotten: a bad device leaves it as it was.
        device = resolve_device(self.device) if reset else None
        if reset:
            # A new network: until it exists the estimator is unfitted, so a fit
            # that fails on its data leaves no stale network, and no fitted
            # attribute (classes, feature counts, history) of the old or new data.
            self._forget_fit()
        else:
            self._check_structure(
                ("partial_fit" if incremental else "warm_start=True")
                + " trains the fitted network on", "fit with warm_start=False for a new "
                "network")
            device = self._warm_device()
        split_seed = seed = draw_seed(self.random_state)
        early_stopping = self.early_stopping and not incremental
        if not reset:
            # A continued fit draws new batch orders, dropout masks (and text cuts):
            # with an int random_state each partial_fit replayed the first call's.
            # A warm start's early-stopping split stays that of the first fit.
            seed = int(np.random.SeedSequence([seed, len(self.net_.history)])
                       .generate_state(1)[0])
        try:
            with autograd_on():  # ordinary tensors, also in a caller's inference mode
                train, valid = self._training_data(
                    X, y, reset=reset, seed=split_seed if early_stopping else seed,
                    device=device, early_stopping=early_stopping, **kwargs)
            with torch_session(seed, device, self.n_threads):
                settings = dict(
                    max_epochs=1 if incremental else self.max_epochs,
                    batch_size=self._batch_size(len(train)),
                    train_split=None if valid is None else predefined_split(valid),
                    iterator_train__generator=torch.Generator().manual_seed(seed),
                    callbacks=self._callbacks(early_stopping),
                    verbose=self.verbose)
                if reset:
                    self.net_ = self._make_engine(device, settings)
                    # Copies: a list edited in place after fit is a change too.
                    self._built_with = copy.deepcopy(self._structure())
                else:
                    # Plain attributes: skorch's set_params would re-initialise the
                    # module for some of these and lose the trained weights.
                    for name, value in settings.items():
                        setattr(self.net_, name, value)
                    self.net_.initialize_callbacks()
                    self._continue_optimizer()
                    self._continue_module()
                self.net_.fast_path = self._engine_fast_path(device)
                try:
                    self.net_.partial_fit(train)
                except NonFiniteLoss as exc:
                    self._recover(f"Training stopped: {exc} (not a finite number).",
                                  first=self.net_.good_epochs_ == 0, fresh_moments=True)
                except BaseException:
                    # Anything else (out of memory, a failing callback): a warm start
                    # keeps its last completed epoch (a fit from scratch is forgotten
                    # below).
                    if not reset:
                        self._abandon_fit()
                    raise
                if self.net_.interrupted_:
                    if self.net_.good_epochs_ == 0:
                        self._forget_fit()
                        raise KeyboardInterrupt(
                            f"{type(self).__name__}.fit was interrupted before an epoch "
                            "completed; the estimator is left unfitted.")
                    self._recover("Training was interrupted (KeyboardInterrupt).", first=False)
                self.net_.release_training_data()
        except BaseException:
            # A new network that failed -- on its data, on building the network
            # (sizes, settings checked there) or in training -- leaves no fitted
            # attribute behind: no classes or feature counts of data it refused.
            if reset:
                self._forget_fit()
            raise
        self.n_iter_ = len(self.net_.history)
        self.history_ = self._epoch_history()
        return self

    #: The parameters a warm start may change (see TRAINING_PARAMETERS).
    _training_parameters = TRAINING_PARAMETERS

    def _structure(self):
        """The parameters that define the network, its inputs and its targets."""
        return {k: v for k, v in self.get_params(deep=False).items()
                if k not in self._training_parameters}

    def _check_structure(self, how, remedy, names=None):
        """Refuse parameters that define the network, its inputs or its targets and
        were changed since it was built: a warm start or a prediction would
        silently ignore them, or fail inside torch. ``how`` and ``remedy`` word
        the error; ``names``: only these parameters (default: all of them)."""
        built = getattr(self, "_built_with", None)
        if built is None:  # fitted by an older version: nothing recorded
            return
        now = (self._structure() if names is None
               else {k: getattr(self, k) for k in names if k in built})
        changed = [k for k in now if k in built and not _same(now[k], built[k])]
        if changed:
            raise ValueError(
                f"{how}, but it was built with "
                + ", ".join(f"{k}={built[k]!r}" for k in changed) + "; now "
                + ", ".join(f"{k}={now[k]!r}" for k in changed) + ". These define the "
                f"network, its inputs or its targets: set them back, or {remedy}.")

    def _check_fitted(self, method):
        """``check_is_fitted``, then the parameters that ``method`` reads and the
        network was built with (``set_params`` after ``fit`` changed one)."""
        if not self.__sklearn_is_fitted__():  # (check_is_fitted reads the tags first)
            check_is_fitted(self)
        names = self._predict_parameters()
        if names:
            self._check_structure(f"{type(self).__name__}.{method} uses the fitted network",
                                  "fit again", names)

    def _predict_parameters(self):
        """The parameters that prediction reads (besides fitted attributes). None
        for the sequence estimators, whose predict uses fitted state only."""
        return ()

    def _warm_device(self):
        """The device of the fitted network, which a warm start trains on; ``device``
        must name it (an unavailable one fails as in a first fit)."""
        here, wanted = torch.device(self.net_.device), resolve_device(self.device)
        if (here.type, here.index or 0) != (wanted.type, wanted.index or 0):
            raise ValueError(f"A warm start trains the fitted network where it is, on "
                             f"{here}; got device={self.device!r}. Fit with "
                             "warm_start=False to train a new network there.")
        return here

    def _continue_optimizer(self):
        """Carry ``lr``, ``weight_decay`` and ``optimizer`` over to a warm start:
        a new optimizer (fresh moments) when its kind changed, else the new
        settings in its parameter groups (moments kept)."""
        net, kind = self.net_, OPTIMIZERS[self.optimizer]
        net.lr, net.optimizer__weight_decay = self.lr, self.weight_decay
        if type(net.optimizer_) is kind:
            for group in net.optimizer_.param_groups:
                group["lr"], group["weight_decay"] = self.lr, self.weight_decay
            return
        net.optimizer = kind
        if self.optimizer == "sgd":
            net.optimizer__momentum = 0.9
        else:
            net.__dict__.pop("optimizer__momentum", None)
        net.initialize_optimizer()

    def _engine_fast_path(self, device):
        """How the engine runs training epochs: "capture" (CUDA graphs) on a GPU
        with ``fast_path``, else None (skorch's loop; always on the CPU)."""
        return "capture" if self.fast_path and device.type == "cuda" else None

    def _batch_size(self, n_train):
        """``"auto"``: n_train // 32 within [16, 128]. Small data sets get many steps
        per epoch (batch 16 won the UCR study), large ones batches of 128 (speed)."""
        if self.batch_size == "auto":
            return int(np.clip(n_train // 32, 16, 128))
        return self.batch_size

    def _cell_type(self):
        return getattr(self, "cell", self._cell)

    def _check_parameters(self):
        """Checks of a subclass's own parameters that the declarative constraints
        cannot state, run before an earlier fit is forgotten."""

    def _check_tbptt(self):
        """Refuse ``tbptt_steps`` with a bidirectional network, before any data is read."""
        steps = getattr(self, "tbptt_steps", None)
        if steps is not None and getattr(self, "bidirectional", False):
            raise ValueError(f"tbptt_steps={steps} needs bidirectional=False: "
                             "a backward pass over a sequence cannot be truncated in chunks.")

    def _continue_module(self):
        """Carry the training settings the module reads (``tbptt_steps``) over to a
        warm start."""
        if hasattr(self, "tbptt_steps"):
            for part in self.net_.module_.modules():
                if hasattr(part, "tbptt_steps"):
                    part.tbptt_steps = python_scalars(steps=self.tbptt_steps)["steps"]

    def _recurrent_kwargs(self):
        """The RecurrentNet settings shared by every recurrent estimator."""
        return python_scalars(cell=self._cell_type(), hidden_size=self.hidden_size,
                              num_layers=self.num_layers, dropout=self.dropout,
                              bidirectional=self.bidirectional, pooling=self.pooling,
                              forget_bias=self.forget_bias, tbptt_steps=self.tbptt_steps)

    def __sklearn_is_fitted__(self):
        # The network is what predictions need; a fit that failed removes it.
        return hasattr(self, "net_")

    def _forget_fit(self):
        """Back to unfitted: drop every fitted attribute (``net_``, ``classes_``, ...)."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            del self.__dict__[name]

    def _abandon_fit(self):
        """After an unexpected error in a warm start's training: back at the last
        completed epoch (weights, history, ``n_iter_``)."""
        if getattr(self.net_, "good_state_", None) is not None:
            self.net_.restore_last_good_epoch()
        self.net_.release_training_data()
        self.n_iter_ = len(self.net_.history)
        self.history_ = self._epoch_history()

    def _check_checkpoint_dir(self):
        """Make ``checkpoint_dir`` (if set) before training, so that a path that
        cannot be a writable directory fails at once, not after the first epoch."""
        if self.checkpoint_dir is None:
            return
        if not os.fspath(self.checkpoint_dir):  # "" would be the working directory
            raise ValueError(f"checkpoint_dir={self.checkpoint_dir!r} is empty; give a "
                             "directory (or None for no checkpoints).")
        directory = Path(self.checkpoint_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            # Writable in fact, not only by its permission bits (a read-only
            # mount, /sys as root): a probe file, removed at once.
            tempfile.TemporaryFile(dir=directory).close()
        except OSError as exc:
            raise ValueError(f"checkpoint_dir={self.checkpoint_dir!r} cannot be used as a "
                             f"writable directory: {exc}") from None

    def _recover(self, what, *, first, fresh_moments=False):
        """After a failed or interrupted epoch: keep the last completed one (with early
        stopping, the best one so far), say so. ``fresh_moments`` clears the
        optimizer's state too (a non-finite loss leaves NaN in it)."""
        if first:
            self._forget_fit()
            raise ValueError(
                f"{what} No epoch completed, so {type(self).__name__} is left unfitted. "
                "Check X and y for values too large to train on (scale them, or keep "
                "scale_inputs=True), or lower lr (clip_grad_norm also guards against "
                "exploding gradients).")
        self.net_.restore_last_good_epoch(fresh_moments=fresh_moments)
        stopping = dict(self.net_.callbacks_).get("stopping")
        best = (getattr(stopping, "best_model_weights_", None)
                if stopping is not None and stopping.load_best else None)
        if best is not None:  # early stopping keeps the best epoch, as a stop would
            self.net_.module_.load_state_dict(best)
            kept = (f"the weights of epoch {stopping.best_epoch_}, the best of the "
                    f"{len(self.net_.history)} completed (early stopping)")
        else:
            kept = f"the weights of epoch {len(self.net_.history)}, the last one completed"
        # stacklevel: the caller of fit/partial_fit (via _fit and this method).
        warnings.warn(
            f"{what} {type(self).__name__} keeps {kept}; fit again with warm_start=True "
            "(or partial_fit) to resume from there.", ConvergenceWarning, stacklevel=4)

    def _make_engine(self, device, settings):
        optimizer_kwargs = {"optimizer__weight_decay": self.weight_decay}
        if self.optimizer == "sgd":
            optimizer_kwargs["optimizer__momentum"] = 0.9
        try:
            net = SequenceEngine(
                module=self._build_module(),
                criterion=self._criterion(), optimizer=OPTIMIZERS[self.optimizer],
                lr=self.lr, device=str(device),
                iterator_train=BatchSlicer, iterator_valid=BatchSlicer,
                iterator_train__shuffle=True, **optimizer_kwargs, **settings)
            return net.initialize()
        except (RuntimeError, MemoryError) as exc:  # sizes torch cannot allocate
            sizes = ", ".join(f"{k}={getattr(self, k)!r}" for k in _SIZE_PARAMETERS
                              if hasattr(self, k))
            raise ValueError(f"{type(self).__name__} could not build its network with "
                             f"{sizes} on {device}: {exc}. Choose smaller sizes.") from None

    def _callbacks(self, early_stopping):
        callbacks = [("gradient_health", GradientHealth(self.clip_grad_norm))]
        if getattr(self, "checkpoint_dir", None) is not None:
            callbacks.append(("checkpoint", Checkpoint(self)))
        # As in sklearn's MLP: stop on the validation loss when early_stopping,
        # else when the training loss has stalled for `patience` epochs.
        monitor = "valid_loss" if early_stopping else "train_loss"
        callbacks.append(("stopping", EarlyStop(
            monitor=monitor, patience=self.patience, threshold=self.tol,
            threshold_mode="abs", load_best=early_stopping,
            sink=print if self.verbose else _silent)))
        return callbacks

    def _epoch_history(self):
        """The engine's per-epoch history without the per-batch records.

        Built on the ``history_`` already there: epochs before its last are
        final (continued fits and checkpoints add epochs), so a ``partial_fit``
        or a checkpoint copies the new ones only, not all 5,000 before them.
        """
        history = self.net_.history
        built = self.__dict__.get("history_")
        keep = len(built) - 1 if built is not None and 0 < len(built) <= len(history) else 0
        return type(history)((list(built[:keep]) if keep else []) + [
            {k: v for k, v in epoch.items() if k != "batches"} for epoch in history[keep:]])



#: Values scaled at a time by ``_dataset`` (float64: 8 MB).
_SCALE_BLOCK = 1 << 20


class BaseSequenceEstimator(BaseNetEstimator):
    """Template for estimators of whole sequences: ``X`` holds one sequence per sample.

    Hooks for concrete classes:

    * ``_encode_target(y, reset, classes, weight)`` -> numpy targets for the loss
      (``weight``: the sample weights, for scaling statistics);
    * ``_output_size()`` and ``_criterion()`` for the network head and loss;
    * ``_build_module()`` for the torch module (default: RecurrentNet);
    * ``_stratify(y_encoded)`` for the early-stopping validation split;
    * ``_weight_targets(y_encoded, weight)`` for weights that depend on the
      target (the classifiers' ``class_weight``).
    """

    # ------------------------------------------------------------------ hooks
    def _build_module(self):
        return RecurrentNet(self._n_step_features, self._output_size(),
                            **self._recurrent_kwargs())

    def _stratify(self, y_encoded):
        return None

    def _weight_targets(self, y_encoded, weight):
        """The training weights of the samples, given their ``sample_weight``
        (None: unweighted); classifiers add ``class_weight``."""
        return weight

    def fit(self, X, y, sample_weight=None):
        """Fit the network to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps[, n_features]) or list of arrays
            Training sequences (see the input contract in the class
            docstring): a 2-D array or DataFrame of univariate sequences, a
            3-D array, or a list of 1-D/2-D arrays of different lengths.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: class labels (1-D) for a classifier.
        sample_weight : array-like of shape (n_samples,) or float, default=None
            Non-negative weight of each sample in the loss (training and
            early-stopping validation alike): the loss is the weighted mean,
            as if each sample were repeated ``weight`` times. Only relative
            weights matter (they are scaled to mean 1 in each call). Samples
            of weight 0 are left out, as if absent; equal weights train
            exactly as None does.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    def _training_data(self, X, y, *, reset, seed, device, early_stopping, classes=None,
                       sample_weight=None):
        batch = check_sequences(self, X, reset=reset)
        self._check_lengths(batch)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None.")
        check_consistent_length(batch.x, y)
        weight = check_sample_weight(sample_weight, len(batch))
        if weight is not None:
            keep = np.flatnonzero(weight)
            if len(keep) < len(batch):  # weight 0: as if the sample were not there,
                if reset and classes is None:  # but its label a class, as in scikit-learn
                    classes = self._label_set(y)
                batch, y, weight = batch.take(keep), _safe_indexing(y, keep), weight[keep]
            if np.all(weight == weight[0]):  # equal weights: exactly as unweighted
                weight = None
        y_enc = self._encode_target(y, reset=reset, classes=classes, weight=weight)
        check_consistent_length(batch.x, y_enc)
        if reset:
            self._fit_input_scaling(batch, weight)
        weight = self._weight_targets(y_enc, weight)
        train, valid = self._split(batch, y_enc, weight, seed, early_stopping)
        return (self._dataset(*train, device=device),
                None if valid is None else self._dataset(*valid, device=device))

    def _label_set(self, y):
        """The classes a fit on ``y`` knows, zero-weighted samples' labels too (a
        hook: classifiers; None otherwise)."""
        return None

    def _check_lengths(self, batch, fit=True):
        """Refuse training sequences the network cannot read, warn about sequences
        to predict that it cannot (``fit=False``) (a hook; all fine here)."""

    def _split(self, batch, y_enc, weight, seed, early_stopping):
        """``(train, valid)`` as ``(SequenceBatch, y, weight)`` triples, the weights
        scaled to mean 1 in each part (None when equal); valid is None without
        early stopping."""
        if not early_stopping:
            return (batch, y_enc, unit_mean_weights(weight)), None
        stratify = self._stratify(y_enc)
        try:
            train_idx, valid_idx = train_test_split(
                np.arange(len(batch)), test_size=float(self.validation_fraction),
                random_state=seed, stratify=stratify)
        except ValueError as exc:
            raise ValueError(
                f"early_stopping=True could not set aside validation_fraction="
                f"{self.validation_fraction} of n_samples={len(batch)} ({exc}). Use "
                "more samples, a validation_fraction that leaves samples for both "
                "training and validation, or early_stopping=False."
            ) from None
        return tuple((batch.take(idx), y_enc[idx],
                      unit_mean_weights(None if weight is None else weight[idx], part))
                     for idx, part in ((train_idx, "training"), (valid_idx, "validation")))

    def _fit_input_scaling(self, batch, weight=None):
        """Per-feature mean and scale over all valid time steps, each step
        weighted by its sample's ``weight`` when given."""
        if not self.scale_inputs:
            self.input_mean_ = np.zeros(batch.x.shape[2])
            self.input_scale_ = np.ones(batch.x.shape[2])
            return
        if batch.lengths is None:  # a view, not a copy of X
            steps, values = None, batch.x.reshape(-1, batch.x.shape[2])
        else:
            steps = np.arange(batch.x.shape[1])[None, :] < batch.lengths[:, None]
            values = batch.x[steps]
        if weight is None:
            self.input_mean_ = robust_mean(values)
            scale = robust_std(values)
        else:
            step_weight = np.broadcast_to(weight[:, None], batch.x.shape[:2])
            step_weight = step_weight.ravel() if steps is None else step_weight[steps]
            self.input_mean_ = robust_mean(values, weights=step_weight)
            scale = robust_std(values, weights=step_weight)
        self.input_scale_ = scale  # float64, like the input's own precision

    def _dataset(self, batch, y=None, weight=None, *, device):
        """Scaled inputs (a new array: the caller's X is never changed), targets
        and sample weights on ``device``."""
        # Scaled in float64 (or the input's float32), then cast for the network, a
        # block of samples at a time so that no float64 copy of all of X is made.
        x = np.empty(batch.x.shape, dtype=np.float32)
        rows = max(1, _SCALE_BLOCK // max(1, batch.x[0].size))
        with np.errstate(over="ignore"):  # overflow is checked just below
            shift = self.input_mean_ / self.input_scale_
            for start in range(0, len(x), rows):
                # x / scale - mean / scale: no overflow for values near the float64 limit.
                block = x[start:start + rows]
                block[:] = batch.x[start:start + rows] / self.input_scale_ - shift
                if batch.lengths is not None:  # padding: never read, kept finite (zero)
                    block[np.arange(x.shape[1]) >= batch.lengths[start:start + rows, None]] = 0
        if not np.isfinite(x).all():
            raise ValueError(
                "X has values too large for the network's float32 after scaling (beyond "
                f"about 3e38){'; keep scale_inputs=True' if not self.scale_inputs else ''}"
                ": rescale X first.")
        x = torch.from_numpy(x).to(device)
        lengths = None if batch.lengths is None else torch.from_numpy(batch.lengths).to(device)
        if y is not None:
            y = torch.from_numpy(y).to(device)
        if weight is not None:
            weight = torch.from_numpy(weight).to(device)
        return DeviceDataset(x, lengths, y, weight)

    def _forward(self, X):
        """Raw network outputs for ``X`` as a float numpy array."""
        self._check_fitted("predict")
        batch = check_sequences(self, X, reset=False)
        self._check_lengths(batch, fit=False)
        with torch_threads(self.n_threads):
            out = self.net_.predict_batches(self._dataset(batch, device=self.net_.device))
        return out.numpy()

    @property
    def _n_step_features(self):
        return 1 if self._input_form == "table" else self.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
