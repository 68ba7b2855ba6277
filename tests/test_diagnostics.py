"""Truncated BPTT, gradient health in history_, the gradient-flow diagnostic."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_rnn import (ElmanRegressor, GRUClassifier, LSTMForecaster, LSTMRegressor,
                         TDNNRegressor)
from sklearn_rnn._modules import RecurrentNet
from sklearn_rnn.diagnostics import gradient_decay_rate, gradient_flow, plot_gradient_flow
from sklearn_rnn.utils import check_sequences

FAST = dict(hidden_size=8, max_epochs=3, random_state=0)


def test_gradient_flow_matches_a_hand_computed_network():
    """One tanh unit, zero input: d out / d x_t = v * a * w ** (T - 1 - t)."""
    a, w, v, T = 0.7, 0.9, 1.5, 12
    X = np.zeros((4, T))
    model = ElmanRegressor(hidden_size=1, pooling="last", scale_inputs=False,
                           early_stopping=False, max_epochs=1, random_state=0).fit(X, np.zeros(4))
    rnn, head = model.net_.module_.rnn, model.net_.module_.head
    with torch.no_grad():
        rnn.weight_ih_l0.fill_(a)
        rnn.weight_hh_l0.fill_(w)
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.zero_()
        head.weight.fill_(v)
        head.bias.zero_()
    flow = gradient_flow(model, X)
    np.testing.assert_allclose(flow["grad_norm"], v * a * w ** np.arange(T), rtol=1e-5)
    assert list(flow["steps_back"]) == list(range(T))
    assert gradient_decay_rate(flow) == pytest.approx(w, rel=1e-5)


def test_forget_bias_lets_the_gradient_reach_further_back():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 40, 1)), rng.normal(size=64)
    rates = {fb: gradient_decay_rate(gradient_flow(LSTMRegressor(
        hidden_size=32, pooling="last", forget_bias=fb, max_epochs=1, lr=1e-12,
        early_stopping=False, random_state=0).fit(X, y), X)) for fb in (None, 1.0)}
    assert rates[None] < 0.75 < rates[1.0]
    lstm = RecurrentNet(1, 1, cell="lstm", hidden_size=8, num_layers=2, forget_bias=2.0).rnn
    for layer in (0, 1):
        total = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        assert torch.all(total[8:16] == 2.0) and not torch.all(total[:8] == 2.0)


def test_gradient_flow_aligns_ragged_sequences_at_their_ends():
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 2)) for n in (5, 9, 7)]
    model = GRUClassifier(pooling="last", **FAST).fit(X, [0, 1, 0])
    flow = gradient_flow(model, X, [0, 1, 0])
    assert list(flow["steps_back"]) == list(range(9))
    assert (flow["grad_norm"] > 0).all()


def test_gradient_flow_rejects_what_it_cannot_measure():
    X = np.random.default_rng(0).normal(size=(20, 6))
    model = ElmanRegressor(hidden_size=4, max_epochs=1, random_state=0).fit(X, X.sum(axis=1))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        gradient_flow(model, X, X.sum(axis=1)[:-1])
    forecaster = LSTMForecaster(hidden_size=4, lookback=3, max_epochs=1).fit(X[:, 0])
    with pytest.raises(TypeError, match="a sequence regressor or classifier.*LSTMForecaster"):
        gradient_flow(forecaster, X)


def test_plot_gradient_flow(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X = np.random.default_rng(0).normal(size=(16, 10))
    model = ElmanRegressor(pooling="last", **FAST).fit(X, X[:, 0])
    ax = plot_gradient_flow({"elman": gradient_flow(model, X)})
    assert "elman (x" in ax.get_legend().get_texts()[0].get_text()
    # A TDNN's gradient is zero beyond its context: drawn, without a decay rate.
    tdnn = TDNNRegressor(context=((-1, 0),), pooling="last", **FAST).fit(X, X[:, 0])
    flow = gradient_flow(tdnn, X)
    assert (flow["grad_norm"] == 0).sum() > 5
    ax = plot_gradient_flow({"tdnn": flow}, ax=plt.figure().gca())
    assert ax.get_legend().get_texts()[0].get_text() == "tdnn"


def test_gradient_flow_of_a_classifier_follows_its_prediction():
    """Without y: the predicted class's log-probability, which moves with the logits'
    differences; the logits' sum, which softmax ignores, would read zero here."""
    X = np.random.default_rng(0).normal(size=(12, 6, 1))
    model = GRUClassifier(hidden_size=4, pooling="last", max_epochs=1, random_state=0,
                          early_stopping=False).fit(X, np.arange(12) % 2)
    head = model.net_.module_.head
    with torch.no_grad():
        head.weight[1] = -head.weight[0]
        head.bias.zero_()
    module = model.net_.module_.eval()
    x = torch.as_tensor(model._dataset(check_sequences(model, X[:1], reset=False),
                                       None, device="cpu").x).requires_grad_(True)
    (grad,) = torch.autograd.grad(torch.log_softmax(module(x), 1).max(1).values.sum(), x)
    flow = gradient_flow(model, X[:1])
    np.testing.assert_allclose(flow["grad_norm"], grad[0].norm(dim=1).numpy()[::-1],
                               rtol=1e-5)
    assert (flow["grad_norm"] > 0).all()


