"""The GPU fast path: training steps captured as CUDA graphs (``_fast_path.py``).

On the CPU (always run): the step machinery the graphs record -- batch order
from the fit's generator, batches gathered on the device from an index
buffer, the last partial batch, clipping and the gradient norm inside the
step, losses written to device buffers, the history -- runs eagerly and must
train bit-identically to skorch's loop, and read nothing on the host (a
host read stalls a GPU step and cannot be recorded). What cannot be captured
falls back to skorch's loop and says so. The skip-gram engine's batch updates
run on the same replay machinery and are checked the same way.

On a GPU (skipped without one; CI has none): captured training matches eager
training within float32 tolerance for every cell, with and without clipping,
for regressors, classifiers, forecasters and the language model, and the
skip-gram engine's captured updates match its eager ones.
"""

import contextlib
import functools
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

import sklearn_rnn
from sklearn_rnn import (ElmanRegressor, GRUClassifier, GRURegressor, LSTMClassifier,
                         LSTMForecaster, LSTMRegressor, RNNClassifier, RNNForecaster,
                         RNNLanguageModel, RNNRegressor, SkipGramTransformer, TDNNRegressor,
                         _word2vec)
from sklearn_rnn._base import BaseNetEstimator
from sklearn_rnn._fast_path import WARMUP_STEPS, CapturedTraining, capture_blocker
from sklearn_rnn._word2vec import SkipGramSteps

from .test_recurrent import ragged, sine_windows, two_kinds
from .test_text import topic_corpus

# 203 samples: batches of 32 leave a partial last batch (and early stopping
# another partial batch of training samples).
FAST = dict(hidden_size=8, max_epochs=4, batch_size=32, random_state=0)
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(),
                               reason="needs a CUDA GPU (CI has none)")


@pytest.fixture
def eager_steps(monkeypatch):
    """Train CPU fits on the fast path's step machinery, without capture."""
    monkeypatch.setattr(BaseNetEstimator, "_engine_fast_path",
                        lambda self, device: "eager")


