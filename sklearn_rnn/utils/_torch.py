"""Device resolution, seeding and thread control around torch work."""

import os
import threading
from numbers import Integral
from contextlib import contextmanager

import numpy as np
import torch


def resolve_device(device):
    """Map the ``device`` parameter to a :class:`torch.device`, or raise."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device={device!r} is not a device PyTorch knows; expected 'cpu', "
            "'cuda', 'cuda:N' or 'auto'.") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested, but PyTorch sees no CUDA GPU on "
                "this machine (torch.cuda.is_available() is False). Use "
                "device='cpu', or device='auto' to take a GPU only when there is one.")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested, but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible.")
    elif resolved.type != "cpu":
        raise ValueError(f"device={device!r} is not supported; expected 'cpu', "
                         "'cuda', 'cuda:N' or 'auto'.")
    return resolved


def _peak(values, axis):
    peak = np.max(np.abs(values), axis=axis, keepdims=True) if values.size else 1.0
    return np.where(peak > 0, peak, 1.0)


def robust_mean(values, axis=0, weights=None):
    """Mean (weighted along ``axis`` by ``weights``, if given) that does not
    overflow for values near the float64 limit."""
    values = np.asarray(values, dtype=np.float64)
    peak = _peak(values, axis)
    if weights is None:
        return np.mean(values / peak, axis=axis) * np.squeeze(peak, axis=axis)
    return np.average(values / peak, axis=axis, weights=weights) * np.squeeze(peak, axis=axis)


def robust_std(values, axis=0, weights=None):
    """Standard deviation (weighted along ``axis`` by ``weights``, if given) that
    does not overflow for values near the float64 limit (as ``np.std`` does for
    ``1e300``): computed on values divided by their largest magnitude. A zero
    deviation (a constant, one sample) comes back as that largest magnitude (1
    for zeros), not as 1: a constant target 1e-9, or a first ``partial_fit`` of
    one sample, is then scaled in its own units rather than trained raw."""
    values = np.asarray(values, dtype=np.float64)
    peak = _peak(values, axis)
    scaled = values / peak
    if weights is None:
        std = np.std(scaled, axis=axis)
    else:
        mean = np.average(scaled, axis=axis, weights=weights, keepdims=True)
        std = np.sqrt(np.average((scaled - mean) ** 2, axis=axis, weights=weights))
    peak = np.squeeze(peak, axis=axis)
    std = std * peak
    return np.where(std > 0, std, peak)


def draw_seed(random_state):
    """An int seed from ``random_state`` without touching numpy's global RNG.

    ``None`` draws fresh OS entropy (sklearn would draw from the global
    RandomState, which changes the caller's random stream); a numpy
    ``RandomState`` or ``Generator`` gives one draw; an int in [0, 2**32 - 1]
    is the seed. Anything else (a bool, a float, a string) is a TypeError, an
    int out of range a ValueError, both naming ``random_state``.
    """
    if random_state is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    expected = "random_state must be None, an int in [0, 2**32 - 1], a numpy RandomState or "
    if not isinstance(random_state, Integral) or isinstance(random_state, (bool, np.bool_)):
        raise TypeError(f"{expected}Generator; got {random_state!r:.60} "
                        f"({type(random_state).__name__}).")
    if not 0 <= random_state <= 2**32 - 1:
        raise ValueError(f"{expected}Generator; got {random_state!r}.")
    return int(random_state)


#: Held by every seeded torch session: torch's random generators and its thread
#: count are process-wide, so fits in threads of one process (joblib's "threading"
#: backend, a ThreadPoolExecutor) take turns; two at once drew from one generator
#: (different weights than alone) and restored each other's state into the caller's.
_SESSION_LOCK = threading.RLock()


@contextmanager
def torch_session(seed, device, n_threads):
    """Run torch work seeded and with ``n_threads`` intra-op threads, float32 as
    the default dtype and autograd on (also in a caller's inference mode).

    The caller's torch RNG states (CPU, and the CUDA device in use), thread
    count and default dtype are restored on exit, so fitting never changes
    global state. One session at a time per process (``_SESSION_LOCK``).
    """
    cuda_devices = []
    if device.type == "cuda":
        cuda_devices = [device.index if device.index is not None
                        else torch.cuda.current_device()]
    # Training builds float32 modules and needs autograd, whatever the caller's
    # default dtype and grad mode (a fit inside torch.inference_mode() too).
    with _SESSION_LOCK, torch.random.fork_rng(devices=cuda_devices), \
            torch_threads(n_threads), float32_default(), autograd_on():
        torch.random.default_generator.manual_seed(seed)
        for index in cuda_devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


@contextmanager
def module_build():
    """Build a module outside a fit (loading a file): float32, with autograd,
    and its random initialisation (overwritten at once) not drawn from the
    caller's torch RNG. One at a time, as sessions (``_SESSION_LOCK``)."""
    with _SESSION_LOCK, torch.random.fork_rng(devices=[]), float32_default(), autograd_on():
        yield


@contextmanager
def float32_default():
    """float32 as torch's default dtype inside the block (restored after).

    The networks are float32; under a caller's
    ``torch.set_default_dtype(torch.float64)`` their layers would be built in
    float64, which the float32 inputs do not match. It is process-wide, so
    only fits and module builds (under ``_SESSION_LOCK``) set it, and only when
    the caller changed it; predictions create their tensors with explicit
    dtypes instead.
    """
    old = torch.get_default_dtype()
    if old == torch.float32:
        yield
        return
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


@contextmanager
def autograd_on():
    """Gradients recorded and tensors ordinary, also inside a caller's
    ``torch.no_grad()`` or ``torch.inference_mode()`` block."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


def check_thread_count(n_threads, none_allowed=True):
    """Refuse far more threads than cores: torch starts as many as it is told (10**6
    of them took 264 GB of address space and stayed after the fit)."""
    if n_threads is None or n_threads <= 4:  # (os.cpu_count costs 9 us a call)
        return
    cap = 4 * (os.cpu_count() or 1)
    if n_threads > cap:
        raise ValueError(f"n_threads={n_threads!r} is far more than this machine's "
                         f"{os.cpu_count()} CPU cores; expected at most {cap} (4 a core)"
                         + (", or None to leave torch's setting alone." if none_allowed
                            else "."))


def _physical_memory():
    """This machine's memory in bytes (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX
        return None


def check_memory(nbytes, what, remedy):
    """Refuse ``what`` (a phrase: "Forecasting 10**12 steps") where it needs more
    bytes than this machine has: a clear error, with ``remedy``, before numpy or
    torch try."""
    total = _physical_memory()
    if total is not None and nbytes > total:
        raise ValueError(f"{what} would need {nbytes / 2**30:,.1f} GiB, more than this "
                         f"machine's {total / 2**30:,.1f} GiB of memory; {remedy}.")


@contextmanager
def torch_threads(n_threads):
    """Use ``n_threads`` intra-op threads inside the block (None: leave as is)."""
    if n_threads is not None and (isinstance(n_threads, bool) or not isinstance(
            n_threads, Integral) or n_threads < 1):
        # predict reads it too, after any set_params.
        raise ValueError(f"n_threads must be None or a positive integer; got {n_threads!r}.")
    check_thread_count(n_threads)
    old = torch.get_num_threads()
    change = n_threads is not None and n_threads != old
    if change:
        try:
            torch.set_num_threads(n_threads)
        except (RuntimeError, ValueError, OverflowError):  # beyond what torch takes
            raise ValueError(f"n_threads={n_threads!r} is more threads than PyTorch can "
                             "set; expected a positive integer such as the number of "
                             "CPU cores.") from None
    try:
        yield
    finally:
        if change:
            torch.set_num_threads(old)


def python_scalars(**values):
    """``values`` with numpy scalars turned into Python ones, for torch.

    Hyperparameters often arrive as numpy scalars (``GridSearchCV`` over
    ``np.arange(...)``); torch's modules refuse ``np.int64`` sizes and
    ``np.bool_`` flags.
    """
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}