def test_gradient_flow_is_each_sequences_own_loss_gradient():
    """The same sequences twice read the same; class_weight scales each one's loss."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 8, 1)), np.array([0, 1, 0, 1, 1, 0])
    model = GRUClassifier(pooling="last", **FAST).fit(X, y)
    flow = gradient_flow(model, X, y)
    pd.testing.assert_frame_equal(gradient_flow(model, np.r_[X, X], np.r_[y, y]), flow)
    one = gradient_flow(model, X[:1], y[:1])
    np.testing.assert_allclose(2 * one["grad_norm"], gradient_flow(
        model.set_params(class_weight={0: 2.0, 1: 1.0}), X[:1], y[:1])["grad_norm"],
        rtol=1e-6)
    model.set_params(class_weight="balanced")  # over the classes the sequences hold
    np.testing.assert_allclose(gradient_flow(model, X[:1], y[:1])["grad_norm"],
                               one["grad_norm"], rtol=1e-6)


def test_decay_rate_and_plot_check_their_flows(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    flow = pd.DataFrame({"steps_back": np.arange(6), "grad_norm": 2.0 * 0.5 ** np.arange(6)})
    ax = plot_gradient_flow(flow.iloc[::-1], ax=plt.figure().gca())  # any row order
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), 0.5 ** np.arange(6))
    assert ax.get_legend().get_texts()[0].get_text() == "(x0.50/step)"
    context = flow.assign(grad_norm=flow["grad_norm"].where(flow["steps_back"] < 2, 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "No artists with labels" for an empty legend
        assert plot_gradient_flow(context, ax=plt.figure().gca()).get_legend() is None
    with pytest.raises(TypeError, match="flows must be a DataFrame.*got list"):
        plot_gradient_flow([flow])
    with pytest.raises(ValueError, match="is empty"):
        plot_gradient_flow({"a": flow.iloc[:0]})
    with pytest.raises(ValueError, match="skip must be a non-negative integer; got None"):
        gradient_decay_rate(flow, skip=None)
    with pytest.raises(ValueError, match=r"non-finite gradient norms \(at steps_back \[3\]"):
        gradient_decay_rate(flow.assign(grad_norm=flow["grad_norm"].where(
            flow["steps_back"] != 3, np.inf)))


@pytest.mark.parametrize("max_samples", [0, -1, 2.5, True, "8"])
def test_gradient_flow_rejects_bad_max_samples(max_samples):
    X = np.random.default_rng(0).normal(size=(16, 10))
    model = ElmanRegressor(**FAST).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="max_samples must be a positive integer; got"):
        gradient_flow(model, X, max_samples=max_samples)


# ---------------------------------------------------------------- truncated BPTT
def _grads(module, x, y):
    module.zero_grad()
    torch.nn.functional.mse_loss(module(x), y).backward()
    return [p.grad.clone() for p in module.parameters()]


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_tbptt_at_least_the_sequence_length_equals_full_bptt(cell, pooling):
    torch.manual_seed(0)
    x, y = torch.randn(8, 20, 3), torch.randn(8, 1)
    full = RecurrentNet(3, 1, cell=cell, hidden_size=6, pooling=pooling)
    truncated = RecurrentNet(3, 1, cell=cell, hidden_size=6, pooling=pooling, tbptt_steps=20)
    truncated.load_state_dict(full.state_dict())
    for a, b in zip(_grads(full, x, y), _grads(truncated, x, y)):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_tbptt_chunks_detach_the_state_between_chunks(cell):
    """Same forward as full BPTT; gradients as if the state were cut every k steps."""
    torch.manual_seed(0)
    x, y, k = torch.randn(8, 20, 3), torch.randn(8, 1), 6
    net = RecurrentNet(3, 1, cell=cell, hidden_size=6, pooling="mean", tbptt_steps=k)
    net.eval()
    with torch.no_grad():
        expected_out = net(x)
    net.train()
    torch.testing.assert_close(net(x), expected_out)          # the values are unchanged
    grads = _grads(net, x, y)
    # By hand: run the chunks, counted back from the end (2, 6, 6, 6 steps),
    # detaching the state between them.
    net.zero_grad()
    state, outs = None, []
    for start, stop in [(0, 2), (2, 8), (8, 14), (14, 20)]:
        out, state = net.rnn(x[:, start:stop], state)
        outs.append(out)
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
    torch.nn.functional.mse_loss(net.head(torch.cat(outs, 1).mean(1)), y).backward()
    for a, p in zip(grads, net.parameters()):
        torch.testing.assert_close(a, p.grad)
    full = RecurrentNet(3, 1, cell=cell, hidden_size=6, pooling="mean")
    full.load_state_dict(net.state_dict())
    assert not torch.allclose(_grads(full, x, y)[0], grads[0])  # truncation changed them


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_tbptt_gradient_of_the_last_step_reaches_k_steps_back(cell):
    # 12 steps in chunks of 5: the last chunk is a whole one (steps 7-11), however
    # the length divides, so the output reads the gradient of exactly 5 steps.
    torch.manual_seed(0)
    net = RecurrentNet(3, 1, cell=cell, hidden_size=6, pooling="last", tbptt_steps=5)
    x = torch.randn(4, 12, 3, requires_grad=True)
    net(x).sum().backward()
    reached = x.grad.abs().sum(dim=(0, 2)) > 0
    assert reached.tolist() == [False] * 7 + [True] * 5


def test_tbptt_in_estimators_and_forecasters():
    X = np.random.default_rng(0).normal(size=(64, 30, 2))
    y = X[:, -5:, 0].sum(axis=1)
    model = LSTMRegressor(tbptt_steps=10, pooling="last", **FAST).fit(X, y)
    assert model.predict(X).shape == (64,)
    with pytest.raises(ValueError, match="bidirectional=False"):
        LSTMRegressor(tbptt_steps=10, bidirectional=True, **FAST).fit(X, y)
    series = np.sin(np.arange(200) / 5)
    fc = LSTMForecaster(lookback=24, tbptt_steps=8, **FAST).fit(series)
    assert np.isfinite(fc.forecast(3)).all()


# ---------------------------------------------------------------- history
def test_history_records_gradient_norms_and_clipping():
    X = np.random.default_rng(0).normal(size=(64, 10))
    y = 1000 * X[:, 0]
    model = ElmanRegressor(clip_grad_norm=1e-3, early_stopping=False, tol=0,
                           **FAST).fit(X, y)
    assert all(model.history_[:, "clipped"][i] == 1.0 for i in range(3))
    assert min(model.history_[:, "grad_norm"]) > 1e-3
    free = ElmanRegressor(clip_grad_norm=None, **FAST).fit(X, y)
    assert free.history_[:, "clipped"] == [0.0, 0.0, 0.0]
    assert all(n <= m for n, m in zip(free.history_[:, "grad_norm"],
                                      free.history_[:, "grad_norm_max"]))
