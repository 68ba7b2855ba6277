"""Defaults study: which hyperparameters make ``LSTMClassifier().fit(X, y)`` learn?

Issue 2. Every configuration is trained on the official train split of several
UCR/UEA archive datasets that sktime ships offline and scored on the official
test split, next to the archive's published 1-nearest-neighbour (Euclidean)
accuracy and a 1-NN computed here as a sanity check.

Configurations are named deltas from the baseline (LSTM, last-step pooling,
Adam at 1e-3, early stopping with patience 10, inputs standardised), varied one
factor at a time. Results are cached per (dataset, config, seed) in a JSON file
so the study can be run in stages and re-run cheaply.

Usage::

    python benchmarks/bench_defaults_ucr.py --quick              # smoke run, ~1 min
    python benchmarks/bench_defaults_ucr.py --configs base mean max lr1e-2
    python benchmarks/bench_defaults_ucr.py --datasets GunPoint OSULeaf --seeds 0 1 2
    python benchmarks/bench_defaults_ucr.py --list               # configurations

Requires ``sktime`` (``pip install sklearn_rnn[benchmarks]``). Runs
``--n-jobs`` fits at a time (joblib), each with ``n_threads=1``.
"""

import argparse
import datetime
import json
import os
import platform
import time
import warnings

import sys

# Run from a checkout without installing: the package and the joblib workers
# (which inherit the environment) import sklearn_rnn from the repository root.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)

import numpy as np  # noqa: E402
from joblib import Parallel, delayed
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

import sklearn_rnn  # noqa: E402
from sklearn_rnn import ElmanClassifier, GRUClassifier, LSTMClassifier  # noqa: E402

ESTIMATORS = {"lstm": LSTMClassifier, "gru": GRUClassifier, "elman": ElmanClassifier}

# name -> (sktime loader name, published 1-NN Euclidean test accuracy)
# Published numbers: UCR/UEA archive (timeseriesclassification.com).
DATASETS = {
    "ItalyPowerDemand": ("load_italy_power_demand", 0.955),
    "GunPoint": ("load_gunpoint", 0.913),
    "ArrowHead": ("load_arrow_head", 0.800),
    "BasicMotions": ("load_basic_motions", 0.676),
    "JapaneseVowels": ("load_japanese_vowels", 0.924),
    "OSULeaf": ("load_osuleaf", 0.521),
}

# The baseline is the library's pre-study default; the others change one or two
# factors. "cell" picks the estimator class, every other key is a parameter.
BASE = dict(cell="lstm", pooling="last", lr=1e-3, hidden_size=64, batch_size=64,
            max_epochs=100, early_stopping=True, patience=10, scale_inputs=True,
            clip_grad_norm=None)
CONFIGS = {
    "base": {},
    # pooling
    "mean": dict(pooling="mean"),
    "max": dict(pooling="max"),
    # learning rate
    "lr1e-2": dict(lr=1e-2),
    "lr3e-3": dict(lr=3e-3),
    "mean_lr3e-3": dict(pooling="mean", lr=3e-3),
    "mean_lr1e-2": dict(pooling="mean", lr=1e-2),
    "max_lr3e-3": dict(pooling="max", lr=3e-3),
    "max_lr1e-2": dict(pooling="max", lr=1e-2),
    # Stage 2: small training sets (36-67 series) get one Adam step per epoch at
    # batch_size=64 and a 4-7 series validation split, so early stopping ends
    # them after ~15 steps: vary the stopping rule, the patience and the batch.
    "max_lr3e-3_pat20_e200": dict(pooling="max", lr=3e-3, patience=20, max_epochs=200),
    "max_lr3e-3_noES_e200": dict(pooling="max", lr=3e-3, early_stopping=False,
                                 patience=20, max_epochs=200),
    "max_lr3e-3_b16": dict(pooling="max", lr=3e-3, batch_size=16),
    "max_lr3e-3_b16_pat20_e200": dict(pooling="max", lr=3e-3, batch_size=16,
                                      patience=20, max_epochs=200),
    "max_lr1e-2_noES_e200": dict(pooling="max", lr=1e-2, early_stopping=False,
                                 patience=20, max_epochs=200),
    "mean_lr3e-3_noES_e200": dict(pooling="mean", lr=3e-3, early_stopping=False,
                                  patience=20, max_epochs=200),
    "last_lr3e-3_noES_e200": dict(pooling="last", lr=3e-3, early_stopping=False,
                                  patience=20, max_epochs=200),
    "gru_max_lr3e-3": dict(cell="gru", pooling="max", lr=3e-3),
    # Stage 3: around the best of stage 2 (max pooling, lr 3e-3, batch 16,
    # patience 20, 200 epochs), one factor at a time.
    **{f"{name}_b16_pat20_e200": dict(delta, batch_size=16, patience=20, max_epochs=200)
       for name, delta in {
           "max_lr3e-3_noES": dict(pooling="max", lr=3e-3, early_stopping=False),
           "max_lr1e-2": dict(pooling="max", lr=1e-2),
           "max_lr1e-3": dict(pooling="max", lr=1e-3),
           "mean_lr3e-3": dict(pooling="mean", lr=3e-3),
           "last_lr3e-3": dict(pooling="last", lr=3e-3),
           "max_lr3e-3_clip1": dict(pooling="max", lr=3e-3, clip_grad_norm=1.0),
           "max_lr3e-3_noscale": dict(pooling="max", lr=3e-3, scale_inputs=False),
           "max_lr3e-3_h128": dict(pooling="max", lr=3e-3, hidden_size=128),
           "gru_max_lr3e-3": dict(cell="gru", pooling="max", lr=3e-3),
           "elman_max_lr3e-3": dict(cell="elman", pooling="max", lr=3e-3),
           "gru_max_lr3e-3_clip1": dict(cell="gru", pooling="max", lr=3e-3,
                                        clip_grad_norm=1.0),
       }.items()},
    # The classes as they ship today (the study's recommendation plus what came
    # later: LSTM forget_bias=1.0, early stopping by sklearn's tol rule), given
    # only random_state: re-checks the adopted defaults end to end.
    "lstm_defaults": dict(cell="lstm", class_defaults=True),
    "gru_defaults": dict(cell="gru", class_defaults=True),
}
QUICK = dict(datasets=["ItalyPowerDemand", "GunPoint"], configs=["base", "mean"],
             seeds=[0], max_epochs=5)


