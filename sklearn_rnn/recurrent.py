"""Sequence regressors and classifiers on Elman (simple RNN), LSTM and GRU cells."""

import re
from numbers import Real

import numpy as np
import pandas as pd
import torch
from scipy.special import log_softmax, softmax
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_array, column_or_1d

from ._base import BaseSequenceEstimator, store_parameters
from ._modules import RNN_CELLS
from .utils import check_not_times, robust_mean, robust_std

_PARAMETERS = """
    Parameters
    ----------{cell}
    hidden_size : int, default=64
        Units in each recurrent layer.
    num_layers : int, default=1
        Stacked recurrent layers (at most 1000).
    dropout : float, default=0.0
        Dropout between stacked layers and before the output layer.
    bidirectional : bool, default=False
        Read sequences in both directions.
    pooling : {{"last", "mean", "max"}}, default="max"
        How hidden states are summarised over time before the output layer:
        the state at the last valid step, or the mean/max over valid steps.
        "max" won the UCR/UEA classification study (0.77 mean accuracy against
        0.64 for "last"); for regression the three tied.
    max_epochs : int, default=200
        Upper bound on passes over the training data.
    batch_size : int or "auto", default="auto"
        Sequences per gradient step. ``predict`` takes at least this many per
        forward pass, more (up to 512) while a batch's hidden states stay
        within 64 MB (16M floats).
        "auto" takes ``n_train // 32`` within [16, 128]: many steps per epoch
        on small data sets, batches of 128 on large ones.
    lr : float, default=3e-3
        Learning rate.
    optimizer : {{"adam", "sgd", "rmsprop"}}, default="adam"
        "sgd" uses momentum 0.9.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    clip_grad_norm : float or None, default=1.0
        Clip the global gradient norm to this value at every step, the remedy
        for exploding gradients; None turns clipping off.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data, stop when its
        loss has not improved by ``tol`` for ``patience`` epochs and keep the
        weights of the best epoch. When False, stop when the training loss
        stalls in the same way, keeping the last epoch's weights.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    patience : int, default=20
        Epochs without improvement before stopping.
    tol : float, default=1e-4
        Smallest loss decrease that counts as an improvement.
    scale_inputs : bool, default=True
        Standardise each input feature with the mean and standard deviation
        seen in the first ``fit`` (over all valid time steps).
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, the validation split and batch
        order. An int gives identical results on CPU. Never changes numpy's or
        torch's global random state.
    device : {{"cpu", "cuda", "auto"}} or str, default="cpu"
        Where to train; "auto" takes a CUDA GPU when one is present.
    n_threads : int or None, default=1
        PyTorch intra-op threads during fit and predict (restored afterwards);
        None leaves torch's setting alone. One thread is fastest for small
        recurrent nets on a shared machine and lets ``n_jobs`` searches scale
        (see ``benchmarks/RESULTS.md``).
    verbose : int, default=0
        Print a line per epoch (losses and time) when positive.
    tbptt_steps : int or None, default=None
        Truncated backpropagation through time: read sequences in chunks of
        this many steps, counted back from the (padded) end (so the gradient
        of the last step of a full-length sequence reaches this many steps
        back; the first chunk takes the remainder), carrying the hidden state
        and detaching it between chunks. The chunks' gradients add up and the
        optimizer steps once per batch (not once per chunk, as some
        truncated-BPTT loops do). None (or a value >= the sequence length) is
        full BPTT. With "last" pooling and equal lengths, training memory grows with
        ``tbptt_steps`` rather than the sequence length (not so for ragged
        sequences, which end in different chunks). Needs
        ``bidirectional=False``.
    forget_bias : float or None, default=1.0
        Initial forget-gate bias of an LSTM (ignored by other cells); None
        keeps PyTorch's initialisation. 1.0 lets gradients reach further back
        at initialisation (see ``sklearn_rnn.diagnostics``).
    checkpoint_dir : str, path or None, default=None
        Save the estimator after every epoch to
        ``<checkpoint_dir>/checkpoint.skrnn`` (see :func:`sklearn_rnn.save`);
        ``sklearn_rnn.load`` it and fit again with ``warm_start=True`` to resume
        a long run.
    fast_path : bool, default=True
        On a CUDA device, replay each training step (forward, backward,
        clipping and optimizer update) as a captured CUDA graph, with batches
        gathered on the device and losses read once per epoch. What cannot be
        captured (bidirectional ragged input) trains eagerly, said at
        ``verbose``. False always trains eagerly, for debugging. No effect on
        the CPU.
"""


