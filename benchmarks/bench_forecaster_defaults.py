"""Forecaster defaults on real series shipped offline by statsmodels and sktime (issue 3).

What is measured
----------------
For each series the last ``h`` steps are held out; every method forecasts
them from the rest:

* ``naive`` (last value) and ``snaive`` (last season repeated), from
  :func:`sklearn_rnn.metrics.naive_forecast`;
* ``ETS``: statsmodels ``ExponentialSmoothing`` with a damped additive trend,
  plus an additive season of period ``m`` when ``m > 1`` (estimated by
  maximum likelihood, fast on these sizes);
* ``LSTMForecaster`` with its defaults, given only ``target`` and a
  ``lookback`` of two seasons (``2 * m``; at least 8 steps) and
  ``random_state``; then one factor changed at a time:
  ``level=False``, ``lr=1e-2``, ``strategy="direct", horizon=h``,
  ``max_epochs=300, patience=20`` (longer training); ``--variants`` also
  offers ``patience=20`` alone, ``direct+pat20``, ``lookback=8`` (the
  class default instead of two seasons), ``lr=3e-3``, ``clip=1.0``,
  ``batch=auto``, ``pat20+auto`` and ``regressor-defaults`` (lr 3e-3, clipping 1.0, patience 20, 200 epochs,
  ``batch_size="auto"``: the RNNRegressor defaults from the UCR/UEA study).

Scores are MAE and MASE. MASE divides by the in-sample MAE of the one-step
naive forecast (``seasonality=1`` for every series, so that values compare
across series; below 1 = better than a one-step naive forecast in sample).
LSTM scores are means over ``--seeds`` seeds.

Series (frequency, ``m``, ``h``, length):

* ``co2``: statsmodels weekly CO2 at Mauna Loa, resampled to month starts
  (mean) with the NaNs interpolated (monthly, 12, 12);
* ``sunspots``: statsmodels yearly sunspot activity (yearly, 11, 10);
* ``gdp``: statsmodels macrodata ``realgdp`` (quarterly, 4, 8);
* ``infl``: statsmodels macrodata ``infl`` (quarterly, 4, 8);
* ``lynx``: sktime ``load_lynx`` (yearly, 10, 10);
* ``shampoo``: sktime ``load_shampoo_sales`` (36 months; m=1, h=6, lookback 6);
* ``airline``: sktime ``load_airline`` (monthly, 12, 12);
* ``uschange``: sktime ``load_uschange`` Consumption (quarterly, 4, 8), and
  ``uschange+inc``: the same with Income as a covariate (its actual values
  over the test period are given to ``predict``: an oracle covariate, for
  the API path only).

Usage::

    python benchmarks/bench_forecaster_defaults.py            # 3 seeds, all series
    python benchmarks/bench_forecaster_defaults.py --seeds 1 --series airline,lynx
    python benchmarks/bench_forecaster_defaults.py --seeds 5 \
        --variants default,patience=20,direct,direct+pat20,lookback=8
    python benchmarks/bench_forecaster_defaults.py --seeds 5 \
        --variants default,lr=3e-3,clip=1.0,regressor-defaults
    python benchmarks/bench_forecaster_defaults.py --seeds 5 \
        --variants default,batch=auto,pat20+auto
"""

import argparse
import os
import platform
import sys
import time
import traceback
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sklearn_rnn  # noqa: E402
from sklearn_rnn import LSTMForecaster  # noqa: E402
from sklearn_rnn._modules import ForecastNet  # noqa: E402
from sklearn_rnn.metrics import mean_absolute_scaled_error, naive_forecast  # noqa: E402

