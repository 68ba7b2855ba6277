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