def load(name):
    """``(X_train, y_train, X_test, y_test)``; X as (n, T, F) or a list of (T_i, F)."""
    import sktime.datasets

    loader = getattr(sktime.datasets, DATASETS[name][0])
    out = []
    for split in ("train", "test"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                X, y = loader(split=split, return_type="numpy3D")
                X = np.ascontiguousarray(X.transpose(0, 2, 1), dtype=np.float32)
            except ValueError:  # unequal lengths (JapaneseVowels): nested frame
                X, y = loader(split=split, return_type="nested_univ")
                X = [np.stack([np.asarray(X.iloc[i, j], dtype=np.float32)
                               for j in range(X.shape[1])], axis=1)
                     for i in range(len(X))]
        out += [X, np.asarray(y)]
    return tuple(out)


def _flat(X, length):
    """Flatten for 1-NN; ragged series are padded with their last value."""
    if not isinstance(X, list):
        return X.reshape(len(X), -1)
    return np.stack([np.pad(x, ((0, length - len(x)), (0, 0)), mode="edge").ravel()
                     for x in X])


def one_nn(X_train, y_train, X_test, y_test):
    length = max(len(x) for x in list(X_train) + list(X_test))
    knn = KNeighborsClassifier(n_neighbors=1).fit(_flat(X_train, length), y_train)
    return knn.score(_flat(X_test, length), y_test)


def config_params(name, max_epochs=None):
    delta = CONFIGS[name]
    if delta.get("class_defaults"):
        params = dict(cell=delta["cell"])
    else:
        params = {**BASE, **delta}
    if max_epochs is not None:
        params["max_epochs"] = max_epochs
    return params


def run_one(dataset, config, seed, max_epochs=None):
    X_train, y_train, X_test, y_test = load(dataset)
    params = config_params(config, max_epochs)
    cls = ESTIMATORS[params.pop("cell")]
    model = cls(**params, random_state=seed, n_threads=1)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return dict(dataset=dataset, config=config, seed=seed,
                accuracy=float(model.score(X_test, y_test)),
                train_accuracy=float(model.score(X_train, y_train)),
                n_iter=int(model.n_iter_), seconds=seconds,
                chance=float(np.max(np.unique(y_test, return_counts=True)[1])
                             / len(y_test)))


def _key(r):
    return f"{r['dataset']}|{r['config']}|{r['seed']}"


def report(results, datasets, configs, nn_here):
    """One markdown table: a row per configuration (test accuracy per dataset, mean
    ± sd over the seeds run), under reference rows for chance and 1-NN."""
    short = {"ItalyPowerDemand": "ItalyPower", "JapaneseVowels": "JapVowels"}
    head = ["configuration", "seeds"] + [short.get(d, d) for d in datasets] + [
        "mean acc", "mean epochs", "fit s (sum)"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    chance = {d: next((r["chance"] for r in results if r["dataset"] == d), np.nan)
              for d in datasets}
    for label, values in [("majority class", chance),
                          ("1-NN ED (archive)", {d: DATASETS[d][1] for d in datasets}),
                          ("1-NN ED (here)", nn_here)]:
        row = [label, ""] + [f"{values[d]:.3f}" for d in datasets]
        lines.append("| " + " | ".join(row + [f"{np.mean(list(values.values())):.3f}",
                                              "", ""]) + " |")
    for c in configs:
        rows = [r for r in results if r["config"] == c]
        if not rows:
            continue
        row = [f"`{c}`", str(len({r["seed"] for r in rows}))]
        means = []
        for d in datasets:
            acc = [r["accuracy"] for r in rows if r["dataset"] == d]
            means.append(np.mean(acc) if acc else np.nan)
            row.append("" if not acc else f"{np.mean(acc):.3f}"
                       + (f" ±{np.std(acc):.2f}" if len(acc) > 1 else ""))
        row += [f"**{np.mean(means):.3f}**" if not np.isnan(means).any() else "",
                f"{np.mean([r['n_iter'] for r in rows]):.0f}",
                f"{sum(r['seconds'] for r in rows) / len({r['seed'] for r in rows}):.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS))
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0],
                        help="with --report-only: the seeds to include")
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="override every configuration's max_epochs")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--cache", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), ".bench_defaults_ucr.json"),
        help="JSON file of finished runs (reused; delete to start over)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 datasets, 2 configs, 5 epochs, no cache")
    parser.add_argument("--list", action="store_true", help="print configurations")
    parser.add_argument("--report-only", action="store_true",
                        help="fit nothing; tabulate the cache (every cached "
                             "configuration unless --configs)")
    args = parser.parse_args()

    if args.list:
        for name in CONFIGS:
            print(f"{name:28s} {config_params(name)}")
        return
    if args.quick:
        datasets, configs, seeds = QUICK["datasets"], QUICK["configs"], QUICK["seeds"]
        max_epochs, cache = QUICK["max_epochs"], None
    else:
        datasets = args.datasets or list(DATASETS)
        configs = args.configs or ["base"]
        if args.report_only and not args.configs:
            configs = list(CONFIGS)
        seeds, max_epochs, cache = args.seeds, args.max_epochs, args.cache

    done = {}
    if cache and os.path.exists(cache):
        with open(cache) as f:
            done = {_key(r): r for r in json.load(f)}
    # Longest datasets first so the two workers finish together.
    order = sorted(datasets, key=lambda d: -{"OSULeaf": 6, "ArrowHead": 5, "GunPoint": 4,
                                             "BasicMotions": 3, "JapaneseVowels": 2}.get(d, 1))
    todo = [] if args.report_only else [
        (d, c, s) for c in configs for s in seeds for d in order
        if max_epochs is not None or f"{d}|{c}|{s}" not in done]
    start = time.perf_counter()
    new = []
    # Unordered generator: every finished fit is written to the cache at once,
    # so an interrupted study keeps what it has done.
    for r in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
            delayed(run_one)(d, c, s, max_epochs) for d, c, s in todo):
        new.append(r)
        print(f"[{len(new)}/{len(todo)} {time.perf_counter() - start:5.0f}s] "
              f"{r['dataset']:16s} {r['config']:24s} seed {r['seed']}: "
              f"acc {r['accuracy']:.3f} train {r['train_accuracy']:.3f} "
              f"epochs {r['n_iter']:3d} {r['seconds']:5.1f}s", flush=True)
        if cache and max_epochs is None:
            done[_key(r)] = r
            with open(cache, "w") as f:
                json.dump(list(done.values()), f, indent=0)
    wall = time.perf_counter() - start
    results = new if max_epochs is not None else [
        r for r in done.values()
        if r["dataset"] in datasets and r["config"] in configs and r["seed"] in seeds]

    nn_here = {d: one_nn(*load(d)) for d in datasets}
    print(f"\n{datetime.date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, sklearn_rnn {sklearn_rnn.__version__}, "
          f"seeds {seeds}, {len(new)} new fits in {wall:.0f} s "
          f"(n_jobs={args.n_jobs}, n_threads=1)\n")
    print(report(results, datasets, configs, nn_here))
    print("Configurations (the parameters given; the rest are the class defaults):")
    for c in configs:
        print(f"- `{c}`: {config_params(c)}")


if __name__ == "__main__":
    main()
