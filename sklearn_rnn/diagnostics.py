"""Gradient-health diagnostics: how far back in time the gradient reaches."""

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch
from sklearn.base import is_classifier
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from .utils import autograd_on, check_count, check_sequences, torch_threads


def gradient_flow(estimator, X, y=None, *, max_samples=256):
    """How strongly the output at the last step depends on each earlier step.

    For each time step ``t`` of the sequences in ``X``, the norm of the
    gradient of each sequence's output with respect to the network's input at
    ``t``, averaged over sequences. The output is, without ``y``, the sum of a
    regressor's outputs, or a classifier's log-probability of the class it
    predicts (the logits' sum would measure a direction softmax ignores);
    given ``y``, the sequence's own training loss (times its ``class_weight``).
    Each sequence's gradient is its own, so the values do not depend on how
    many sequences are passed (but for ``class_weight="balanced"``, which
    weighs the classes by their shares among the sequences passed, as the
    training shares are not kept). Steps are counted back from each sequence's
    last (valid) step, so ragged sequences line up at their ends. A vanishing
    gradient shows as a norm decaying geometrically with ``steps_back``; see
    :func:`gradient_decay_rate`.

    Parameters
    ----------
    estimator : fitted sequence regressor or classifier
        An RNN or TDNN regressor or classifier of this package.
    X : sequences, as the estimator takes them
        Sequences in a form the estimator's ``predict`` takes.
    y : targets, optional
        With ``y`` the gradient is that of each sequence's training loss.
    max_samples : int, default=256
        Use at most this many sequences (the first ones).

    Returns
    -------
    flow : DataFrame
        Columns ``steps_back`` (0 = the last step) and ``grad_norm``.
    """
    if not hasattr(estimator, "_encode_target") or not hasattr(estimator, "_dataset"):
        raise TypeError(f"gradient_flow takes a sequence regressor or classifier (an "
                        f"RNN or TDNN estimator); got {type(estimator).__name__}.")
    check_count(max_samples, "max_samples")
    check_is_fitted(estimator)
    batch = check_sequences(estimator, X, reset=False)
    if y is not None:
        check_consistent_length(batch.x, y)
    n = min(len(batch), max_samples)
    batch = batch.take(slice(0, n))
    net = estimator.net_
    module = net.module_
    was_training = module.training
    module.eval()
    try:
        # Gradients also when called inside torch.no_grad() or inference_mode();
        # without cuDNN, whose RNN backward refuses a module in eval mode (on a GPU).
        with torch_threads(estimator.n_threads), autograd_on(), \
                torch.backends.cudnn.flags(enabled=False):
            codes = None if y is None else estimator._encode_target(np.asarray(y)[:n],
                                                                    reset=False)
            data = estimator._dataset(batch, codes, device=net.device)
            x = data.x.clone().requires_grad_(True)
            out = module(x, data.lengths) if data.lengths is not None else module(x)
            (grad,) = torch.autograd.grad(_per_sequence(estimator, out, data.y, codes).sum(), x)
    finally:
        module.train(was_training)
    norms = grad.norm(dim=2).detach().cpu().numpy()                     # (n, T)
    lengths = (np.full(n, norms.shape[1]) if batch.lengths is None else batch.lengths)
    steps_back = lengths[:, None] - 1 - np.arange(norms.shape[1])[None, :]
    valid = steps_back >= 0
    frame = pd.DataFrame({"steps_back": steps_back[valid], "grad_norm": norms[valid]})
    return frame.groupby("steps_back", as_index=False)["grad_norm"].mean()


def _per_sequence(estimator, out, target, codes):
    """Each sequence's output (no target) or own training loss, shape ``(n,)``."""
    if codes is None:
        if is_classifier(estimator):
            return torch.log_softmax(out, dim=1).max(dim=1).values
        return out.reshape(len(out), -1).sum(dim=1)
    criterion = estimator.net_.criterion_
    reduction, criterion.reduction = criterion.reduction, "none"
    try:
        loss = criterion(out, target).reshape(len(out), -1).mean(dim=1)
    finally:
        criterion.reduction = reduction
    weight = _class_weights(estimator, codes)
    return loss if weight is None else loss * torch.as_tensor(weight, dtype=loss.dtype,
                                                              device=loss.device)