def parameter_docs(*names):
    """The recurrent estimators' numpydoc entries for ``names``, in that order: for
    the estimators that share those parameters (TDNN, the forecasters)."""
    entries = re.split(r"\n(?=    \w+ : )", _PARAMETERS.format(cell=""))
    by_name = {entry.split(" : ")[0].strip(): entry.strip("\n") for entry in entries[1:]}
    return "\n".join(by_name[name] for name in names) + "\n"


_INPUT_CONTRACT = """
    ``X`` may be a 2-D array or DataFrame ``(n_samples, n_timesteps)`` of
    univariate sequences, a 3-D array ``(n_samples, n_timesteps, n_features)``,
    or a list of 1-D/2-D arrays of different lengths (padded internally so
    that padding never changes a prediction).
"""

#: The regressors' entries of the Attributes section (classifiers: _CLASSES_DOC).
_TARGETS_DOC = """
    n_outputs_ : int
        Targets per sample (1 for a 1-D ``y``).
    target_mean_, target_scale_ : ndarray of shape (n_outputs_,)
        Target standardisation learnt in the first fit; predictions are
        mapped back to ``y``'s units with them."""

_ATTRIBUTES = """
    Attributes
    ----------{classes}
    n_features_in_ : int
        Columns of a 2-D ``X``; features per time step for 3-D or list input.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.
    input_mean_, input_scale_ : ndarray of shape (n_step_features,)
        Input standardisation learnt in the first fit.
    n_iter_ : int
        Epochs trained (accumulated over warm starts and ``partial_fit``).
    history_ : skorch.History
        Per-epoch records: ``train_loss``, ``valid_loss`` (with early
        stopping), ``dur``, ``grad_norm`` / ``grad_norm_max`` (global gradient
        norm before clipping; without clipping sampled on every 8th step),
        ``clipped`` (share of steps clipped, 0 without clipping), on the GPU
        fast path ``graph_steps`` (steps replayed from a CUDA graph), and
        skorch's own ``train_loss_best``/``valid_loss_best`` flags and batch
        counts; e.g. ``history_[:, "train_loss"]``.
    net_ : skorch.NeuralNet
        The trained engine; ``net_.module_`` is the torch module.
"""


def _doc(summary, example, *, cell, classes=""):
    cell_doc = ""
    if cell:
        cell_doc = """
    cell : {"elman", "lstm", "gru"}, default="gru"
        The recurrent cell (GRU scored best in the UCR/UEA study). On the CPU
        the LSTM trains fastest (PyTorch fuses it into one oneDNN kernel): a
        GRU epoch took 4-7x an LSTM's on 400-step sequences at hidden sizes
        16-64, 1.1-2.3x on 32 steps at hidden sizes 16-256."""
    return (summary + "\n" + _INPUT_CONTRACT + _PARAMETERS.format(cell=cell_doc)
            + (_CLASS_WEIGHT_DOC if classes else "")
            + _ATTRIBUTES.format(classes=classes or _TARGETS_DOC) + example)


#: Entries shared by the sequence estimators' method docstrings (numpydoc, as
#: help() shows them), filled in by ``_entries``.
_METHOD_ENTRIES = {
    "X_predict": """X : array-like of shape (n_samples, n_timesteps[, n_features]) or list of arrays
            Sequences in any form ``fit`` takes (see the class docstring),
            with as many features per step as in ``fit``; a 2-D ``X`` after
            a fit on a 2-D ``X`` needs its number of columns.""",
    "X_partial": """X : array-like of shape (n_samples, n_timesteps[, n_features]) or list of arrays
            Training sequences, in any form ``fit`` takes; after the first
            call, with the features per step of that call.""",
    "sample_weight_partial": """sample_weight : array-like of shape (n_samples,) or float, default=None
            Non-negative weight of each sample in the loss, as in ``fit``
            (scaled to mean 1 within each call).

        Returns
        -------
        self : object
            The estimator, trained one more epoch.""",
}


def _entries(method):
    """``method`` with the shared entries of its docstring filled in."""
    if method.__doc__:  # (None under python -OO)
        method.__doc__ = method.__doc__.format(**_METHOD_ENTRIES)
    return method


