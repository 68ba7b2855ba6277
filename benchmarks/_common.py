"""Helpers shared by the benchmark scripts (not a benchmark itself).

Importing this module puts the repository root first on ``sys.path``, so a
script run as ``python benchmarks/<name>.py`` from a checkout imports the
repository's ``sklearn_rnn`` rather than an installed one. Scripts import it
as ``_common``: Python puts a script's own folder (``benchmarks/``) on
``sys.path`` already.

Heavy imports (numpy, torch, sklearn_rnn) happen inside the functions that
need them: the memory benchmarks' parent processes import this module without
loading any of them.
"""

import json
import os
import platform
import subprocess
import sys

try:  # POSIX only; imported up front so no import lands inside a measured region
    import resource
except ImportError:  # Windows: the speed scripts still run, maxrss_bytes does not
    resource = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


# ------------------------------------------------------------------ machine
def cpu_model(default="unknown"):
    """The CPU's model name from ``/proc/cpuinfo``, or ``default``."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return default


def machine(load_avg=False):
    """One line naming the CPUs, Python, torch and sklearn_rnn versions.

    ``load_avg=True`` adds the 1-minute load average after the CPUs.
    """
    import torch

    import sklearn_rnn

    load = ""
    if load_avg:
        value = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        load = f", load avg {value:.1f}"
    return (f"{os.cpu_count()} CPUs ({cpu_model()}){load}, Python "
            f"{platform.python_version()}, torch {torch.__version__}, "
            f"sklearn_rnn {sklearn_rnn.__version__}")


# --------------------------------------------------------------------- data
def make_data(n_windows, n_steps, seed=0):
    """Noisy sine windows (2-D, univariate) and the value after each window."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(n_windows + n_steps) * 0.1
    series = np.sin(t) + 0.5 * np.sin(0.31 * t) + 0.1 * rng.normal(size=t.shape)
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], n_steps).copy()
    y = series[n_steps:]
    return X, y


def print_table(header, rows):
    """Print ``rows`` (tuples of strings) under ``header`` as a Markdown table."""
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


# ---------------------------------------------------------------- reference
def reference_fit(X, y, *, cell, hidden_size, batch_size, epochs, lr, seed, device,
                  read_loss="batch", sample_weight=None):
    """The minimal hand-written PyTorch training loop. Returns the trained module
    and the mean training loss of each epoch.

    The data moves to the device once; each epoch draws a ``torch.randperm``,
    slices batches and runs zero_grad / forward / loss / backward / step.
    ``read_loss="batch"`` calls ``loss.item()`` per batch, as most loops (and
    skorch) do; ``"epoch"`` sums the losses on the device and reads them once
    per epoch, the faster eager loop on a GPU (no host sync per step).
    ``sample_weight`` (scaled to mean 1 here) weighs each sample's squared
    error: the batch loss is the mean of ``weight * error``.
    """
    import torch
    from torch import nn

    from sklearn_rnn._modules import RecurrentNet

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(X, dtype=torch.float32).unsqueeze(-1).to(device)
    t = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1).to(device)
    # The estimators' default LSTM initialisation (forget-gate bias 1), so both
    # sides train the same weights.
    module = RecurrentNet(1, 1, cell=cell, hidden_size=hidden_size,
                          pooling="last", forget_bias=1.0).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    criterion = nn.MSELoss()
    if sample_weight is not None:
        w = torch.as_tensor(sample_weight / sample_weight.mean(), dtype=torch.float32,
                            device=device)
        unreduced = nn.MSELoss(reduction="none")
    module.train()
    n, curve = x.shape[0], []
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator).to(device)
        total = 0.0 if read_loss == "batch" else torch.zeros((), device=device)
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            optimizer.zero_grad()
            if sample_weight is None:
                loss = criterion(module(x[index]), t[index])
            else:
                loss = (unreduced(module(x[index]), t[index]).mean(dim=1) * w[index]).mean()
            loss.backward()
            optimizer.step()
            if read_loss == "batch":
                total += loss.item() * len(index)
            else:
                total += loss.detach() * len(index)
        curve.append(float(total) / n)
    return module, curve


# ------------------------------------------------------------------- memory
def rss_bytes():
    """Current resident set size of this process (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def maxrss_bytes():
    """High-water mark of this process's resident set size, in bytes."""
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def run_child(cmd):
    """Run ``cmd`` in a fresh process; return the JSON of its last stdout line."""
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])