def _class_weights(estimator, codes):
    """``class_weight`` of each sequence's class (None where there is none)."""
    class_weight = getattr(estimator, "class_weight", None)
    if class_weight is None:
        return None
    if isinstance(class_weight, str):  # "balanced": over the classes these sequences hold
        present = np.unique(codes)
        per_class = np.zeros(len(estimator.classes_))
        per_class[present] = compute_class_weight("balanced", classes=present, y=codes)
        return per_class[codes]
    return estimator._weight_targets(codes, None)


def _check_flow(flow, name="flow"):
    if not isinstance(flow, pd.DataFrame) or not {"steps_back", "grad_norm"} <= set(flow):
        raise TypeError(f"{name} must be a DataFrame from gradient_flow, with columns "
                        f"'steps_back' and 'grad_norm'; got {type(flow).__name__}.")
    norms = flow["grad_norm"].to_numpy(dtype=float)
    if not np.isfinite(norms).all():
        raise ValueError(f"{name} has non-finite gradient norms (at steps_back "
                         f"{flow['steps_back'][~np.isfinite(norms)].tolist()[:5]}): the "
                         "gradient overflowed or the input holds NaN.")
    return flow.sort_values("steps_back")


def gradient_decay_rate(flow, *, skip=1):
    """Factor by which the gradient shrinks per step back (a geometric fit).

    Fits ``log(grad_norm) = a + b * steps_back`` over ``steps_back >= skip``
    (the last step is often special) and returns ``exp(b)``: below 1 the
    gradient vanishes, above 1 it explodes. Steps with a zero gradient (beyond
    a TDNN's context) are left out.

    Parameters
    ----------
    flow : DataFrame
        A result of :func:`gradient_flow`: columns ``steps_back`` and
        ``grad_norm`` (finite).
    skip : int, default=1
        Leave out the steps with ``steps_back < skip``; at least two steps
        with a non-zero gradient must remain.

    Returns
    -------
    rate : float
        ``exp(b)``, the fitted factor per step back.
    """
    check_count(skip, "skip", low=0)
    flow = _check_flow(flow)
    part = flow[(flow["steps_back"] >= skip) & (flow["grad_norm"] > 0)]
    if len(part) < 2:
        raise ValueError("gradient_decay_rate needs at least two steps with a non-zero "
                         "gradient beyond `skip`.")
    slope = np.polyfit(part["steps_back"], np.log(part["grad_norm"]), 1)[0]
    return float(np.exp(slope))


def plot_gradient_flow(flows, ax=None, *, normalise=True):
    """Plot gradient flow curves (a DataFrame, or a dict of label -> DataFrame).

    The y axis is logarithmic: geometric decay is a straight line. Each
    curve's legend entry shows its :func:`gradient_decay_rate` where one
    can be fitted.

    Parameters
    ----------
    flows : DataFrame or dict of str to DataFrame
        A result of :func:`gradient_flow`, or several by label (the legend).
    ax : matplotlib Axes, default=None
        The axes to draw on; None draws on the current axes
        (``plt.gca()``).
    normalise : bool, default=True
        Divide each curve by its value at the last step
        (``steps_back == 0``), so curves of different networks compare by
        their decay.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.
    """
    import matplotlib.pyplot as plt

    if isinstance(flows, pd.DataFrame):
        flows = {"": flows}
    if not isinstance(flows, Mapping):
        raise TypeError(f"flows must be a DataFrame from gradient_flow or a dict of label "
                        f"-> DataFrame; got {type(flows).__name__}.")
    flows = {label: _check_flow(flow, f"flows[{label!r}]") for label, flow in flows.items()}
    for label, flow in flows.items():
        if flow.empty:
            raise ValueError(f"flows[{label!r}] is empty: nothing to plot.")
    if ax is None:
        ax = plt.gca()
    for label, flow in flows.items():
        norms = flow["grad_norm"].to_numpy(dtype=float)
        last = norms[flow["steps_back"].to_numpy() == 0]
        if normalise and len(last) and last[0] > 0:
            norms = norms / last[0]
        try:
            rate = f" (x{gradient_decay_rate(flow):.2f}/step)"
        except ValueError:  # zero beyond a few steps (a TDNN's finite context)
            rate = ""
        ax.semilogy(flow["steps_back"], norms, label=f"{label}{rate}".strip() or "_flow")
    ax.set_xlabel("steps back from the last step")
    ax.set_ylabel("gradient norm" + (" (relative to the last step)" if normalise else ""))
    if any(not line.get_label().startswith("_") for line in ax.get_lines()):
        ax.legend()
    return ax
