"""
Learning the Lorenz system and rolling it out
=============================================

The Lorenz system is three coupled ordinary differential equations,

.. math::

    \\dot x = \\sigma (y - x), \\quad \\dot y = x (\\rho - z) - y, \\quad
    \\dot z = x y - \\beta z,

chaotic for the classic ``sigma=10, rho=28, beta=8/3``. This example integrates
trajectories with :func:`scipy.integrate.solve_ivp`, trains an
:class:`~sklearn_rnn.RNNRegressor` to map the last 16 states ``(x, y, z)`` to the
change of the state over the next step (a multi-output target of 3 values), and
then *rolls the model out*: starting from 16 true states of trajectories it never
saw, it feeds its own predictions back, step after step, for 584 steps.

Why not :class:`~sklearn_rnn.LSTMForecaster`? A forecaster forecasts one target
column, and reads other columns as covariates whose *future* values it must be
given. For a dynamical system the future of ``y`` and ``z`` is exactly what is
unknown, so the honest set-up is one model that predicts the whole next state and
a loop that feeds it back, written out below.

The rollout is compared with two baselines that need no training: the constant
forecast (the state stays where it was) and linear extrapolation (the state keeps
moving with its last velocity). Because the system is chaotic, any small error
grows by a factor of e about every 1.1 time units, so no model can follow a
trajectory for long; the interesting numbers are how long it stays close, and
whether it stays on the attractor after it loses track.

Run ``python examples/plot_differential_equations.py --plot`` to also draw the
learned and true trajectories.
"""

# %%
# Trajectories on the attractor
# -----------------------------
# Each trajectory starts from a random point, is integrated for 300 steps to
# settle onto the attractor, and that end point becomes its initial condition.
# 12 trajectories of 1,000 steps (20 time units each) train the model; 5 more,
# from other initial conditions, test it.
import argparse
import time
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.integrate import solve_ivp

from sklearn_rnn import RNNRegressor

parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
parser.add_argument("--plot", action="store_true",
                    help="draw learned vs true trajectories")
parser.add_argument("--output", type=Path,
                    default=(Path(__file__).resolve().parent / "output"
                             / "differential_equations.png"),
                    help="the file (or folder) where --plot saves the figure (default: %(default)s)")
args = parser.parse_args()
if not args.output.suffix:  # a folder: the figure under its default name in it
    args.output = args.output / parser.get_default("output").name

DT, LOOKBACK = 0.02, 16
N_TRAIN, N_TEST, TRAIN_STEPS, TEST_STEPS = 12, 5, 1000, 600


def lorenz(t, state, sigma=10.0, rho=28.0, beta=8 / 3):
    x, y, z = state
    return [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]


def trajectory(start, n_steps):
    """``n_steps`` states ``(x, y, z)``, ``DT`` apart, from ``start``."""
    t = np.arange(n_steps) * DT
    return solve_ivp(lorenz, (0, t[-1]), start, t_eval=t, rtol=1e-9, atol=1e-9).y.T


rng = np.random.default_rng(0)


def on_attractor():
    return trajectory(rng.normal(0, 5, 3) + [0, 0, 25], 300)[-1]


start = time.perf_counter()
train = [trajectory(on_attractor(), TRAIN_STEPS) for _ in range(N_TRAIN)]
test = np.stack([trajectory(on_attractor(), TEST_STEPS) for _ in range(N_TEST)])
print(f"Integrated {N_TRAIN} training and {N_TEST} test trajectories "
      f"in {time.perf_counter() - start:.1f}s (dt={DT})")

# %%
# Windows and targets
# -------------------
# ``X`` holds every run of 16 consecutive states, shape ``(n_windows, 16, 3)``; ``y``
# the change from the window's last state to the next one, shape
# ``(n_windows, 3)``. Learning the change rather than the next state spares the
# network an almost exact identity map (a network that outputs 0 is the constant
# forecast), the same idea as ``level=True`` in the forecasters.
X = np.concatenate([sliding_window_view(tr[:-1], LOOKBACK, axis=0).transpose(0, 2, 1)
                    for tr in train])
y = np.concatenate([tr[LOOKBACK:] - tr[LOOKBACK - 1:-1] for tr in train])
print(f"X {X.shape}, y {y.shape}")

model = RNNRegressor(cell="gru", hidden_size=64, lr=3e-3, max_epochs=80, patience=20,
                     random_state=0)
start = time.perf_counter()
model.fit(X, y)
print(f"GRU regressor: {model.n_iter_} epochs in {time.perf_counter() - start:.1f}s")

# %%
# The rollout loop
# ----------------
# All 5 test trajectories advance together: each step predicts the change from
# the last 16 states (true ones at first, then more and more of the model's own)
# and appends the new state.
states = test[:, :LOOKBACK].copy()
start = time.perf_counter()
while states.shape[1] < TEST_STEPS:
    change = model.predict(states[:, -LOOKBACK:])
    states = np.concatenate([states, (states[:, -1] + change)[:, None]], axis=1)
print(f"Rolled out {TEST_STEPS - LOOKBACK} steps x {N_TEST} trajectories in "
      f"{time.perf_counter() - start:.1f}s")

