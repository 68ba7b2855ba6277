"""Pure PyTorch modules used by the estimators (no scikit-learn imports)."""

import math
from functools import reduce

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

RNN_CELLS = {"elman": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
POOLINGS = ("last", "mean", "max")
#: Kaldi/Peddinti-style TDNN context: 5 frames, then sub-sampled wider ones.
DEFAULT_CONTEXT = ((-2, -1, 0, 1, 2), (-2, 0, 2), (-3, 0, 3))


class RecurrentNet(nn.Module):
    """A recurrent encoder (Elman, LSTM or GRU) followed by a linear head.

    Parameters
    ----------
    input_size : int
        Features per time step.
    output_size : int
        Outputs of the linear head (targets for regression, classes for
        classification).
    cell : {"elman", "lstm", "gru"}
    hidden_size, num_layers, dropout, bidirectional
        As in :class:`torch.nn.LSTM`. ``dropout`` is also applied to the pooled
        representation before the head, so it acts with one layer too.
    pooling : {"last", "mean", "max"}
        How hidden states are summarised over time: the state at the last
        valid step (for a bidirectional net, the backward direction's state at
        step 0), or the mean/max over valid steps.

    ``forward(x, lengths=None)`` takes a padded batch ``x`` of shape
    ``(batch, time, input_size)``. ``lengths`` (int64, same device) marks the
    valid steps of right-padded sequences. A unidirectional net needs no
    packing for padding to be exact: its state at a valid step never sees the
    padding that follows. A bidirectional one is packed so the backward
    direction starts at each sequence's true end.
    """

    def __init__(self, input_size, output_size, cell="lstm", hidden_size=64,
                 num_layers=1, dropout=0.0, bidirectional=False, pooling="last",
                 forget_bias=None, tbptt_steps=None):
        super().__init__()
        kwargs = dict(input_size=input_size, hidden_size=hidden_size,
                      num_layers=num_layers, batch_first=True,
                      dropout=dropout if num_layers > 1 else 0.0,
                      bidirectional=bidirectional)
        self.rnn = RNN_CELLS[cell](**kwargs)
        self.pooling = pooling
        self.tbptt_steps = tbptt_steps
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)
        if cell == "lstm" and forget_bias is not None:
            init_forget_bias(self.rnn, forget_bias)

    def capture_blocker(self, ragged):
        """Why a training step cannot be recorded as a CUDA graph, or None."""
        if ragged and self.rnn.bidirectional:
            return ("a bidirectional network packs ragged sequences, which needs "
                    "their lengths on the host")
        return None

    def encode(self, x, lengths=None):
        """Hidden states of the top layer, ``(batch, time, directions * hidden)``.

        In training with ``tbptt_steps`` set (and shorter than the sequences),
        the sequences are read in chunks of that many steps, counted back from
        the (padded) end so that the last chunk is a whole one (the first takes
        the remainder), the hidden state carried from chunk to chunk and
        detached between them: truncated backpropagation through time. With
        "last" pooling and equal lengths only the final chunk keeps a graph,
        so memory grows with ``tbptt_steps``, not with the sequence length
        (ragged sequences end in different chunks, which all keep theirs).
        """
        k = self.tbptt_steps
        if self.training and k is not None and x.shape[1] > k and torch.is_grad_enabled():
            return self._encode_truncated(x, lengths, k)
        if lengths is not None and self.rnn.bidirectional:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            out, _ = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            return out
        return self.rnn(x)[0]

    def _encode_truncated(self, x, lengths, k):
        n_steps = x.shape[1]
        bounds = [0, *range(n_steps % k or k, n_steps, k), n_steps]
        starts = bounds[:-1]
        # Only the last chunk reaches the loss when pooling "last" over equal
        # lengths: earlier chunks just carry the state, without a graph.
        last_only = self.pooling == "last" and lengths is None
        state, outs = None, []
        for i, start in enumerate(starts):
            chunk = x[:, start:bounds[i + 1]]
            if last_only and i < len(starts) - 1:
                with torch.no_grad():
                    _, state = self.rnn(chunk, state)
                continue
            out, state = self.rnn(chunk, state)
            outs.append(out)
            state = (tuple(s.detach() for s in state) if isinstance(state, tuple)
                     else state.detach())
        # With last_only, "last" pooling reads the final step of the final chunk.
        return torch.cat(outs, dim=1)

    def forward(self, x, lengths=None):
        return self.head(self.dropout(pool_states(self.encode(x, lengths), lengths,
                                                  self.pooling, self.rnn.bidirectional)))


def init_forget_bias(lstm, value):
    """Set every layer's forget-gate bias of ``lstm`` to ``value`` in total.

    PyTorch orders the LSTM gates (input, forget, cell, output) and adds two
    biases; the forget slice of ``bias_ih`` takes the value and that of
    ``bias_hh`` is zeroed.
    """
    hidden = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[hidden:2 * hidden] = value
            elif name.startswith("bias_hh"):
                param[hidden:2 * hidden] = 0.0