VARIANTS = {
    "default": {},
    "level=False": {"level": False},
    "lr=1e-2": {"lr": 1e-2},
    "direct": {"strategy": "direct"},       # horizon set to h below
    "epochs300/pat20": {"max_epochs": 300, "patience": 20},
    "patience=20": {"patience": 20},
    "direct+pat20": {"strategy": "direct", "patience": 20},
    "lookback=8": {"lookback": 8},          # the class default, not 2 seasons
    "lr=3e-3": {"lr": 3e-3},
    "clip=1.0": {"clip_grad_norm": 1.0},
    "batch=auto": {"batch_size": "auto"},
    "pat20+auto": {"patience": 20, "batch_size": "auto"},
    # The regressors' defaults after the UCR/UEA study (commit b4ff2ac).
    "regressor-defaults": {"lr": 3e-3, "clip_grad_norm": 1.0, "patience": 20,
                           "max_epochs": 200, "batch_size": "auto"},
    # The output head's init scaled (a module setting, not an estimator parameter).
    "head*0": {"_head_scale": 0.0},
    "head*0.1": {"_head_scale": 0.1},
    "head*0.3": {"_head_scale": 0.3},
    # What changed since runs A/B: forget_bias 0 -> 1 (issue 5), and the forecasters'
    # patience 10 -> 20 and batch 64 -> "auto" (run B's recommendation).
    "forget_bias=0": {"forget_bias": 0.0},
    "pre-study": {"patience": 10, "batch_size": 64, "forget_bias": 0.0},
}
DEFAULT_VARIANTS = "default,level=False,lr=1e-2,direct,epochs300/pat20"


def load_series():
    """name -> (y Series, covariates DataFrame or None, m, h, lookback)."""
    import statsmodels.api as sm
    from sktime.datasets import load_airline, load_lynx, load_shampoo_sales, load_uschange

    out = {}
    co2 = sm.datasets.co2.load_pandas().data["co2"]
    co2 = co2.resample("MS").mean().interpolate()
    out["co2"] = (co2.rename("y"), None, 12, 12, 24)
    sun = sm.datasets.sunspots.load_pandas().data
    out["sunspots"] = (pd.Series(sun["SUNACTIVITY"].to_numpy(), name="y",
                                 index=sun["YEAR"].astype(int).to_numpy()), None, 11, 10, 22)
    macro = sm.datasets.macrodata.load_pandas().data
    qidx = pd.PeriodIndex.from_fields(year=macro["year"].astype(int),
                                      quarter=macro["quarter"].astype(int), freq="Q")
    out["gdp"] = (pd.Series(macro["realgdp"].to_numpy(), index=qidx, name="y"), None, 4, 8, 8)
    out["infl"] = (pd.Series(macro["infl"].to_numpy(), index=qidx, name="y"), None, 4, 8, 8)
    out["lynx"] = (load_lynx().rename("y"), None, 10, 10, 20)
    out["shampoo"] = (load_shampoo_sales().rename("y"), None, 1, 6, 6)
    out["airline"] = (load_airline().rename("y"), None, 12, 12, 24)
    y, X = load_uschange()
    out["uschange"] = (y.rename("y"), None, 4, 8, 8)
    out["uschange+inc"] = (y.rename("y"), X[["Income"]], 4, 8, 8)
    return out


def ets_forecast(y_train, h, m):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(np.asarray(y_train, dtype=float), trend="add",
                                     damped_trend=True,
                                     seasonal="add" if m > 1 else None,
                                     seasonal_periods=m if m > 1 else None,
                                     initialization_method="estimated").fit()
    return model.forecast(h)


