"""
Forecasting a (synthetic) stock price: the random-walk lesson
=============================================================

**The prices in this example are synthetic.** No real market data ships with the
package (and none can be downloaded offline), so the example simulates a stock
with geometric Brownian motion: daily log-returns are independent normal draws,
with a regime change after 1,000 trading days from a calm bull market (drift
+15% a year, volatility 15%) to a volatile bear market (drift -10%, volatility
35%). Being synthetic is the point: here we *know* that tomorrow's return cannot
be predicted from the past, because every return is an independent draw.

An :class:`~sklearn_rnn.LSTMForecaster` forecasts the next day's log-return (and
a second one the next day's price) over the last 250 days, and is compared with
the naive forecast "tomorrow's price = today's price" by MAE, MASE and directional
accuracy. On a random walk the naive forecast is optimal up to the tiny drift, so
the honest expectation is that the network does **not** beat it; a network that
seemed to would be overfitting the test period or leaking the future.

Run ``python examples/plot_stock_prices.py --plot`` to also draw the prices and
forecasts.
"""

# %%
# A synthetic price with a regime change
# --------------------------------------
import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_rnn import LSTMForecaster
from sklearn_rnn.metrics import mean_absolute_scaled_error

parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
parser.add_argument("--plot", action="store_true",
                    help="draw the synthetic price and the forecasts")
parser.add_argument("--output", type=Path,
                    default=Path(__file__).resolve().parent / "output" / "stock_prices.png",
                    help="the file (or folder) where --plot saves the figure (default: %(default)s)")
args = parser.parse_args()
if not args.output.suffix:  # a folder: the figure under its default name in it
    args.output = args.output / parser.get_default("output").name

DAYS = 252  # trading days a year
REGIMES = [(1000, 0.15, 0.15), (500, -0.10, 0.35)]  # (days, annual drift, volatility)
N_TEST, LOOKBACK = 250, 20

rng = np.random.default_rng(0)
log_returns = np.concatenate([
    rng.normal((mu - sigma ** 2 / 2) / DAYS, sigma / np.sqrt(DAYS), n)
    for n, mu, sigma in REGIMES])
dates = pd.bdate_range("2018-01-01", periods=len(log_returns) + 1)
price = pd.Series(100 * np.exp(np.r_[0, np.cumsum(log_returns)]), index=dates, name="price")
data = pd.DataFrame({"price": price, "log_return": np.log(price).diff()}).iloc[1:]
n_train = len(data) - N_TEST
print("SYNTHETIC data: geometric Brownian motion, not a real stock.")
print(f"{len(data)} trading days, {data.index[0].date()} to {data.index[-1].date()}; "
      f"regime change on {data.index[REGIMES[0][0]].date()}; the last {N_TEST} days "
      f"(from {data.index[n_train].date()}) are the test period")

# %%
# Next-day forecasts, updated every day
# -------------------------------------
# A forecaster forecasts from the end of the data it was fitted on. To forecast
# each test day from all the days before it, the loop calls ``update`` with the
# day's close once it is known: that moves the forecast origin without training,
# so the model fitted once on the training period is used unchanged (refitting,
# or ``partial_fit`` every day, would keep training on the noise).
# ``forecast(1)`` is then the next day.
#
# * the **return model** forecasts the log-return with ``level=False``: returns
#   have no level to follow, and ``level=True`` would mean "tomorrow's return =
#   today's return";
# * the **price model** forecasts the price with the default ``level=True``, so
#   the network learns changes from the last price and starts near "no change".
#
# Both are fitted on the first 1,250 days (which include 250 days of the new
# regime), with the default early stopping.


def daily_forecasts(column, **params):
    model = LSTMForecaster(target=column, lookback=LOOKBACK, hidden_size=32,
                           random_state=0, **params)
    start = time.perf_counter()
    model.fit(data[[column]].iloc[:n_train])
    epochs = model.n_iter_
    out = []
    for day in range(n_train, len(data)):
        forecast = model.forecast(1)
        assert forecast.index[0] == data.index[day]  # the day being forecast
        out.append(forecast.iloc[0])
        model.update(data[[column]].iloc[day:day + 1])  # the day is now known
    print(f"{column} model: fitted in {epochs} epochs, {N_TEST} daily updates, "
          f"{time.perf_counter() - start:.1f}s")
    return np.array(out)


test = data.iloc[n_train:]
previous_price = data["price"].shift(1).iloc[n_train:].to_numpy()
return_forecast = daily_forecasts("log_return", level=False)
price_forecast = daily_forecasts("price")