# The baselines, from the same 16 true states.
ahead = np.arange(1, TEST_STEPS - LOOKBACK + 1)[None, :, None]
last, velocity = test[:, LOOKBACK - 1], test[:, LOOKBACK - 1] - test[:, LOOKBACK - 2]
baselines = {"constant": np.broadcast_to(last[:, None], (N_TEST, len(ahead[0]), 3)),
             "linear extrapolation": last[:, None] + ahead * velocity[:, None]}
truth = test[:, LOOKBACK:]
forecasts = {"GRU rollout": states[:, LOOKBACK:], **baselines}

# %%
# Error over time
# ---------------
# The error is the Euclidean distance between forecast and true state, averaged
# over the 5 test trajectories. For scale: the attractor spans about 40 units in
# each direction; the distance between two random points on it is printed too.
errors = {name: np.linalg.norm(f - truth, axis=2).mean(axis=0)
          for name, f in forecasts.items()}
all_train = np.concatenate(train)
pairs = rng.integers(0, len(all_train), size=(2, 2000))
random_pair = np.linalg.norm(all_train[pairs[0]] - all_train[pairs[1]], axis=1).mean()
print(f"\nMean distance to the true state (two random attractor points: {random_pair:.1f})")
print(f"{'steps ahead':>12} {'time':>6}" + "".join(f"{name:>22}" for name in errors))
for k in [1, 2, 5, 10, 25, 50, 100, 200, 400, TEST_STEPS - LOOKBACK]:
    print(f"{k:12d} {k * DT:6.2f}" + "".join(f"{e[k - 1]:22.3f}" for e in errors.values()))


def valid_time(error, threshold=5.0):
    """Time until the error first exceeds ``threshold``."""
    over = np.flatnonzero(error > threshold)
    return (over[0] if len(over) else len(error)) * DT


print("\nTime until the mean error first exceeds 5 units:")
for name, error in errors.items():
    print(f"  {name:22} {valid_time(error):5.2f} time units "
          f"({valid_time(error) / 1.1:.1f} Lyapunov times)")

# Does the rollout stay on the attractor once it has lost track? Compare the
# spread of its late states with the true ones.
late = slice(300, None)
print(f"\nLate rollout (steps 300+): mean z {states[:, LOOKBACK:][:, late, 2].mean():.1f} "
      f"(true {truth[:, late, 2].mean():.1f}), std of x "
      f"{states[:, LOOKBACK:][:, late, 0].std():.1f} (true {truth[:, late, 0].std():.1f})")

# %%
# What the numbers say
# --------------------
# The constant forecast is already 2 units off after one step; linear
# extrapolation is better for the first few steps and then diverges, because the
# trajectory curves. The rollout's one-step error is about 12 times smaller than
# extrapolation's (0.035 against 0.421 in the run this was written from), and it
# stays within 5 units of the true trajectory for about 2.7 time units (2.5
# Lyapunov times, over each of which any error grows by a factor of e). Then,
# like any model of a chaotic system, including the exact equations started from a
# slightly wrong state, it loses the phase and its error rises to the level of two
# random points on the attractor, where the constant forecast sits from the start.
# Its late states keep the attractor's mean height (z 23.2 against 23.8) but swing
# about twice as wide (x's standard deviation 16.4 against 7.9): the network
# learned the short-term dynamics, not the attractor's long-run statistics, which
# is what "learned the dynamics" can honestly mean here.

# %%
# Learned vs true trajectories
# ----------------------------
if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 8))
    grid = fig.add_gridspec(3, 2, width_ratios=[1.6, 1])
    t = (np.arange(TEST_STEPS) - LOOKBACK + 1) * DT
    for row, name in enumerate("xyz"):
        ax = fig.add_subplot(grid[row, 0])
        ax.plot(t, test[0, :, row], color="black", label="true")
        ax.plot(t[LOOKBACK:], states[0, LOOKBACK:, row], color="tab:blue",
                label="GRU rollout")
        ax.axvline(0, color="gray", linewidth=0.8)
        ax.set_ylabel(name)
        if row == 0:
            ax.set_title("Test trajectory 1 (rollout starts at t=0)")
            ax.legend(fontsize=8, loc="upper right")
    ax.set_xlabel("time")
    ax = fig.add_subplot(grid[:2, 1])
    ax.plot(test[0, :, 0], test[0, :, 2], color="black", linewidth=0.7, label="true")
    ax.plot(states[0, :, 0], states[0, :, 2], color="tab:blue", linewidth=0.7,
            alpha=0.8, label="GRU rollout")
    ax.set_xlabel("x")
    ax.set_ylabel("z")
    ax.set_title("x-z plane")
    ax = fig.add_subplot(grid[2, 1])
    for name, error in errors.items():
        ax.semilogy(ahead[0, :, 0] * DT, error, label=name)
    ax.set_ylim(top=100)  # extrapolation runs off to 1,000+
    ax.set_xlabel("time ahead")
    ax.set_ylabel("mean error")
    ax.legend(fontsize=8)
    fig.suptitle("Lorenz system: a GRU trained on one-step changes, rolled out on its "
                 "own predictions")
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=100)
    print(f"Saved the figure to {args.output}")
