"""GPU fast path: fit with captured CUDA-graph steps vs the eager PyTorch loop (issue 7).

What is measured
----------------
Wall time of ``fit`` for :class:`sklearn_rnn.RNNRegressor` with each cell,
in one process on one GPU, three ways on the same data:

* **ours, fast path** (``fast_path=True``, the default): training steps
  replayed as CUDA graphs;
* **ours, eager** (``fast_path=False``): skorch's loop, batches sliced on
  the device, losses read once per epoch;
* **reference**: the hand-written eager loop of ``_common.reference_fit``
  with ``read_loss="epoch"`` -- data on the device, a ``randperm`` per epoch,
  zero_grad / forward / loss / backward / Adam step, losses summed on the
  device and read once per epoch (the fastest plain eager loop: no host
  sync per step). Its timed region includes building the module and moving
  the data, as ours does.

Both sides train the same module class (``RecurrentNet``, "last" pooling,
forget-gate bias 1), Adam at the same lr, MSE, no clipping, no early
stopping, the same epochs and batch size. Two configurations by default:
hidden 64 / batch 128 / 32 steps and hidden 256 / batch 512 / 64 steps.
The issue's targets: the fast path >= 5x the reference on the small one and
>= 2x on the large one, with predictions of the same quality, which the
table shows as the held-out MSE of each side (last 20 % of the windows).

Rounds alternate the order of the three runs; one untimed warm-up round per
configuration comes first (CUDA context, cuDNN plans). Medians over rounds.

Usage::

    python benchmarks/bench_gpu_fast_path.py                  # both configs, 3 cells
    python benchmarks/bench_gpu_fast_path.py --quick          # smoke run
    python benchmarks/bench_gpu_fast_path.py --device cpu --quick   # runs anywhere
                                                  # (no fast path on a CPU: ratio ~1)
"""

import argparse
import statistics
import time

import numpy as np
import torch

from _common import machine, make_data, print_table, reference_fit

from sklearn_rnn import RNNRegressor

CONFIGS = {"small": dict(hidden=64, batch=128, steps=32),
           "large": dict(hidden=256, batch=512, steps=64)}


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device):
    sync(device)
    start = time.perf_counter()
    result = fn()
    sync(device)
    return time.perf_counter() - start, result


def held_out_mse(predict, X, y):
    return float(np.mean((predict(X) - y) ** 2))


def run_ours(cell, cfg, args, X, y, fast_path):
    model = RNNRegressor(
        cell=cell, hidden_size=cfg["hidden"], batch_size=cfg["batch"],
        max_epochs=args.epochs, lr=args.lr, early_stopping=False, tol=0.0,
        patience=10**6, pooling="last", clip_grad_norm=None, random_state=args.seed,
        device=args.device, fast_path=fast_path)
    seconds, model = timed(lambda: model.fit(X, y), args.device)
    assert model.n_iter_ == args.epochs
    return seconds, model


def run_reference(cell, cfg, args, X, y):
    seconds, (module, _) = timed(lambda: reference_fit(
        X, y, cell=cell, hidden_size=cfg["hidden"], batch_size=cfg["batch"],
        epochs=args.epochs, lr=args.lr, seed=args.seed, device=args.device,
        read_loss="epoch"), args.device)
    return seconds, module


def reference_predict(module, X, device):
    module.eval()
    with torch.no_grad():
        x = torch.as_tensor(X, dtype=torch.float32).unsqueeze(-1).to(device)
        return module(x).squeeze(-1).cpu().numpy()


def one_round(cell, cfg, args, data, order, times, quality):
    X, y, X_test, y_test = data
    for who in order:
        if who == "reference":
            seconds, module = run_reference(cell, cfg, args, X, y)
            mse = held_out_mse(lambda Z: reference_predict(module, Z, args.device),
                               X_test, y_test)
        else:
            seconds, model = run_ours(cell, cfg, args, X, y, fast_path=who == "fast")
            mse = held_out_mse(model.predict, X_test, y_test)
            if who == "fast" and args.device.startswith("cuda"):
                replayed = sum(model.history_[:, "graph_steps"])
                quality[cell, "replayed"] = replayed / sum(
                    model.history_[:, "train_batch_count"])
        times[cell, who].append(seconds)
        quality[cell, who] = mse


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--configs", default="small,large")
    parser.add_argument("--cells", default="elman,lstm,gru")
    parser.add_argument("--n-windows", type=int, default=32_768)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="2,048 windows, 2 epochs, 1 round")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_windows, args.epochs, args.rounds = 2048, 2, 1
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda requested but torch sees no CUDA GPU "
                     "(use --device cpu for a smoke run)")
    torch.set_num_threads(1)
    card = torch.cuda.get_device_name() if args.device.startswith("cuda") else "no GPU"
    print(f"# {machine()}; device={args.device} ({card})")
    print(f"# {args.n_windows} windows, {args.epochs} epochs, {args.rounds} rounds, "
          f"Adam lr={args.lr}, no clipping, pooling='last'")

    header = ("config", "cell", "fast path s", "eager (ours) s", "reference s",
              "reference / fast path", "reference / eager", "steps replayed",
              "held-out MSE fast / eager / reference", "target met")
    rows = []
    for name in args.configs.split(","):
        cfg = CONFIGS[name]
        X_all, y_all = make_data(args.n_windows, cfg["steps"], args.seed)
        cut = int(0.8 * len(X_all))
        data = (X_all[:cut], y_all[:cut], X_all[cut:], y_all[cut:])
        target = 5.0 if name == "small" else 2.0
        for cell in args.cells.split(","):
            times = {(cell, w): [] for w in ("fast", "eager", "reference")}
            quality = {}
            warm = argparse.Namespace(**{**vars(args), "epochs": 1})
            one_round(cell, cfg, warm, (X_all[:4096], y_all[:4096]) + data[2:],
                      ("fast", "eager", "reference"), {k: [] for k in times}, {})
            for r in range(args.rounds):
                order = ("fast", "eager", "reference")
                one_round(cell, cfg, args, data, order[::-1] if r % 2 else order, times,
                          quality)
            med = {w: statistics.median(times[cell, w]) for w in ("fast", "eager",
                                                                   "reference")}
            speedup = med["reference"] / med["fast"]
            rows.append((f"{name} (h{cfg['hidden']}/b{cfg['batch']}/T{cfg['steps']})", cell,
                         f"{med['fast']:.3f}", f"{med['eager']:.3f}",
                         f"{med['reference']:.3f}", f"{speedup:.2f}x",
                         f"{med['reference'] / med['eager']:.2f}x",
                         f"{quality.get((cell, 'replayed'), 0):.0%}",
                         f"{quality[cell, 'fast']:.4f} / {quality[cell, 'eager']:.4f} / "
                         f"{quality[cell, 'reference']:.4f}",
                         f">= {target:.0f}x: {'yes' if speedup >= target else '**no**'}"))
            print("  " + " | ".join(rows[-1]), flush=True)
    print_table(header, rows)
    print(f"\nmedian wall seconds of fit over {args.rounds} rounds; x = how many times "
          "faster than the reference.")


if __name__ == "__main__":
    main()
