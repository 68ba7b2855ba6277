"""Grid search on a Dask cluster through joblib (the optional ``distributed`` extra).

The README section "Grid search on a Dask cluster" shows the same code: a
search sent to Dask workers must pick what a serial search picks, and the
fitted estimators that travel back must not carry the training data.
"""

import io
import pickle
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import joblib  # noqa: E402
import torch  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402

from sklearn_rnn import GRURegressor  # noqa: E402

GRID = {"hidden_size": [4, 8, 16]}


def sine_windows(n=400, steps=20, seed=0):
    """Windows of two noisy sine channels; the target is the next value of the first."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + steps) * 0.3
    series = np.stack([np.sin(t), np.cos(0.5 * t)], axis=1)
    series += 0.1 * rng.normal(size=series.shape)
    X = np.stack([series[i:i + steps] for i in range(n)])
    return X, np.sin(t[steps:steps + n])


def make_search(n_jobs):
    # Fixed folds and seeds: every fit is a pure function of its parameters,
    # wherever it runs. n_threads=1 (the default) keeps one torch thread per
    # fit, so two single-threaded workers never oversubscribe the cores.
    model = GRURegressor(max_epochs=3, batch_size=32, random_state=0, n_threads=1)
    return GridSearchCV(model, GRID, cv=KFold(3), n_jobs=n_jobs)


@pytest.fixture(scope="module")
def data():
    return sine_windows()


@pytest.fixture(scope="module")
def dask_client():
    # Worker processes (not threads), no dashboard: only loopback traffic.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def searches(data, dask_client):
    X, y = data
    serial = make_search(n_jobs=1).fit(X, y)
    with joblib.parallel_config(backend="dask"):
        on_dask = make_search(n_jobs=-1).fit(X, y)
    return serial, on_dask


def test_dask_search_matches_serial_search(searches, dask_client):
    serial, on_dask = searches
    # The fits ran in the worker processes: each one that got a task imported us.
    imported = dask_client.run(lambda: "sklearn_rnn" in sys.modules)
    assert len(imported) == 2 and any(imported.values()), imported

    assert on_dask.best_params_ == serial.best_params_
    # Same seeds, one thread, same CPU: the scores agree to the last bit in
    # practice; the tolerance only allows for a worker on another machine.
    np.testing.assert_allclose(on_dask.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"], rtol=1e-6, atol=0)
    # The scores differ between grid points, so best_params_ is a real choice.
    assert len(set(np.round(serial.cv_results_["mean_test_score"], 6))) == len(GRID["hidden_size"])


def _arrays_in_pickle(obj):
    """Shapes of every numpy array and torch tensor that pickling ``obj`` writes."""
    shapes = []

    class Recorder(pickle.Pickler):
        def reducer_override(self, item):
            if isinstance(item, (np.ndarray, torch.Tensor)):
                shapes.append(tuple(item.shape))
            return NotImplemented

    Recorder(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return shapes


def test_fitted_estimator_from_dask_pickles_small(searches, data):
    X, y = data
    best = searches[1].best_estimator_
    np.testing.assert_allclose(pickle.loads(pickle.dumps(best)).predict(X[:5]),
                               best.predict(X[:5]), rtol=1e-6)

    # No stored sequences: neither X, nor a slice of it such as the
    # early-stopping validation set, nor the targets.
    shapes = _arrays_in_pickle(best)
    sequences = [s for s in shapes if len(s) == X.ndim and s[1:] == X.shape[1:]]
    assert not sequences, f"training sequences inside the pickle: {sequences}"
    assert not [s for s in shapes if s and s[0] == len(X)], shapes

    # The pickle is the network and a little bookkeeping, far below the data.
    assert len(pickle.dumps(best)) < X.nbytes / 2