class _SequenceRegressor(RegressorMixin, BaseSequenceEstimator):
    @_entries
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on ``(X, y)`` without early stopping.

        Initialises the network on the first call.

        Parameters
        ----------
        {X_partial}
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, with as many outputs as in the first call.
        {sample_weight_partial}
        """
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    @_entries
    def predict(self, X):
        """Predict targets for sequences ``X``.

        Parameters
        ----------
        {X_predict}

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions in the units of ``y``, 1-D when ``fit`` got a 1-D
            ``y``.
        """
        y = self._forward(X).astype(np.float64) * self.target_scale_ + self.target_mean_
        return y.ravel() if self._y_1d else y

    def _encode_target(self, y, reset, classes=None, weight=None):
        check_not_times(y, input_name="y")
        y = check_array(y, ensure_2d=False, allow_nd=True, dtype=np.float64, input_name="y")
        if y.ndim not in (1, 2):
            raise ValueError(f"y has {y.ndim} dimensions; expected (n_samples,) or "
                             "(n_samples, n_outputs).")
        y2 = y.reshape(len(y), -1)
        if reset:
            self._y_1d = y.ndim == 1
            self.n_outputs_ = y2.shape[1]
            self.target_scale_ = robust_std(y2, weights=weight)
            self.target_mean_ = robust_mean(y2, weights=weight)
        elif y2.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y2.shape[1]} outputs, but {type(self).__name__} was "
                             f"fitted with {self.n_outputs_}.")
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            z = ((y2 - self.target_mean_) / self.target_scale_).astype(np.float32)
        if not np.isfinite(z).all():
            # Else the first batch's loss is inf and training stops with a warning.
            raise ValueError(
                "y has values too large for the network's float32 after scaling with the "
                + ("statistics of the first fit" if not reset else "targets' statistics")
                + f" (beyond about 3e38 of its scale {self.target_scale_.max():.3g}): "
                "rescale y first" + ("." if reset else ", or fit from scratch."))
        return z

    def _output_size(self):
        return self.n_outputs_

    def _criterion(self):
        return torch.nn.MSELoss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _class_list(classes):
    """``partial_fit``'s ``classes``, refused where it is not a 1-D list of labels."""
    if isinstance(classes, (set, frozenset, dict, str)):
        raise TypeError(f"classes must be an array-like of class labels (a list or an "
                        f"array); got {type(classes).__name__}: {classes!r}.")
    if isinstance(classes, (list, tuple)) and all(np.ndim(v) == 0 for v in classes):
        unique_labels(classes)  # refuses a mix of strings and numbers, as scikit-learn
    shape = np.asarray(classes, dtype=object).shape
    if len(shape) != 1:
        raise ValueError(f"classes must be 1-D, one entry a class; got shape {shape}.")
    return classes


