"""Gradient-health diagnostics: how far back in time the gradient reaches."""

from numbers import Integral

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from .utils import autograd_on, check_sequences, torch_threads


def gradient_flow(estimator, X, y=None, *, max_samples=256):
    """How strongly the output at the last step depends on each earlier step.

    For each time step ``t`` of the sequences in ``X``, the norm of the
    gradient of the loss (given ``y``; else of the sum of the network's
    outputs) with respect to the network's input at ``t``, averaged over
    sequences. Steps are counted back from each sequence's last (valid) step,
    so ragged sequences line up at their ends. A vanishing gradient shows as
    a norm decaying geometrically with ``steps_back``; see
    :func:`gradient_decay_rate`.

    Parameters
    ----------
    estimator : fitted sequence regressor or classifier
    X : sequences, as the estimator takes them
    y : targets, optional
        With ``y`` the gradient is that of the training loss.
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
    if isinstance(max_samples, bool) or not isinstance(max_samples, Integral) or max_samples < 1:
        raise ValueError(f"max_samples must be a positive integer; got {max_samples!r}.")
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
            data = estimator._dataset(batch, None if y is None else estimator._encode_target(
                np.asarray(y)[:n], reset=False), device=net.device)
            x = data.x.clone().requires_grad_(True)
            out = module(x, data.lengths) if data.lengths is not None else module(x)
            target = out.sum() if y is None else net.criterion_(out, data.y)
            (grad,) = torch.autograd.grad(target, x)
    finally:
        module.train(was_training)
    norms = grad.norm(dim=2).detach().cpu().numpy()                     # (n, T)
    lengths = (np.full(n, norms.shape[1]) if batch.lengths is None else batch.lengths)
    steps_back = lengths[:, None] - 1 - np.arange(norms.shape[1])[None, :]
    valid = steps_back >= 0
    frame = pd.DataFrame({"steps_back": steps_back[valid], "grad_norm": norms[valid]})
    return frame.groupby("steps_back", as_index=False)["grad_norm"].mean()


def gradient_decay_rate(flow, *, skip=1):
    """Factor by which the gradient shrinks per step back (a geometric fit).

    Fits ``log(grad_norm) = a + b * steps_back`` over ``steps_back >= skip``
    (the last step is often special) and returns ``exp(b)``: below 1 the
    gradient vanishes, above 1 it explodes.
    """
    part = flow[(flow["steps_back"] >= skip) & (flow["grad_norm"] > 0)]
    if len(part) < 2:
        raise ValueError("gradient_decay_rate needs at least two steps with a non-zero "
                         "gradient beyond `skip`.")
    slope = np.polyfit(part["steps_back"], np.log(part["grad_norm"]), 1)[0]
    return float(np.exp(slope))


def plot_gradient_flow(flows, ax=None, *, normalise=True):
    """Plot gradient flow curves (a DataFrame, or a dict of label -> DataFrame).

    With ``normalise`` each curve is divided by its value at the last step,
    so curves of different networks compare by their decay. The y axis is
    logarithmic: geometric decay is a straight line. Returns the axes.
    """
    import matplotlib.pyplot as plt

    if isinstance(flows, pd.DataFrame):
        flows = {"": flows}
    if ax is None:
        ax = plt.gca()
    for label, flow in flows.items():
        norms = flow["grad_norm"].to_numpy()
        if normalise and norms[0] > 0:
            norms = norms / norms[0]
        try:
            rate = f" (x{gradient_decay_rate(flow):.2f}/step)"
        except ValueError:  # zero beyond a few steps (a TDNN's finite context)
            rate = ""
        ax.semilogy(flow["steps_back"], norms, label=f"{label}{rate}".strip())
    ax.set_xlabel("steps back from the last step")
    ax.set_ylabel("gradient norm" + (" (relative to the last step)" if normalise else ""))
    ax.legend()
    return ax
