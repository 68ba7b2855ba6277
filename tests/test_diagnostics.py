"""Truncated BPTT, gradient health in history_, the gradient-flow diagnostic."""

import numpy as np
import pytest
import torch

from sklearn_rnn import (ElmanRegressor, GRUClassifier, LSTMForecaster, LSTMRegressor,
                         TDNNRegressor)
from sklearn_rnn._modules import RecurrentNet
from sklearn_rnn.diagnostics import gradient_decay_rate, gradient_flow, plot_gradient_flow

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
