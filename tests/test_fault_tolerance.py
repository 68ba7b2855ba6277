"""Non-finite losses and interruptions keep the last completed epoch."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import sklearn_rnn
from sklearn_rnn import ElmanRegressor, LSTMForecaster
from sklearn_rnn._engine import BatchSlicer

X = np.random.default_rng(0).normal(size=(64, 10))
Y = X[:, :3].sum(axis=1)
PARAMS = dict(hidden_size=8, max_epochs=5, early_stopping=False, tol=0, random_state=0)


@pytest.fixture
def fail_in_epoch(monkeypatch):
    """Make the training batches of a given epoch hold NaN, or raise KeyboardInterrupt."""
    def arm(epoch, kind):
        original = BatchSlicer.__iter__
        passes = {"n": 0}

        def patched(self):
            if not self.shuffle:          # validation / prediction passes
                yield from original(self)
                return
            passes["n"] += 1
            for x, y in original(self):
                if passes["n"] == epoch:
                    if kind == "interrupt":
                        raise KeyboardInterrupt
                    x = torch.full_like(x, float("nan"))
                yield x, y
        monkeypatch.setattr(BatchSlicer, "__iter__", patched)
    return arm


def _weights(model):
    return [p.detach().clone() for p in model.net_.module_.parameters()]


def test_nan_loss_keeps_the_last_good_epoch(fail_in_epoch):
    reference = ElmanRegressor(**{**PARAMS, "max_epochs": 2}).fit(X, Y)
    fail_in_epoch(3, "nan")
    with pytest.warns(ConvergenceWarning, match="not a finite number.*weights of epoch 2"):
        model = ElmanRegressor(**PARAMS).fit(X, Y)
    assert model.n_iter_ == 2 and len(model.history_) == 2
    for a, b in zip(_weights(model), _weights(reference)):
        torch.testing.assert_close(a, b)
    assert np.isfinite(model.predict(X)).all()


def test_nan_loss_in_the_first_epoch_leaves_the_estimator_unfitted(fail_in_epoch):
    fail_in_epoch(1, "nan")
    model = ElmanRegressor(**PARAMS)
    with pytest.raises(ValueError, match="No epoch completed.*left unfitted"):
        model.fit(X, Y)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_interrupt_keeps_the_last_epoch_and_warm_start_resumes(fail_in_epoch):
    fail_in_epoch(3, "interrupt")
    model = LSTMForecaster(lookback=4, warm_start=True, **PARAMS)
    with pytest.warns(ConvergenceWarning, match="interrupted.*epoch 2"):
        model.fit(np.sin(np.arange(80) / 4))
    assert model.n_iter_ == 2
    assert "train_loss" in model.history_[-1]          # no half-finished epoch recorded
    fail_in_epoch(99, "interrupt")                     # disarm
    model.fit(np.sin(np.arange(80) / 4))
    assert model.n_iter_ == 2 + PARAMS["max_epochs"]


def test_checkpoints_every_epoch_and_resume(tmp_path, fail_in_epoch):
    from sklearn_rnn import load

    fail_in_epoch(4, "interrupt")
    with pytest.warns(ConvergenceWarning):
        ElmanRegressor(checkpoint_dir=str(tmp_path), **PARAMS).fit(X, Y)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.skrnn"]
    resumed = load(tmp_path / "checkpoint.skrnn")
    assert resumed.n_iter_ == 3 and np.isfinite(resumed.predict(X)).all()
    fail_in_epoch(99, "interrupt")                     # disarm
    resumed.set_params(warm_start=True, checkpoint_dir=None).fit(X, Y)
    assert resumed.n_iter_ == 3 + PARAMS["max_epochs"]


def test_early_stopping_keeps_the_best_epoch_and_is_no_interruption():
    """skorch stops early by raising KeyboardInterrupt; that must not be taken for
    the user's Ctrl-C (a warning, and the last epoch's weights over the best's)."""
    params = dict(hidden_size=16, max_epochs=300, patience=3, lr=3e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ElmanRegressor(**params).fit(X, Y)
    best = dict(model.net_.callbacks_)["stopping"].best_epoch_
    assert best + 3 == model.n_iter_ < 300
    assert not model.net_.interrupted_
    # The same fit run to the best epoch ends with the same weights.
    again = ElmanRegressor(**{**params, "max_epochs": best}).fit(X, Y)
    np.testing.assert_array_equal(model.predict(X), again.predict(X))


def test_interrupt_in_the_first_epoch_stays_an_interrupt(fail_in_epoch):
    """Ctrl-C is not a failed fit: GridSearchCV would swallow a ValueError and go on."""
    fail_in_epoch(1, "interrupt")
    model = ElmanRegressor(**PARAMS)
    with pytest.raises(KeyboardInterrupt, match="interrupted before an epoch completed"):
        model.fit(X, Y)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_an_unexpected_error_in_training_leaves_no_half_trained_network(monkeypatch):
    original = BatchSlicer.__iter__
    state = {"passes": 0, "fail_at": 3}

    def failing(self):
        if self.shuffle:
            state["passes"] += 1
            if state["passes"] == state["fail_at"]:
                raise RuntimeError("CUDA out of memory (simulated)")
        yield from original(self)
    monkeypatch.setattr(BatchSlicer, "__iter__", failing)
    model = ElmanRegressor(**PARAMS)
    with pytest.raises(RuntimeError, match="simulated"):
        model.fit(X, Y)                                 # a fit from scratch: unfitted
    with pytest.raises(NotFittedError):
        model.predict(X)
    state.update(passes=0, fail_at=99)
    model.set_params(warm_start=True).fit(X, Y)
    state.update(passes=0, fail_at=3)
    with pytest.raises(RuntimeError, match="simulated"):
        model.fit(X, Y)                                 # a warm start: its last epoch
    assert model.n_iter_ == len(model.history_) == PARAMS["max_epochs"] + 2
    assert np.isfinite(model.predict(X)).all()


def test_checkpoint_dir_that_cannot_be_a_directory_fails_before_training(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    model = ElmanRegressor(checkpoint_dir=str(blocker), **PARAMS)
    with pytest.raises(ValueError, match="checkpoint_dir=.*a_file.* cannot be used as a "
                                         "writable directory"):
        model.fit(X, Y)
    with pytest.raises(NotFittedError):
        model.predict(X)
    # "" (an unset variable, likely) would have written into the working directory.
    with pytest.raises(ValueError, match="checkpoint_dir='' is empty"):
        ElmanRegressor(checkpoint_dir="", **PARAMS).fit(X, Y)


def test_a_checkpoint_that_cannot_be_written_warns_and_training_goes_on(tmp_path,
                                                                         monkeypatch):
    # A disk filling up mid-fit (or state the file format cannot hold) aborted the
    # fit and lost the trained network; now it warns once and trains on.
    from sklearn_rnn import persistence

    calls = []

    def failing_save(estimator, path, *args):
        calls.append(path)
        if len(calls) >= 2:
            raise OSError(28, "No space left on device")
        return original(estimator, path, *args)

    original = persistence._save
    monkeypatch.setattr(persistence, "_save", failing_save)
    params = {**PARAMS, "max_epochs": 4, "early_stopping": False, "patience": 10}
    model = ElmanRegressor(checkpoint_dir=str(tmp_path), **params)
    with pytest.warns(RuntimeWarning, match=r"could not write its checkpoint after epoch 2 .*"
                                            r"No space left on device.*training goes on"):
        model.fit(X, Y)
    assert model.n_iter_ == 4 and len(calls) == 2       # tried once more, then left alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.skrnn"]  # epoch 1's
    assert sklearn_rnn.load(tmp_path / "checkpoint.skrnn").n_iter_ == 1
    np.testing.assert_array_equal(
        model.predict(X), ElmanRegressor(**params).fit(X, Y).predict(X))


def test_early_stopping_keeps_the_best_epoch_even_when_it_gains_less_than_tol():
    """As scikit-learn's MLP: tol decides patience, not which weights are kept."""
    params = dict(hidden_size=8, max_epochs=3, patience=2, random_state=0)
    model = ElmanRegressor(**params, tol=100.0).fit(X, Y)   # every gain is below tol
    losses = model.history_[:, "valid_loss"]
    assert model.n_iter_ == 3 and np.argmin(losses) == 2    # stopped, best = last
    full = ElmanRegressor(**{**params, "tol": 0.0, "patience": 99}).fit(X, Y)
    np.testing.assert_array_equal(model.predict(X), full.predict(X))


def test_verbose_prints_the_epoch_that_stops_training(capsys):
    model = ElmanRegressor(hidden_size=8, max_epochs=50, patience=2, tol=100.0,
                           random_state=0, verbose=1).fit(X, Y)
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == model.n_iter_ == 3
    assert "Stopping since valid_loss has not improved in the last 2 epochs" in out


def test_nan_loss_with_early_stopping_keeps_the_best_epoch_and_warns_at_the_caller():
    # Plain SGD at a learning rate that diverges: epoch 1 is the best, the loss
    # then explodes and becomes inf. Early stopping promises the best epoch's
    # weights, so a diverged fit keeps them too (not the last, exploded epoch).
    rng = np.random.RandomState(0)
    X2 = rng.randn(200, 6)
    y2 = X2.sum(1) + 0.5 * rng.randn(200)
    params = dict(hidden_size=8, random_state=2, optimizer="sgd", lr=0.28, clip_grad_norm=None)
    best = ElmanRegressor(max_epochs=1, **params).fit(X2, y2)
    with pytest.warns(ConvergenceWarning, match=r"keeps the weights of epoch 1, the best of "
                      r"the \d completed \(early stopping\)") as record:
        model = ElmanRegressor(max_epochs=5, **params).fit(X2, y2)
    assert record[0].filename == __file__  # points at the caller, not inside the library
    assert max(model.history_[:, "valid_loss"]) > 1e6   # it did explode
    for a, b in zip(_weights(model), _weights(best)):
        torch.testing.assert_close(a, b)
    assert model.score(X2, y2) == pytest.approx(best.score(X2, y2))


def test_training_resumes_after_a_nan_loss(fail_in_epoch):
    # The failed batch's step left NaN in Adam's moments; kept, they poisoned every
    # later step, so each warm start failed again in its first epoch.
    fail_in_epoch(3, "nan")
    with pytest.warns(ConvergenceWarning, match="not a finite number"):
        model = ElmanRegressor(warm_start=True, **PARAMS).fit(X, Y)
    moments = [v for state in model.net_.optimizer_.state.values() for v in state.values()
               if torch.is_tensor(v)]
    assert all(torch.isfinite(v).all() for v in moments)
    fail_in_epoch(99, "nan")                           # disarm
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, Y)
    assert model.n_iter_ == 2 + PARAMS["max_epochs"]
    losses = model.history_[:, "train_loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.partial_fit(X, Y)


def test_parallel_fits_share_a_checkpoint_dir(tmp_path):
    # Every fit of a search gets the same checkpoint_dir (clone copies it); a shared
    # temporary name let one process's replace move another's half-written file.
    from sklearn.model_selection import GridSearchCV
    from sklearn_rnn import load

    search = GridSearchCV(
        ElmanRegressor(**{**PARAMS, "max_epochs": 16, "batch_size": 64},
                       checkpoint_dir=str(tmp_path)),
        {"hidden_size": [2, 3, 4, 5]}, cv=2, n_jobs=2, error_score="raise")
    search.fit(X, Y)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.skrnn"]
    assert load(tmp_path / "checkpoint.skrnn").n_iter_ == 16