def _data(Est, n=203):
    if Est is RNNLanguageModel:  # n windows of 8 characters, and a few more
        rng = np.random.default_rng(0)
        words = ["the cat sat", "on the mat", "a dog ran", "in the fog"]
        text = ". ".join(rng.choice(words, size=n * 8 // 10))
        return [text[i:i + 400] for i in range(0, len(text), 400)], None
    if "Forecaster" in Est.__name__:
        return np.sin(np.arange(n + 8) / 5.0) + 0.01 * np.arange(n + 8), None
    if "Classifier" in Est.__name__:
        return two_kinds(n=n)
    return sine_windows(n=n)


def _fit(Est, X, y, weighted=False, **params):
    """``weighted``: fit with sample weights rising from 0.2 to 1 over the samples
    (rows, for a forecaster)."""
    model = Est(**{**FAST, **params})
    if weighted:
        return model.fit(X, y, sample_weight=np.linspace(0.2, 1.0, len(X)))
    return model.fit(X, y)


def _predictions(model, X):
    if isinstance(model, RNNLanguageModel):
        return model.perplexity(X)
    if "Forecaster" in type(model).__name__:
        return model.forecast(3).to_numpy()
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    return model.predict(X)


CASES = [
    (GRURegressor, {}),
    (ElmanRegressor, {"clip_grad_norm": None}),
    (LSTMRegressor, {"early_stopping": False, "clip_grad_norm": 0.1}),
    (LSTMClassifier, {}),
    (RNNClassifier, {"cell": "elman", "pooling": "mean"}),
    (LSTMForecaster, {}),
    (RNNForecaster, {"cell": "gru", "horizon": 2, "strategy": "direct"}),
    (LSTMForecaster, {"weighted": True}),
    (GRURegressor, {"tbptt_steps": 5}),
    (RNNRegressor, {"num_layers": 2, "bidirectional": True}),
    (TDNNRegressor, {}),
    (GRUClassifier, {"class_weight": {"rising": 3.0}}),  # a weighted loss
    (RNNLanguageModel, {"sequence_length": 8, "embedding_size": 4}),
]


# ------------------------------------------------------------------- CPU
@pytest.mark.parametrize("Est, params", CASES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_step_machinery_trains_like_the_skorch_loop(Est, params, eager_steps, monkeypatch):
    X, y = _data(Est)
    fast = _fit(Est, X, y, **params)
    assert fast.net_.fast_path == "eager"
    assert fast.history_[:, "graph_steps"] == [0] * fast.n_iter_  # eager: nothing replayed
    monkeypatch.undo()
    plain = _fit(Est, X, y, **params)
    assert plain.net_.fast_path is None and "graph_steps" not in plain.history_[-1]

    assert fast.history_[:, "train_loss"] == plain.history_[:, "train_loss"]
    if fast.early_stopping:
        assert fast.history_[:, "valid_loss"] == plain.history_[:, "valid_loss"]
    assert fast.history_[:, "train_batch_count"] == plain.history_[:, "train_batch_count"]
    np.testing.assert_array_equal(_predictions(fast, X), _predictions(plain, X))
    if fast.clip_grad_norm is not None:  # both measure every step when clipping
        assert fast.history_[:, "grad_norm"] == plain.history_[:, "grad_norm"]
        assert fast.history_[:, "clipped"] == plain.history_[:, "clipped"]


#: Tensor methods that read a value on the host: on a GPU each waits for the device,
#: and none can be recorded in a CUDA graph.
HOST_READS = ("item", "tolist", "numpy", "cpu", "__bool__", "__int__", "__float__",
              "__index__")


@contextlib.contextmanager
def no_host_reads(monkeypatch):
    """Inside: reading a tensor's value on the host raises."""
    def refuse(name):
        def read(self, *args, **kwargs):
            raise AssertionError(f"Tensor.{name} inside a training step")
        return read
    with monkeypatch.context() as patch:
        for name in HOST_READS:
            patch.setattr(torch.Tensor, name, refuse(name))
        yield


def _guard_steps(monkeypatch, runner):
    """Run every step of ``runner`` (a StepGraphs class) under ``no_host_reads``."""
    step = runner._step

    def guarded(self, size):
        with no_host_reads(monkeypatch):
            step(self, size)
    monkeypatch.setattr(runner, "_step", guarded)


@pytest.mark.parametrize("Est, params", CASES + [(GRURegressor, {"ragged": True})],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_training_steps_read_nothing_on_the_host(Est, params, eager_steps, monkeypatch):
    """A host read inside the step would stall every GPU step and make the capture
    fail. (SGD: Adam and RMSprop read their step counts on the host unless
    ``capturable=True``, which the fast path sets on a GPU and the CPU lacks.)"""
    params = dict(params)
    X, y = _data(Est)
    if params.pop("ragged", False):
        X = ragged(n=70)
        y = np.array([x[:, 0].sum() for x in X])
    _guard_steps(monkeypatch, CapturedTraining)
    model = _fit(Est, X, y, optimizer="sgd", **params)
    assert model.net_.fast_path == "eager" and model.n_iter_ > 0


def test_ragged_input_on_the_step_machinery(eager_steps, monkeypatch):
    X = ragged(n=70)
    y = np.array([x[:, 0].sum() for x in X])
    fast = _fit(GRURegressor, X, y, batch_size=16)
    monkeypatch.undo()
    plain = _fit(GRURegressor, X, y, batch_size=16)
    assert fast.history_[:, "train_loss"] == plain.history_[:, "train_loss"]
    np.testing.assert_array_equal(fast.predict(X), plain.predict(X))


def test_warm_start_and_partial_fit_on_the_step_machinery(eager_steps, monkeypatch):
    X, y = two_kinds(n=100)

    def train():
        model = GRUClassifier(**FAST).fit(X, y)
        model.partial_fit(X, y)
        return model.set_params(warm_start=True, max_epochs=2).fit(X, y)

    fast = train()
    monkeypatch.undo()
    plain = train()
    assert fast.n_iter_ == plain.n_iter_ == 7
    assert fast.history_[:, "train_loss"] == plain.history_[:, "train_loss"]
    np.testing.assert_array_equal(fast.predict_proba(X), plain.predict_proba(X))


def test_non_finite_loss_on_the_step_machinery(eager_steps, monkeypatch):
    X, y = sine_windows(n=96)
    params = dict(optimizer="sgd", lr=1e6, clip_grad_norm=None, early_stopping=False,
                  scale_inputs=False, max_epochs=30)

    def train():
        with pytest.warns(ConvergenceWarning, match="not a finite number"):
            return _fit(ElmanRegressor, X, y * 1e3, **params)

    fast = train()
    monkeypatch.undo()
    plain = train()
    assert fast.n_iter_ == plain.n_iter_ > 0
    np.testing.assert_array_equal(fast.predict(X), plain.predict(X))


def test_what_cannot_be_captured_trains_on_the_skorch_loop_and_says_so(eager_steps, capsys):
    X = ragged(n=40)
    y = np.array([x[:, 0].sum() for x in X])
    model = _fit(GRURegressor, X, y, bidirectional=True, verbose=1)
    assert "Fast path off: a bidirectional network packs ragged sequences" in (
        capsys.readouterr().out)
    assert "graph_steps" not in model.history_[-1]


class _CudaStream:
    """Stands in for torch.cuda.Stream (and current_stream) on the CPU."""

    def __init__(self, *args, **kwargs):
        pass

    def wait_stream(self, other):
        pass


def _cuda_stand_ins(monkeypatch):
    monkeypatch.setattr(torch.cuda, "Stream", _CudaStream)
    monkeypatch.setattr(torch.cuda, "current_stream", _CudaStream)
    monkeypatch.setattr(torch.cuda, "stream", lambda s: contextlib.nullcontext())


def _cpu_stand_ins(monkeypatch):
    _cuda_stand_ins(monkeypatch)
    monkeypatch.setattr(BaseNetEstimator, "_engine_fast_path", lambda self, device: "capture")


def _replaying_recorder(recorded):
    """Stands in for ``StepGraphs._record``: the "graph" replays the step as a CUDA
    graph would (what the runner clears between steps cleared first), and checks
    that every tensor the runner holds kept its address since the recording (a
    graph reads and writes fixed addresses). ``recorded`` gets the step counter
    at each recording."""
    def record(self, step):
        recorded.append(self.counter.item())
        addresses = {k: v.data_ptr() for k, v in vars(self).items()
                     if isinstance(v, torch.Tensor)}

        class Replay:
            def replay(_):
                assert addresses == {k: v.data_ptr() for k, v in vars(self).items()
                                     if isinstance(v, torch.Tensor)}
                self._clear()
                step()
        return Replay()
    return record


def test_captured_steps_replay_in_order_for_every_batch_size(monkeypatch, capsys):
    """A recording that replays the step as a CUDA graph would (gradients written
    afresh): each batch size is captured after its warm-up steps, later steps
    are replays, and training matches the skorch loop exactly."""
    recorded = []  # the batch each capture happened at
    _cpu_stand_ins(monkeypatch)
    monkeypatch.setattr(CapturedTraining, "_record", _replaying_recorder(recorded))
    X, y = sine_windows(n=203)  # 182 training samples: 5 batches of 32 and one of 22
    fast = _fit(GRURegressor, X, y, optimizer="sgd", verbose=1)
    assert "replayed as CUDA graphs for batch sizes [32, 22]" in capsys.readouterr().out
    # Full batches: captured at the 4th step of epoch 1; the partial batch (one per
    # epoch): at the end of epoch 4, after 3 eager warm-up steps.
    assert recorded == [WARMUP_STEPS, 5]
    assert fast.history_[:, "graph_steps"] == [2, 5, 5, 6]
    monkeypatch.undo()
    plain = _fit(GRURegressor, X, y, optimizer="sgd")
    assert fast.history_[:, "train_loss"] == plain.history_[:, "train_loss"]
    assert fast.history_[:, "grad_norm"] == plain.history_[:, "grad_norm"]
    np.testing.assert_array_equal(fast.predict(X), plain.predict(X))


def test_a_failed_capture_falls_back_to_eager_steps_with_a_warning(monkeypatch):
    """CUDA stand-ins on the CPU: warm-up steps run, the capture raises, and the
    fit finishes on eager steps with the same results, warning once."""
    @contextlib.contextmanager
    def failing_capture(graph, stream=None):
        raise RuntimeError("operation not permitted when stream is capturing")
        yield  # pragma: no cover

    _cpu_stand_ins(monkeypatch)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", object)
    monkeypatch.setattr(torch.cuda, "graph", failing_capture)
    X, y = sine_windows(n=203)
    with pytest.warns(RuntimeWarning, match="could not be used .*operation not permitted"):
        fast = _fit(GRURegressor, X, y, optimizer="sgd")  # CPU Adam cannot be capturable
    assert fast.history_[:, "graph_steps"] == [0] * fast.n_iter_
    monkeypatch.undo()
    plain = _fit(GRURegressor, X, y, optimizer="sgd")
    assert fast.history_[:, "train_loss"] == plain.history_[:, "train_loss"]
    np.testing.assert_array_equal(fast.predict(X), plain.predict(X))


def test_capture_needs_an_optimizer_that_can_still_become_capturable():
    X, y = sine_windows(n=64)
    model = _fit(GRURegressor, X, y, early_stopping=False)
    train = model._training_data(X, y, reset=False, seed=0, device=torch.device("cpu"),
                                 early_stopping=False)[0]
    assert capture_blocker(model.net_, train, capture=False) is None
    # Adam has stepped with its step counts on the host: it cannot switch now.
    reason = capture_blocker(model.net_, train, capture=True)
    assert "capturable=True" in reason and "fitted eagerly" in reason
    model.net_.initialize_optimizer()  # a fresh optimizer switches before its first step
    assert capture_blocker(model.net_, train, capture=True) is None
    sgd = _fit(GRURegressor, X, y, early_stopping=False, optimizer="sgd")
    assert capture_blocker(sgd.net_, train, capture=True) is None  # SGD needs no flag


def test_cpu_fits_never_take_the_fast_path():
    X, y = sine_windows(n=64)
    for fast_path in (True, False):
        model = _fit(GRURegressor, X, y, fast_path=fast_path)
        assert model.net_.fast_path is None
        assert "graph_steps" not in model.history_[-1]
    with pytest.raises(ValueError, match="fast_path"):
        _fit(GRURegressor, X, y, fast_path="yes")


def test_every_estimator_has_the_fast_path_switch():
    for name in sklearn_rnn.__all__:
        Est = getattr(sklearn_rnn, name)
        if isinstance(Est, type) and issubclass(Est, BaseNetEstimator):
            assert Est().get_params()["fast_path"] is True, name
            assert "fast_path" in Est.__doc__, name  # documented


# ---------------------------------------------------- skip-gram, on the CPU
SKIPGRAM = dict(vector_size=16, min_count=1, epochs=3, engine="torch", batch_pairs=64,
                random_state=0)


def _skipgram_on_stand_ins(monkeypatch, recorded):
    _cuda_stand_ins(monkeypatch)
    monkeypatch.setattr(SkipGramTransformer, "_capture_steps", lambda self, device: True)
    monkeypatch.setattr(SkipGramSteps, "_record", _replaying_recorder(recorded))


def test_skipgram_updates_replay_in_order_and_train_exactly_as_eager(monkeypatch, capsys):
    """The full batch's update is captured after its warm-up steps and replayed
    for every later full batch (stage after stage: the buffers keep their
    addresses); the last partial batch of the block runs eagerly; the vectors
    are the eager engine's, bit for bit."""
    docs, *_ = topic_corpus(n=200)
    recorded = []
    _skipgram_on_stand_ins(monkeypatch, recorded)
    monkeypatch.setattr(_word2vec, "CHUNK_BATCHES", 4)  # many stages per epoch
    fast = SkipGramTransformer(**SKIPGRAM, verbose=1).fit(docs)
    assert "replayed as CUDA graphs" in capsys.readouterr().out
    monkeypatch.undo()
    plain = SkipGramTransformer(**SKIPGRAM).fit(docs)
    assert plain.history_[0]["graph_steps"] == 0
    assert recorded == [WARMUP_STEPS]  # one graph: the full batch, at its 4th step
    full = [h["pairs"] // SKIPGRAM["batch_pairs"] for h in fast.history_]
    assert [h["pairs"] % SKIPGRAM["batch_pairs"] for h in fast.history_] != [0, 0, 0]
    assert [h["graph_steps"] for h in fast.history_] == [full[0] - WARMUP_STEPS, *full[1:]]
    assert [h["loss"] for h in fast.history_] == [h["loss"] for h in plain.history_]
    np.testing.assert_array_equal(fast.embeddings_, plain.embeddings_)


def test_skipgram_step_is_device_work_only():
    """What a CUDA graph cannot record -- a host read such as ``.item()``, Python
    branching on tensor values -- breaks a TorchDynamo trace too: the step traces
    as one graph (``fullgraph=True``) and trains as the plain step does."""
    def staged():
        gen = torch.Generator().manual_seed(0)
        steps = SkipGramSteps(torch.randn(50, 8, generator=gen), torch.zeros(50, 8),
                              negative=5, batch_pairs=16, capture=False)
        steps.stage(torch.randint(0, 50, (40,), generator=gen),
                    torch.randint(0, 50, (40,), generator=gen),
                    torch.randint(0, 50, (40, 5), generator=gen), torch.tensor([0.1, 0.05, 0.02]))
        return steps  # 40 pairs: batches of 16, 16 and 8

    plain, traced = staged(), staged()
    step = torch.compile(functools.partial(traced._step, 16), fullgraph=True, backend="eager")
    for steps, full in ((plain, functools.partial(plain._step, 16)), (traced, step)):
        full()
        full()
        steps._step(8)
    assert traced.counter.item() == 3 and traced.predictions.item() > 100
    for name in ("syn0", "syn1", "loss", "predictions"):
        torch.testing.assert_close(getattr(traced, name), getattr(plain, name))
    assert not torch.equal(traced.syn1, torch.zeros(50, 8))


def test_skipgram_steps_read_nothing_on_the_host(monkeypatch):
    docs, *_ = topic_corpus(n=200)
    _guard_steps(monkeypatch, SkipGramSteps)
    sg = SkipGramTransformer(**SKIPGRAM).fit(docs)
    assert sg.history_[-1]["pairs"] > 4 * SKIPGRAM["batch_pairs"]


def test_skipgram_capture_failure_trains_eagerly_with_a_warning(monkeypatch):
    @contextlib.contextmanager
    def failing_capture(graph, stream=None):
        raise RuntimeError("operation not permitted when stream is capturing")
        yield  # pragma: no cover

    docs, *_ = topic_corpus(n=100)
    _cuda_stand_ins(monkeypatch)
    monkeypatch.setattr(SkipGramTransformer, "_capture_steps", lambda self, device: True)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", object)
    monkeypatch.setattr(torch.cuda, "graph", failing_capture)
    with pytest.warns(RuntimeWarning, match="could not be used .*operation not permitted"):
        fast = SkipGramTransformer(**SKIPGRAM).fit(docs)
    assert [h["graph_steps"] for h in fast.history_] == [0, 0, 0]
    monkeypatch.undo()
    np.testing.assert_array_equal(fast.embeddings_,
                                  SkipGramTransformer(**SKIPGRAM).fit(docs).embeddings_)


def test_skipgram_fast_path_switch():
    cuda = torch.device("cuda")
    assert SkipGramTransformer()._capture_steps(cuda)
    assert not SkipGramTransformer(fast_path=False)._capture_steps(cuda)
    assert not SkipGramTransformer()._capture_steps(torch.device("cpu"))
    with pytest.raises(ValueError, match="fast_path"):
        SkipGramTransformer(fast_path=1.5, min_count=1).fit(["a b a b"])


# ------------------------------------------------------------------- GPU
def _fit_gpu(Est, X, y, fast_path, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a failed capture is a bug
        return _fit(Est, X, y, device="cuda", fast_path=fast_path, dropout=0.0,
                    **{"max_epochs": 6, **params})


def _assert_same_training(fast, eager):
    assert fast.n_iter_ == eager.n_iter_
    np.testing.assert_allclose(fast.history_[:, "train_loss"],
                               eager.history_[:, "train_loss"], rtol=2e-3, atol=1e-5)
    if fast.early_stopping:
        np.testing.assert_allclose(fast.history_[:, "valid_loss"],
                                   eager.history_[:, "valid_loss"], rtol=2e-3, atol=1e-5)


@needs_gpu
@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
@pytest.mark.parametrize("clip", [1.0, None])
@pytest.mark.parametrize("Est", [RNNRegressor, RNNClassifier, RNNForecaster, RNNLanguageModel])
def test_captured_training_matches_eager_training_on_gpu(Est, clip, cell):
    X, y = _data(Est)
    params = CASES[-1][1] if Est is RNNLanguageModel else {}
    fast = _fit_gpu(Est, X, y, True, cell=cell, clip_grad_norm=clip, **params)
    eager = _fit_gpu(Est, X, y, False, cell=cell, clip_grad_norm=clip, **params)
    assert fast.net_.fast_path == "capture" and eager.net_.fast_path is None
    # After the warm-up steps every step of an epoch is a replay, the last
    # partial batch included (its own graph).
    assert fast.history_[-1, "graph_steps"] == fast.history_[-1, "train_batch_count"]
    _assert_same_training(fast, eager)
    np.testing.assert_allclose(_predictions(fast, X), _predictions(eager, X),
                               rtol=1e-2, atol=1e-3)


@needs_gpu
def test_ragged_tbptt_and_fallback_on_gpu(capsys):
    X = ragged(n=150)
    y = np.array([x[:, 0].sum() for x in X])
    for params in ({}, {"pooling": "last"}):
        fast = _fit_gpu(GRURegressor, X, y, True, **params)
        assert fast.history_[-1, "graph_steps"] > 0
        _assert_same_training(fast, _fit_gpu(GRURegressor, X, y, False, **params))
    Xs, ys = sine_windows(n=203, steps=24)
    fast = _fit_gpu(LSTMRegressor, Xs, ys, True, tbptt_steps=8)
    assert fast.history_[-1, "graph_steps"] > 0
    _assert_same_training(fast, _fit_gpu(LSTMRegressor, Xs, ys, False, tbptt_steps=8))

    model = _fit_gpu(GRURegressor, X, y, True, bidirectional=True, verbose=1)
    assert "Fast path off" in capsys.readouterr().out
    assert "graph_steps" not in model.history_[-1]


@needs_gpu
@pytest.mark.parametrize("Est, params", [(GRUClassifier, {"class_weight": {"rising": 3.0}}),
                                         (GRURegressor, {"weighted": True}),
                                         (LSTMForecaster, {"weighted": True})],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_weighted_training_is_captured_on_gpu(Est, params):
    X, y = _data(Est)
    fast = _fit_gpu(Est, X, y, True, **params)
    eager = _fit_gpu(Est, X, y, False, **params)
    assert fast.history_[-1, "graph_steps"] == fast.history_[-1, "train_batch_count"]
    _assert_same_training(fast, eager)
    np.testing.assert_allclose(_predictions(fast, X), _predictions(eager, X),
                               rtol=1e-2, atol=1e-3)


@needs_gpu
def test_early_stopping_and_warm_start_on_the_gpu_fast_path(capsys):
    X, y = sine_windows(n=400)
    model = _fit_gpu(GRURegressor, X, y, True, max_epochs=300, patience=3, verbose=1)
    assert model.n_iter_ < 300
    assert "replayed as CUDA graphs for batch sizes [32, 8]" in capsys.readouterr().out
    before = model.n_iter_
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        # patience: without early stopping the training loss is watched, and this
        # converged model would stall (and stop) within 5 epochs.
        model.set_params(warm_start=True, max_epochs=5, early_stopping=False,
                         patience=10**6).fit(X, y)
    assert model.n_iter_ == before + 5
    assert model.history_[-1, "graph_steps"] == model.history_[-1, "train_batch_count"]
    assert model.score(X, y) > 0.5  # a working fit, not a tuned one

    # First fitted eagerly, then warm-started on the fast path: Adam's step count
    # lives on the host, so the fit trains eagerly and says why; a fit that
    # captures switches its optimizer, one that trains eagerly does not.
    eager = _fit_gpu(GRURegressor, X, y, False)
    assert not eager.net_.optimizer_.param_groups[0]["capturable"]
    eager.set_params(warm_start=True, fast_path=True, verbose=1).fit(X, y)
    assert "capturable=True" in capsys.readouterr().out
    assert model.net_.optimizer_.param_groups[0]["capturable"]
    with warnings.catch_warnings():
        # No "constructed with capturable=True but running uncaptured" warning.
        warnings.filterwarnings("error", message=".*capturable.*")
        _fit_gpu(GRURegressor, X, y, True)


@needs_gpu
def test_skipgram_captured_updates_match_eager_updates_on_gpu(capsys):
    """Same seed, same random draws: the replayed updates give the eager losses
    and vectors up to the order of atomic additions (float32 rounding)."""
    docs, *_ = topic_corpus(n=400)
    params = dict(SKIPGRAM, device="cuda", epochs=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a failed capture is a bug
        fast = SkipGramTransformer(**params, verbose=1).fit(docs)
    eager = SkipGramTransformer(**params, fast_path=False).fit(docs)
    assert "replayed as CUDA graphs" in capsys.readouterr().out
    assert fast.history_[-1]["graph_steps"] == fast.history_[-1]["pairs"] // 64
    assert eager.history_[-1]["graph_steps"] == 0
    np.testing.assert_allclose([h["loss"] for h in fast.history_],
                               [h["loss"] for h in eager.history_], rtol=1e-3)
    np.testing.assert_allclose(fast.embeddings_, eager.embeddings_, rtol=0.05, atol=1e-3)
    # (What the vectors learn is tested on the CPU: the CUDA generator draws other
    # subsamples and noise words than the CPU one, and on this corpus the margin
    # of within- over across-topic similarity is small, 0.005-0.012 there.)


@needs_gpu
@pytest.mark.parametrize("layer", ["cudnn_lstm", "dropout"])
def test_replayed_steps_draw_fresh_dropout_masks_on_gpu(layer):
    """The fast path captures training with dropout (cuDNN's inter-layer dropout
    in a 2-layer RNN, ``nn.Dropout`` in our modules): each replay must draw a new
    mask, not repeat the one drawn at recording."""
    torch.manual_seed(0)
    module = (torch.nn.LSTM(4, 8, num_layers=2, dropout=0.5) if layer == "cudnn_lstm"
              else torch.nn.Dropout(0.5)).cuda().train()
    x = torch.randn(5, 3, 4, device="cuda")

    def forward():
        out = module(x)
        return out[0] if isinstance(out, tuple) else out

    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(WARMUP_STEPS):
            forward()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = forward()
    replays = []
    for _ in range(3):
        graph.replay()
        replays.append(out.clone())
    assert not torch.equal(replays[0], replays[1])
    assert not torch.equal(replays[1], replays[2])