# %%
# Forecasts as prices and returns
# -------------------------------
# Every forecast is turned into both a price and a log-return relative to the
# previous close, so all models are compared on the same two scales. The naive
# forecast is a return of 0; the "drift" forecast is the mean daily return of the
# training period (what a random walk with drift predicts).
drift = data["log_return"].iloc[:n_train].mean()
predicted_returns = {
    "naive (tomorrow = today)": np.zeros(N_TEST),
    "drift (mean train return)": np.full(N_TEST, drift),
    "LSTM on log-returns": return_forecast,
    "LSTM on prices": np.log(price_forecast / previous_price),
}
actual_return, actual_price = test["log_return"].to_numpy(), test["price"].to_numpy()
train_price = data["price"].iloc[:n_train].to_numpy()
rows = []
for name, r in predicted_returns.items():
    p = previous_price * np.exp(r)
    # Directional accuracy is undefined for a zero forecast, which never says "up"
    # or "down".
    direction = np.mean(np.sign(r) == np.sign(actual_return)) if np.any(r) else np.nan
    rows.append({"model": name, "price MAE": np.mean(np.abs(actual_price - p)),
                 "price MASE": mean_absolute_scaled_error(actual_price, p,
                                                          y_train=train_price),
                 "return MAE (bp)": 1e4 * np.mean(np.abs(actual_return - r)),
                 "direction": direction,
                 "mean |forecast| (bp)": 1e4 * np.mean(np.abs(r))})
results = pd.DataFrame(rows).set_index("model")
print(f"\nNext-day forecasts over the last {N_TEST} days (SYNTHETIC prices; bp = "
      "basis points, 0.01%)")
print(results.to_string(float_format=lambda v: f"{v:.3f}", na_rep="n/a"))
up = np.mean(actual_return > 0)
print(f"Share of up days in the test period: {up:.3f} (what 'always up' scores on "
      "direction)")

# %%
# Why the network should not beat the naive forecast
# --------------------------------------------------
# Every daily return here is an independent draw, so the past carries no information
# about tomorrow's return beyond its mean, which is about 1% of a daily standard
# deviation. The best possible next-day price forecast is today's price times a drift
# factor that is practically 1: the naive forecast. Whatever the network learns beyond
# that is noise fitted to the training period, so the best it can do is come close to
# naive (its forecasts small in "mean |forecast|"), and a directional accuracy near
# 50%, or near the share of up days, is the most it can honestly reach. The price
# model, anchored near "no change" by ``level=True``, stays within a fraction of a
# percent of naive. (The drift forecast is slightly negative, because the training period ends in
# the bear regime, so its directional accuracy is the share of down days.) The price
# MASE of about 2 says why every model's error is large: the test days' moves are
# about twice the average move of the training period (the volatile regime), and no
# model removes them. On real prices, markets are close enough to this that
# "tomorrow = today" is the benchmark every forecast must be checked against.
naive_mae = results.loc["naive (tomorrow = today)", "price MAE"]
for name in ["LSTM on log-returns", "LSTM on prices"]:
    mae = results.loc[name, "price MAE"]
    print(f"{name}: price MAE {mae:.3f} vs naive {naive_mae:.3f} "
          f"({100 * (mae - naive_mae) / naive_mae:+.1f}%)")

# %%
# The synthetic price and the forecasts
# -------------------------------------
if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(11, 10))
    ax = axes[0]
    ax.plot(data.index, data["price"], color="black", linewidth=0.8)
    ax.axvline(data.index[REGIMES[0][0]], color="tab:red", linewidth=0.8,
               label="regime change")
    ax.axvspan(test.index[0], test.index[-1], color="tab:gray", alpha=0.2,
               label="test period")
    ax.set_ylabel("price")
    ax.set_title("SYNTHETIC price (geometric Brownian motion), not real market data")
    ax.legend(fontsize=8)
    ax = axes[1]
    last = slice(-60, None)  # the last 60 days, so the lines can be told apart
    ax.plot(test.index[last], actual_price[last], "k.-", label="actual")
    ax.plot(test.index[last], previous_price[last], ":", color="tab:gray",
            label="naive (tomorrow = today)")
    for name, color in [("LSTM on log-returns", "tab:blue"), ("LSTM on prices",
                                                              "tab:orange")]:
        ax.plot(test.index[last], previous_price[last] * np.exp(predicted_returns[name][last]),
                color=color, label=name, linewidth=1)
    ax.set_ylabel("price")
    ax.set_title("Next-day price forecasts, last 60 test days")
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(test.index, 1e4 * actual_return, color="lightgray", label="actual return")
    ax.plot(test.index, 1e4 * predicted_returns["LSTM on log-returns"], color="tab:blue",
            label="LSTM on log-returns")
    ax.plot(test.index, 1e4 * predicted_returns["LSTM on prices"], color="tab:orange",
            label="LSTM on prices")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("log-return (bp)")
    ax.set_title("Next-day return forecasts: a few basis points against daily moves of "
                 "hundreds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=100)
    print(f"Saved the figure to {args.output}")
