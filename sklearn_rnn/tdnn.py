"""Time-delay neural network (TDNN) sequence regressors and classifiers.

A TDNN (Waibel et al., 1989) is a stack of 1-D convolutions over time; each
layer reads its input at a set of time offsets, its *context* or delays, as in
Kaldi's TDNN layers (Peddinti et al., 2015). The estimators share the input
contract, parameters and training engine of the recurrent estimators, so one
grid search can compare a TDNN with an RNN on the same task.
"""

import inspect
import re
import warnings
from numbers import Integral

import numpy as np

from ._base import BaseSequenceEstimator, store_parameters
from ._modules import DEFAULT_CONTEXT, TDNNNet
from .recurrent import (_ATTRIBUTES, _CLASS_WEIGHT_DOC, _CLASSES_DOC, _INPUT_CONTRACT,
                        _PARAMETERS, _TARGETS_DOC, _SequenceClassifier, _SequenceRegressor,
                        parameter_docs)
from .utils import python_scalars


# --------------------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------------------
#: The largest delay a TDNN layer may have (each batch is padded by it).
MAX_DELAY = 10_000


def _check_context(context, owner):
    """``context`` as a tuple of sorted tuples of int, or a ValueError naming it."""
    expected = ("a non-empty tuple or list of layers, each a non-empty tuple or list of "
                "distinct integer delays, e.g. ((-2, -1, 0, 1, 2), (-2, 0, 2))")
    if not isinstance(context, (tuple, list)) or len(context) == 0:
        raise ValueError(f"The 'context' parameter of {owner} must be {expected}; "
                         f"got {context!r}.")
    layers = []
    for i, delays in enumerate(context):
        problem = None
        if not isinstance(delays, (tuple, list)) or len(delays) == 0:
            problem = "is not a non-empty tuple or list"
        elif not all(isinstance(d, Integral) and not isinstance(d, bool) for d in delays):
            problem = "holds a value that is not an integer"
        elif len(set(delays)) != len(delays):
            problem = "repeats a delay"
        elif max(abs(int(d)) for d in delays) > MAX_DELAY:
            # Every batch is padded by the largest delay: 10**12 asked torch for 64 TB.
            problem = f"reaches further than {MAX_DELAY:,} steps"
        if problem:
            raise ValueError(f"The 'context' parameter of {owner} must be "
                             f"{expected}; layer {i} ({delays!r}) {problem}.")
        layers.append(tuple(sorted(int(d) for d in delays)))
    return tuple(layers)


def _last_step_reach(layers):
    """The input offsets (<= 0, from the last step) that the top layer's output at
    the last step reads, through every layer's delays. Steps past the end of a
    sequence are zeros in every layer, so a path through one reads nothing."""
    reach = {0}
    for delays in reversed(layers):  # from the top layer down to the input
        reach = {r + d for r in reach for d in delays if r + d <= 0}
    return reach


def _reads_input(layers, length, pooling):
    """Whether the pooled top-layer output of a sequence of ``length`` steps reads
    any input step, through paths that stay inside the sequence at every layer
    (outside it every layer is zeros)."""
    alive = np.zeros(length, dtype=bool)  # the steps of the layer above that count
    alive[-1:] = True
    if pooling != "last":
        alive[:] = True
    for delays in reversed(layers):
        below = np.zeros(length, dtype=bool)
        for d in delays:  # output step t reads step t + d
            if 0 <= d < length:
                below[d:] |= alive[:length - d]
            elif -length < d < 0:
                below[:length + d] |= alive[-d:]
        alive = below
    return bool(alive.any())


#: Parameters of the recurrent estimators that have no meaning for a TDNN: the
#: number of layers is ``len(context)``, and there is no recurrence to run
#: backwards, truncate or gate.
_RECURRENT_ONLY = ("cell", "num_layers", "bidirectional", "tbptt_steps", "forget_bias")