class _SequenceClassifier(ClassifierMixin, BaseSequenceEstimator):
    _parameter_constraints = {**BaseSequenceEstimator._parameter_constraints,
                              "class_weight": [None, dict, StrOptions({"balanced"})]}

    # Its own signature: class_weight is a classifier parameter.
    def __init__(self, *, hidden_size=64, num_layers=1, dropout=0.0,
                 bidirectional=False, pooling="max", max_epochs=200, batch_size="auto",
                 lr=3e-3, optimizer="adam", weight_decay=0.0, clip_grad_norm=1.0,
                 early_stopping=True, validation_fraction=0.1, patience=20, tol=1e-4,
                 scale_inputs=True, warm_start=False, random_state=None, device="cpu",
                 n_threads=1, verbose=0, tbptt_steps=None, forget_bias=1.0,
                 checkpoint_dir=None, fast_path=True, class_weight=None):
        store_parameters(self, locals())

    @_entries
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one epoch on ``(X, y)`` without early stopping.

        Initialises the network on the first call. ``class_weight="balanced"``
        is refused here (one batch does not show the class frequencies): give
        the weights as a dict.

        Parameters
        ----------
        {X_partial}
        y : array-like of shape (n_samples,)
            Class labels, each one of ``classes`` when given (after the first
            call, one of ``classes_``).
        classes : array-like of shape (n_classes,), default=None
            All labels that will ever be seen. Required on the first call
            when ``y`` may not show them all (None: the classes are those of
            ``y``); on a later call, if given, the classes of the first.
        {sample_weight_partial}
        """
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: one batch "
                "does not show the class frequencies. Compute the weights once, e.g. "
                "sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y_sample), and pass them as a dict.")
        return self._fit(X, y, incremental=True, classes=classes,
                         sample_weight=sample_weight)

    @_entries
    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        {X_predict}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class, each row summing to 1.
        """
        return softmax(self._forward(X).astype(np.float64), axis=1)

    @_entries
    def predict_log_proba(self, X):
        """Log of the class probabilities, computed from the network's scores
        directly (finite where ``predict_proba`` rounds to 0).

        Parameters
        ----------
        {X_predict}

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The natural log of each class's probability, columns in the
            order of ``classes_``.
        """
        return log_softmax(self._forward(X).astype(np.float64), axis=1)

    @_entries
    def predict(self, X):
        """Predict the label of each sequence in ``X``.

        Parameters
        ----------
        {X_predict}

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The most probable class of each sequence, one of ``classes_``.
        """
        scores = self._forward(X)
        return self.classes_[np.argmax(scores, axis=1)]

    @staticmethod
    def _labels(y, name="y"):
        """``y`` (or ``classes``) as a checked 1-D array of class labels."""
        y = column_or_1d(y, warn=True, input_name=name)
        missing = pd.isna(y)
        if missing.any():
            raise ValueError(f"Input {name} contains NaN or None (missing labels) in "
                             f"{int(missing.sum())} "
                             + ("sample(s)" if name == "y" else "entries")
                             + f", e.g. at position {int(np.argmax(missing))}; "
                             + ("every sample needs a label." if name == "y" else
                                "every class is a label."))
        check_classification_targets(y)
        return y

    def _label_set(self, y):
        return np.unique(self._labels(y))

    def _encode_target(self, y, reset, classes=None, weight=None):
        y = self._labels(y)
        if classes is not None:
            classes = self._labels(_class_list(classes), "classes")
        if reset:
            self.classes_ = np.unique(y if classes is None else classes)
            if classes is not None and len(self.classes_) < 2:
                raise ValueError(f"classes must name at least 2 classes (all those y will "
                                 f"ever hold); got {classes.tolist()!r}.")
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 "
                                 f"classes; got 1 class: {self.classes_[0]!r}.")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={classes.tolist()!r} is not the same as in the first "
                             f"fit: {self.classes_.tolist()}.")
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            where = ("given as classes=" if reset and classes is not None
                     else "seen in the first fit: ")
            raise ValueError(f"y contains labels {unseen.tolist()} not among the classes "
                             f"{where}{self.classes_.tolist()}.")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _check_parameters(self):
        if isinstance(self.class_weight, dict):
            bad = {k: v for k, v in self.class_weight.items()
                   if isinstance(v, bool) or not isinstance(v, Real)}
            if bad:
                raise TypeError(f"class_weight must map each class to a number (its "
                                f"weight); got {bad!r}.")
            if not all(np.isfinite(v) and v >= 0 for v in self.class_weight.values()):
                raise ValueError(f"class_weight must be finite and non-negative; got "
                                 f"{self.class_weight!r}.")

    def _weight_targets(self, y_encoded, weight):
        """Sample weights times ``class_weight`` of each sample's class."""
        if self.class_weight is None:
            return weight
        if isinstance(self.class_weight, dict):
            # As scikit-learn: keys that are not classes are ignored (a fold or a
            # subset may lack a rare class), unless they may be misspellings, that
            # is, unless some class is left out of the dict.
            classes = self.classes_.tolist()
            unknown = [k for k in self.class_weight if k not in set(classes)]
            unnamed = [c for c in classes if c not in self.class_weight]
            if unknown and unnamed:
                raise ValueError(f"class_weight names {unknown}, which are not classes, and "
                                 f"leaves out the classes {unnamed}; the classes are "
                                 f"{classes}.")
        absent = self.classes_[np.bincount(y_encoded, minlength=len(self.classes_)) == 0]
        if isinstance(self.class_weight, str) and len(absent):
            raise ValueError(
                f"class_weight='balanced' weighs each class by its share of y, but y has no "
                f"sample of {absent.tolist()} (a warm start keeps the classes of the first "
                f"fit, {self.classes_.tolist()}); give class_weight as a dict.")
        per_class = compute_class_weight(self.class_weight, classes=self.classes_,
                                         y=self.classes_[y_encoded])
        weight = per_class[y_encoded] * (1.0 if weight is None else weight)
        if not weight.any():
            raise ValueError("class_weight and sample_weight leave no sample with a "
                             "non-zero weight.")
        return weight

    def _stratify(self, y_encoded):
        counts = np.bincount(y_encoded)
        n_valid = int(np.ceil(self.validation_fraction * len(y_encoded)))
        # Stratify only where train_test_split can: every class twice, and room
        # for every class in both the validation and the training part.
        n_classes = np.count_nonzero(counts)
        if (counts[counts > 0].min() >= 2 and n_valid >= n_classes
                and len(y_encoded) - n_valid >= n_classes):
            return y_encoded
        return None

    def _output_size(self):
        return len(self.classes_)

    def _criterion(self):
        return torch.nn.CrossEntropyLoss