def pool_states(out, lengths, pooling, bidirectional):
    """Summarise ``out`` (batch, time, hidden) over valid time steps."""
    if pooling == "last":
        if lengths is None:
            last = out[:, -1]
        else:
            last = out[torch.arange(out.shape[0], device=out.device), lengths - 1]
        if not bidirectional:
            return last
        half = out.shape[-1] // 2
        # The backward direction has read the whole sequence when it reaches step 0.
        return torch.cat([last[:, :half], out[:, 0, half:]], dim=1)
    if lengths is None:
        return out.mean(dim=1) if pooling == "mean" else out.amax(dim=1)
    mask = (torch.arange(out.shape[1], device=out.device)[None, :]
            < lengths[:, None]).unsqueeze(-1)
    if pooling == "mean":
        return (out * mask).sum(dim=1) / lengths[:, None].to(out.dtype)
    return out.masked_fill(~mask, float("-inf")).amax(dim=1)


class ForecastNet(nn.Module):
    """Windows of a series in, forecasts of the next ``horizon`` steps out.

    ``x`` is ``(batch, lookback, 1 + n_covariates)`` with the (scaled) target in
    channel 0. With ``level=True`` the window is expressed relative to its own
    level before it reaches the recurrent encoder, and the forecast is put back
    on that level, so an untrained network forecasts "no change" plus the
    head's random output (see ``head_scale``):

    * identity link: level = the last target value; inputs and outputs are
      shifted by it (the network learns changes);
    * log link (Poisson): level = the window's mean target value; inputs are
      divided by it and the forecast is ``level * exp(output)``.

    Returns ``(batch, horizon)``, or ``(batch, horizon, n_quantiles)`` when
    ``n_quantiles`` is given.
    """

    #: With ``level``, the head's weights and bias after PyTorch's init are scaled
    #: by this (the draws are the same, so the other layers are unchanged). 1:
    #: PyTorch's init, whose untrained change is about one naive error (up to ~3).
    #: Smaller starts nearer "no change" but trained worse on the nine defaults
    #: series: geo-mean MASE 1.13x with 0, 1.12x with 0.1, 1.10x with 0.3
    #: (benchmarks/RESULTS.md, "The output layer's initial scale"); a module
    #: setting that the benchmark varies, not an estimator parameter.
    head_scale = 1.0

    def __init__(self, input_size, horizon, *, n_quantiles=None, level=True, link="identity",
                 **rnn_kwargs):
        super().__init__()
        self.horizon, self.n_quantiles = horizon, n_quantiles
        self.level, self.link = level, link
        self.encoder = RecurrentNet(input_size, horizon * (n_quantiles or 1), **rnn_kwargs)
        if level and self.head_scale != 1.0:
            with torch.no_grad():
                self.encoder.head.weight.mul_(self.head_scale)
                self.encoder.head.bias.mul_(self.head_scale)

    def forward(self, x):
        target = x[..., 0]
        if self.link == "log":
            level = (target.mean(dim=1).clamp_min(1e-3) if self.level
                     else torch.ones_like(target[:, 0]))
            inputs = torch.cat([(target / level[:, None]).unsqueeze(-1), x[..., 1:]], dim=-1)
        else:
            level = target[:, -1] if self.level else torch.zeros_like(target[:, 0])
            inputs = torch.cat([(target - level[:, None]).unsqueeze(-1), x[..., 1:]], dim=-1)
        out = self.encoder(inputs)
        if self.n_quantiles:
            out = out.view(-1, self.horizon, self.n_quantiles)
            level = level[:, None]
        if self.link == "log":
            return torch.exp(out) * level[:, None]
        return out + level[:, None]


class QuantileLoss(nn.Module):
    """Mean pinball loss of ``(batch, horizon, n_quantiles)`` predictions
    (``reduction="none"``: the loss of each element, as torch's losses do)."""

    def __init__(self, quantiles, reduction="mean"):
        super().__init__()
        self.register_buffer("quantiles", torch.as_tensor(quantiles, dtype=torch.float32))
        self.reduction = reduction

    def forward(self, y_pred, y_true):
        diff = y_true.unsqueeze(-1) - y_pred
        loss = torch.maximum(self.quantiles * diff, (self.quantiles - 1) * diff)
        return loss if self.reduction == "none" else loss.mean()