class _TDNNParameters(BaseSequenceEstimator):
    """The TDNN parameters in place of the recurrent ones (cells, layers, directions)."""

    _parameter_constraints = {
        **{k: v for k, v in BaseSequenceEstimator._parameter_constraints.items()
           if k not in _RECURRENT_ONLY},
        "context": [tuple, list],
    }

    # Its own signature: the recurrent-only parameters are not TDNN parameters.
    def __init__(self, *, context=DEFAULT_CONTEXT, hidden_size=64, dropout=0.0,
                 pooling="max", max_epochs=200, batch_size="auto", lr=3e-3,
                 optimizer="adam", weight_decay=0.0, clip_grad_norm=1.0,
                 early_stopping=True, validation_fraction=0.1, patience=20, tol=1e-4,
                 scale_inputs=True, warm_start=False, random_state=None, device="cpu",
                 n_threads=1, verbose=0, checkpoint_dir=None, fast_path=True):
        store_parameters(self, locals())

    def _validate_params(self):
        super()._validate_params()
        layers = _check_context(self.context, type(self).__name__)
        if self.pooling == "last" and not _last_step_reach(layers):
            # Every path from the last output runs past the end: it would read
            # zeros only, and the model would ignore its input.
            raise ValueError(
                f"With pooling='last', {type(self).__name__} reads the top layer at the "
                f"last step, but context={self.context!r} reaches that step only from "
                "steps past the end of the sequence (zeros): it would ignore its input. "
                "Use delays that look back (<= 0) in the upper layers, or pooling='max' "
                "or 'mean'.")

    def _check_lengths(self, batch, fit=True):
        """Refuse a context that reads no step of the training sequences (every path
        from the pooled output leaves them): the model would learn a constant. Warn
        about sequences too short to be read (at fit, and those given to predict)."""
        layers = _check_context(self.context, type(self).__name__)
        lengths = (np.full(len(batch.x), batch.x.shape[1]) if batch.lengths is None
                   else batch.lengths)
        longest, shortest = int(lengths.max()), int(lengths.min())
        if fit and not _reads_input(layers, longest, self.pooling):
            raise ValueError(
                f"context={self.context!r} with pooling={self.pooling!r} reads no step of "
                f"sequences of {longest} steps (the longest here): every path from the "
                "pooled output through the delays leaves the sequence, where each layer "
                "is zeros, so the model would predict a constant. Use delays that fit "
                "inside the sequences.")
        if not _reads_input(layers, shortest, self.pooling):
            unread = [n for n in np.unique(lengths)
                      if not _reads_input(layers, int(n), self.pooling)]
            warnings.warn(
                f"context={self.context!r} with pooling={self.pooling!r} reads no step "
                f"of {int(np.isin(lengths, unread).sum())} of the {len(lengths)} "
                f"{'training' if fit else 'given'} sequences (those of "
                f"{min(unread)}-{max(unread)} steps): they get a constant prediction.",
                UserWarning, stacklevel=5 if fit else 4)

    def _structure(self):
        # Delays in any order build the same layers.
        return {**super()._structure(),
                "context": _check_context(self.context, type(self).__name__)}

    def _build_module(self):
        return TDNNNet(self._n_step_features, self._output_size(),
                       context=_check_context(self.context, type(self).__name__),
                       **python_scalars(hidden_size=self.hidden_size, dropout=self.dropout,
                                        pooling=self.pooling))


_TDNN_PARAMETER_NAMES = tuple(inspect.signature(_TDNNParameters.__init__).parameters)[1:]

_TDNN_PARAMETERS = """
    Parameters
    ----------
    context : tuple of tuples of int, default=((-2, -1, 0, 1, 2), (-2, 0, 2), (-3, 0, 3))
        The delays of each layer, one tuple per layer (``len(context)``
        layers): output step ``t`` of a layer reads its input at steps
        ``t + d`` for each delay ``d``; steps past either end read zeros.
        Negative delays look back, positive ones ahead; at most 10,000 steps
        either way (every batch is padded by the largest). The default (from
        Kaldi/Peddinti's TDNN) sees 7 steps on each side.
    hidden_size : int, default=64
        Channels of each layer.
    dropout : float, default=0.0
        Dropout after each layer and before the output layer.
    pooling : {"last", "mean", "max"}, default="max"
        How the top layer is summarised over time before the output layer:
        the output at the last valid step, or the mean/max over valid steps.
        A "last" output sees only the final steps it reaches through the
        delays without passing the end of the sequence (zeros there): at
        most the sum over layers of the largest look-back; a look-ahead
        delay in a lower layer counts only where the layers above look back
        at least as far. A context that reaches no input step that way is
        an error, and so is one (with any pooling) whose every path leaves
        the longest training sequence; sequences too short to be read get
        a warning.
"""