class _CellChoice(BaseSequenceEstimator):
    """Adds the ``cell`` parameter so a grid search can compare cells."""

    _parameter_constraints = {**BaseSequenceEstimator._parameter_constraints,
                              "cell": [StrOptions(set(RNN_CELLS))]}

    def __init__(self, cell="gru", *, hidden_size=64, num_layers=1, dropout=0.0,
                 bidirectional=False, pooling="max", max_epochs=200, batch_size="auto",
                 lr=3e-3, optimizer="adam", weight_decay=0.0, clip_grad_norm=1.0,
                 early_stopping=True, validation_fraction=0.1, patience=20, tol=1e-4,
                 scale_inputs=True, warm_start=False, random_state=None, device="cpu",
                 n_threads=1, verbose=0, tbptt_steps=None, forget_bias=1.0,
                 checkpoint_dir=None, fast_path=True):
        store_parameters(self, locals())


_CLASS_WEIGHT_DOC = """    class_weight : dict, "balanced" or None, default=None
        Weight of each class in the loss, multiplying ``sample_weight``:
        ``{label: weight}`` (classes not named weigh 1), or "balanced",
        ``n_samples / (n_classes * count(class))``, so that every class
        weighs the same in total (not with ``partial_fit``). The
        early-stopping validation loss is weighted the same way.
"""

_CLASSES_DOC = """
    classes_ : ndarray of shape (n_classes,)
        Class labels, in the order of ``predict_proba``'s columns."""


def _regressor_example(name, args=""):
    return f"""
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import {name}
    >>> t = np.linspace(0, 20, 220)
    >>> X = np.stack([np.sin(t[i:i + 20]) for i in range(200)])  # 200 windows of 20 steps
    >>> y = np.sin(t[20:220])                                     # the next value
    >>> model = {name}({args}hidden_size=16, max_epochs=20, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
"""


def _classifier_example(name, args=""):
    return f"""
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import {name}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 15, 2))          # 100 sequences, 15 steps, 2 features
    >>> y = np.where(X[:, :, 0].sum(axis=1) > 0, "up", "down")
    >>> model = {name}({args}hidden_size=16, max_epochs=20, random_state=0).fit(X, y)
    >>> model.classes_
    array(['down', 'up'], dtype='<U4')
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
"""


class RNNRegressor(_SequenceRegressor, _CellChoice):
    __doc__ = _doc("Sequence regressor on a choice of recurrent cell.",
                   _regressor_example("RNNRegressor", 'cell="gru", '), cell=True)


class ElmanRegressor(_SequenceRegressor):
    __doc__ = _doc("Sequence regressor on an Elman (simple tanh RNN) network.",
                   _regressor_example("ElmanRegressor"), cell=False)
    _cell = "elman"


class LSTMRegressor(_SequenceRegressor):
    __doc__ = _doc("Sequence regressor on an LSTM network.",
                   _regressor_example("LSTMRegressor"), cell=False)
    _cell = "lstm"


class GRURegressor(_SequenceRegressor):
    __doc__ = _doc("Sequence regressor on a GRU network.",
                   _regressor_example("GRURegressor"), cell=False)
    _cell = "gru"


class RNNClassifier(_SequenceClassifier, _CellChoice):
    __doc__ = _doc("Sequence classifier on a choice of recurrent cell.",
                   _classifier_example("RNNClassifier", 'cell="gru", '), cell=True,
                   classes=_CLASSES_DOC)

    _parameter_constraints = {**_SequenceClassifier._parameter_constraints,
                              **_CellChoice._parameter_constraints}

    def __init__(self, cell="gru", *, hidden_size=64, num_layers=1, dropout=0.0,
                 bidirectional=False, pooling="max", max_epochs=200, batch_size="auto",
                 lr=3e-3, optimizer="adam", weight_decay=0.0, clip_grad_norm=1.0,
                 early_stopping=True, validation_fraction=0.1, patience=20, tol=1e-4,
                 scale_inputs=True, warm_start=False, random_state=None, device="cpu",
                 n_threads=1, verbose=0, tbptt_steps=None, forget_bias=1.0,
                 checkpoint_dir=None, fast_path=True, class_weight=None):
        store_parameters(self, locals())


class ElmanClassifier(_SequenceClassifier):
    __doc__ = _doc("Sequence classifier on an Elman (simple tanh RNN) network.",
                   _classifier_example("ElmanClassifier"), cell=False, classes=_CLASSES_DOC)
    _cell = "elman"


class LSTMClassifier(_SequenceClassifier):
    __doc__ = _doc("Sequence classifier on an LSTM network.",
                   _classifier_example("LSTMClassifier"), cell=False, classes=_CLASSES_DOC)
    _cell = "lstm"


class GRUClassifier(_SequenceClassifier):
    __doc__ = _doc("Sequence classifier on a GRU network.",
                   _classifier_example("GRUClassifier"), cell=False, classes=_CLASSES_DOC)
    _cell = "gru"