def lstm_forecast(y_train, cov_train, cov_test, h, lookback, params, seed):
    params = dict(params)
    if params.get("strategy") == "direct":
        params["horizon"] = h
    params.setdefault("lookback", lookback)
    head_scale = params.pop("_head_scale", 1.0)
    est = LSTMForecaster(random_state=seed, **params)
    start = time.perf_counter()
    ForecastNet.head_scale = head_scale
    try:
        if cov_train is None:
            est.fit(y_train)
            pred = est.forecast(h)
        else:
            est.target = "y"
            est.fit(pd.concat([y_train, cov_train], axis=1))
            pred = est.predict(cov_test)
    finally:
        ForecastNet.head_scale = 1.0
    return np.asarray(pred, dtype=float), est.n_iter_, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--series", default=None, help="comma-separated subset")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS,
                        help=f"comma-separated, from {list(VARIANTS)}")
    args = parser.parse_args(argv)

    data = load_series()
    names = args.series.split(",") if args.series else list(data)
    variants = args.variants.split(",")
    print(f"# {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; {os.cpu_count()} CPUs, load avg "
          f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
          f"sklearn_rnn {sklearn_rnn.__version__}; seeds={args.seeds}")

    rows, errors = {}, []
    for name in names:
        y, cov, m, h, lookback = data[name]
        y_train, y_test = y.iloc[:-h], y.iloc[-h:].to_numpy()
        cov_train = None if cov is None else cov.iloc[:-h]
        cov_test = None if cov is None else cov.iloc[-h:]

        def score(pred):
            mae = float(np.mean(np.abs(y_test - pred)))
            return mae, mean_absolute_scaled_error(y_test, pred, y_train=y_train)

        res = {"naive": score(naive_forecast(y_train, h)),
               "snaive": score(naive_forecast(y_train, h, seasonality=m)),
               "ETS": score(ets_forecast(y_train, h, m))}
        for variant in variants:
            maes, mases, iters, secs = [], [], [], []
            for seed in range(args.seeds):
                try:
                    pred, n_iter, sec = lstm_forecast(y_train, cov_train, cov_test, h,
                                                      lookback, VARIANTS[variant], seed)
                except Exception as exc:  # record and go on: an API finding
                    errors.append((name, variant, seed, traceback.format_exc()))
                    print(f"  ERROR {name} {variant} seed {seed}: {exc!r}", flush=True)
                    continue
                mae, mase = score(pred)
                maes.append(mae), mases.append(mase), iters.append(n_iter), secs.append(sec)
            if maes:
                res[variant] = (float(np.mean(maes)), float(np.mean(mases)),
                                float(np.std(mases)), float(np.mean(iters)),
                                float(np.mean(secs)))
        rows[name] = (len(y), m, h, lookback, res)
        print(f"  {name}: n={len(y)} " + ", ".join(
            f"{k} {v[1]:.2f}" for k, v in res.items()), flush=True)

    methods = ["naive", "snaive", "ETS"] + variants
    for metric, idx in (("MASE", 1), ("MAE", 0)):
        print(f"\n### {metric} on the last h steps (LSTM: mean over {args.seeds} seeds"
              + ("; +- sd of MASE over seeds" if metric == "MASE" else "") + ")\n")
        header = ["series", "n", "m", "h", "lookback"] + methods
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for name, (n, m, h, lookback, res) in rows.items():
            cells = []
            for meth in methods:
                v = res.get(meth)
                if v is None:
                    cells.append("error")
                elif metric == "MASE" and len(v) > 2 and args.seeds > 1:
                    cells.append(f"{v[1]:.2f} +- {v[2]:.2f}")
                else:
                    cells.append(f"{v[idx]:.3g}" if metric == "MAE" else f"{v[idx]:.2f}")
            print(f"| {name} | {n} | {m} | {h} | {lookback} | " + " | ".join(cells) + " |")

    print("\n### Summary over series (MASE)\n")
    print("| method | mean MASE | geo-mean MASE ratio vs LSTM default | series better than "
          "default | series better than naive | mean epochs run | mean fit+forecast s |")
    print("|---|---|---|---|---|---|---|")
    for meth in methods:
        ok = [r for *_, r in rows.values() if meth in r and "default" in r]
        if not ok:
            continue
        mase = np.array([r[meth][1] for r in ok])
        ref = np.array([r["default"][1] for r in ok])
        naive = np.array([r["naive"][1] for r in ok])
        epochs = [r[meth][3] for r in ok if len(r[meth]) > 2]
        secs = [r[meth][4] for r in ok if len(r[meth]) > 2]
        print(f"| {meth} | {mase.mean():.3f} | {np.exp(np.mean(np.log(mase / ref))):.3f} | "
              f"{int((mase < ref).sum())}/{len(ok)} | {int((mase < naive).sum())}/{len(ok)} | "
              f"{np.mean(epochs) if epochs else float('nan'):.0f} | "
              f"{np.mean(secs) if secs else float('nan'):.2f} |")
    if errors:
        print("\n### Errors\n")
        for name, variant, seed, tb in errors:
            print(f"{name} / {variant} / seed {seed}:\n{tb}")


if __name__ == "__main__":
    main()