class DelayConv1d(nn.Module):
    """One TDNN layer: ``out[t] = bias + sum_d W_d @ x[t + d]`` over the delays ``d``.

    The delays become one dilated :class:`torch.nn.Conv1d`: the dilation is
    the greatest common divisor of the gaps between delays and the kernel
    covers their span. Evenly spaced delays (``(-2, 0, 2)``) use every tap;
    others (``(-3, -1, 2)``, dilation 1, span 6) keep a fixed 0/1 mask on the
    taps that are not delays, so those weights stay zero and get no gradient.
    Steps outside the sequence read zeros, for any delays (also all-positive
    or all-negative ones, and sequences shorter than the span).

    Takes and returns ``(batch, channels, time)`` with the same ``time``.
    """

    def __init__(self, in_channels, out_channels, delays):
        super().__init__()
        self.delays = tuple(sorted(int(d) for d in delays))
        low, high = self.delays[0], self.delays[-1]
        self.dilation = reduce(math.gcd, (d - low for d in self.delays), 0) or 1
        kernel_size = (high - low) // self.dilation + 1
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=self.dilation)
        # Zero padding on each side, then a slice: out[t] must read x[t + low].
        self.pad_left, self.pad_right = max(0, -low), max(0, high)
        self.offset = low + self.pad_left
        if kernel_size == len(self.delays):
            self.register_buffer("mask", None)
        else:
            mask = torch.zeros(1, 1, kernel_size, dtype=torch.float32)
            mask[..., [(d - low) // self.dilation for d in self.delays]] = 1.0
            self.register_buffer("mask", mask)
            with torch.no_grad():
                # Default init scales by the kernel's fan-in; only the delay taps count.
                self.conv.weight.mul_(math.sqrt(kernel_size / len(self.delays)) * mask)

    def forward(self, x):
        weight = self.conv.weight if self.mask is None else self.conv.weight * self.mask
        out = F.conv1d(F.pad(x, (self.pad_left, self.pad_right)), weight, self.conv.bias,
                       dilation=self.dilation)
        return out[:, :, self.offset:self.offset + x.shape[2]]


class TDNNNet(nn.Module):
    """A time-delay network: delay convolutions, pooling over time, a linear head.

    Parameters
    ----------
    input_size : int
        Features per time step.
    output_size : int
        Outputs of the linear head.
    context : sequence of sequences of int
        The delays of each layer (see :class:`DelayConv1d`); ``len(context)``
        layers.
    hidden_size : int
        Channels of every layer.
    dropout : float
        Dropout after every layer and before the head.
    pooling : {"last", "mean", "max"}
        How the top layer is summarised over valid time steps (as in
        :func:`pool_states`).

    ``forward(x, lengths=None)`` takes ``x`` of shape ``(batch, time,
    input_size)`` like :class:`RecurrentNet`. With ``lengths`` (right-padded
    ragged sequences), the padded steps of the input and of every layer's
    output are set to zero: a sequence then sees exactly the zeros it would
    see past its end when alone, so padding never changes a prediction.
    """

    def __init__(self, input_size, output_size, context=DEFAULT_CONTEXT, hidden_size=64,
                 dropout=0.0, pooling="max"):
        super().__init__()
        sizes = [input_size] + [hidden_size] * len(context)
        self.layers = nn.ModuleList(DelayConv1d(i, o, delays)
                                    for i, o, delays in zip(sizes, sizes[1:], context))
        self.dropout = nn.Dropout(dropout)
        self.pooling = pooling
        self.head = nn.Linear(hidden_size, output_size)

    def encode(self, x, lengths=None):
        """Top-layer outputs, ``(batch, time, hidden_size)``, zero on padded steps."""
        h = x.transpose(1, 2)
        mask = None
        if lengths is not None:
            mask = (torch.arange(h.shape[2], device=h.device)[None, :]
                    < lengths[:, None]).unsqueeze(1).to(h.dtype)
            h = h * mask
        for layer in self.layers:
            h = self.dropout(torch.relu(layer(h)))
            if mask is not None:
                h = h * mask
        return h.transpose(1, 2)

    def forward(self, x, lengths=None):
        pooled = pool_states(self.encode(x, lengths), lengths, self.pooling, False)
        return self.head(self.dropout(pooled))


class LanguageNet(nn.Module):
    """Token embedding, recurrent layers and a linear head over the vocabulary.

    ``forward(x)`` takes token ids ``(batch, time)`` (int64) and returns the
    logits of the next token at every step, ``(batch, time, vocab_size)``.
    ``run(x, state)`` does the same from a given recurrent state and also
    returns the final state, so generation can feed one token at a time.
    """

    def __init__(self, vocab_size, embedding_size=32, cell="lstm", hidden_size=64,
                 num_layers=1, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.rnn = RNN_CELLS[cell](input_size=embedding_size, hidden_size=hidden_size,
                                   num_layers=num_layers, batch_first=True,
                                   dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x):
        return self.run(x)[0]

    def run(self, x, state=None):
        out, state = self.rnn(self.dropout(self.embedding(x)), state)
        return self.head(self.dropout(out)), state


class SequenceCrossEntropy(nn.Module):
    """Mean cross-entropy over every step of ``(batch, time, vocab)`` logits.

    Targets equal to ``ignore_index`` (padding) do not count.
    """

    def __init__(self, ignore_index=-100):
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, logits, target):
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                               ignore_index=self.ignore_index)

    def count(self, target):
        """The targets a batch's loss is the mean over (a device tensor): the
        weight of its loss in an epoch's mean, so that is a mean per token."""
        return (target != self.ignore_index).sum()
