"""Pure PyTorch modules used by the estimators (no scikit-learn imports)."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

RNN_CELLS = {"elman": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
POOLINGS = ("last", "mean", "max")


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
                 num_layers=1, dropout=0.0, bidirectional=False, pooling="last"):
        super().__init__()
        kwargs = dict(input_size=input_size, hidden_size=hidden_size,
                      num_layers=num_layers, batch_first=True,
                      dropout=dropout if num_layers > 1 else 0.0,
                      bidirectional=bidirectional)
        self.rnn = RNN_CELLS[cell](**kwargs)
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)

    def encode(self, x, lengths=None):
        """Hidden states of the top layer, ``(batch, time, directions * hidden)``."""
        if lengths is not None and self.rnn.bidirectional:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            out, _ = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            return out
        return self.rnn(x)[0]

    def forward(self, x, lengths=None):
        return self.head(self.dropout(pool_states(self.encode(x, lengths), lengths,
                                                  self.pooling, self.rnn.bidirectional)))


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
    on that level, so an untrained network forecasts "no change":

    * identity link: level = the last target value; inputs and outputs are
      shifted by it (the network learns changes);
    * log link (Poisson): level = the window's mean target value; inputs are
      divided by it and the forecast is ``level * exp(output)``.

    Returns ``(batch, horizon)``, or ``(batch, horizon, n_quantiles)`` when
    ``n_quantiles`` is given.
    """

    def __init__(self, input_size, horizon, *, n_quantiles=None, level=True, link="identity",
                 **rnn_kwargs):
        super().__init__()
        self.horizon, self.n_quantiles = horizon, n_quantiles
        self.level, self.link = level, link
        self.encoder = RecurrentNet(input_size, horizon * (n_quantiles or 1), **rnn_kwargs)

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
    """Mean pinball loss of ``(batch, horizon, n_quantiles)`` predictions."""

    def __init__(self, quantiles):
        super().__init__()
        self.register_buffer("quantiles", torch.as_tensor(quantiles, dtype=torch.float32))

    def forward(self, y_pred, y_true):
        diff = y_true.unsqueeze(-1) - y_pred
        return torch.maximum(self.quantiles * diff, (self.quantiles - 1) * diff).mean()