def _training_parameters():
    """The recurrent estimators' docs of the training parameters a TDNN shares."""
    own = set(_TDNN_PARAMETER_NAMES) - {"context", "hidden_size", "dropout", "pooling"}
    order = re.findall(r"^    (\w+) : ", _PARAMETERS, re.M)  # the recurrent estimators'
    return parameter_docs(*[name for name in order if name in own])

_NOTES = """
    Notes
    -----
    Each layer is one dilated :class:`torch.nn.Conv1d` with ReLU: the dilation
    is the greatest common divisor of the gaps between the layer's delays and
    the kernel spans them; taps that are not delays (unevenly spaced delays)
    are masked to zero. Ragged sequences are right-padded; the padded steps of
    the input and of every layer are zeroed, so a sequence reads the same zeros
    past its end in a batch as alone, and pooling covers its valid steps only.

    References
    ----------
    A. Waibel, T. Hanazawa, G. Hinton, K. Shikano and K. Lang, "Phoneme
    recognition using time-delay neural networks", IEEE Trans. ASSP, 1989.

    V. Peddinti, D. Povey and S. Khudanpur, "A time delay neural network
    architecture for efficient modeling of long temporal contexts",
    Interspeech 2015.
"""


def _doc(summary, example, classes=""):
    return (summary + "\n" + _INPUT_CONTRACT + _TDNN_PARAMETERS + _training_parameters()
            + (_CLASS_WEIGHT_DOC if classes else "")
            + _ATTRIBUTES.format(classes=classes or _TARGETS_DOC)
            + _NOTES + example)


class TDNNRegressor(_SequenceRegressor, _TDNNParameters):
    __doc__ = _doc("Sequence regressor on a time-delay neural network (1-D convolutions).", """
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import TDNNRegressor
    >>> t = np.linspace(0, 20, 220)
    >>> X = np.stack([np.sin(t[i:i + 20]) for i in range(200)])  # 200 windows of 20 steps
    >>> y = np.sin(t[20:220])                                     # the next value
    >>> model = TDNNRegressor(context=((-2, -1, 0), (-4, 0)), pooling="last",
    ...                       hidden_size=16, max_epochs=20, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
""")


class TDNNClassifier(_SequenceClassifier, _TDNNParameters):
    __doc__ = _doc("Sequence classifier on a time-delay neural network (1-D convolutions).",
                   """
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rnn import TDNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 15, 2))          # 100 sequences, 15 steps, 2 features
    >>> y = np.where(X[:, :, 0].sum(axis=1) > 0, "up", "down")
    >>> model = TDNNClassifier(hidden_size=16, pooling="mean", max_epochs=20,
    ...                        random_state=0).fit(X, y)
    >>> model.classes_
    array(['down', 'up'], dtype='<U4')
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
""", classes=_CLASSES_DOC)

    _parameter_constraints = {**_TDNNParameters._parameter_constraints,
                              "class_weight": _SequenceClassifier._parameter_constraints[
                                  "class_weight"]}

    def __init__(self, *, context=DEFAULT_CONTEXT, hidden_size=64, dropout=0.0,
                 pooling="max", max_epochs=200, batch_size="auto", lr=3e-3,
                 optimizer="adam", weight_decay=0.0, clip_grad_norm=1.0,
                 early_stopping=True, validation_fraction=0.1, patience=20, tol=1e-4,
                 scale_inputs=True, warm_start=False, random_state=None, device="cpu",
                 n_threads=1, verbose=0, checkpoint_dir=None, fast_path=True,
                 class_weight=None):
        store_parameters(self, locals())
