"""Character-level language models on recurrent networks: likelihood and text completion."""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseNetEstimator, store_parameters
from ._modules import RNN_CELLS, LanguageNet, SequenceCrossEntropy
from .utils import check_count, draw_seed, python_scalars, torch_threads


_END, _UNK, _N_SPECIAL = 0, 1, 2  # token ids of the text boundary and of unknown characters
_IGNORE = -100                     # target id of padding (not scored)
_SCORE_CHUNK = 1024                # time steps per forward pass when scoring long texts
_SCORE_BATCH = 64                  # texts per forward pass when scoring


class _TokenWindows(torch.utils.data.Dataset):
    """Windows of ``length`` tokens cut from one token stream on the fly.

    ``inputs`` and ``targets`` are ``(n,)`` int64 tensors on the device, with
    ``targets[i]`` the token that follows ``inputs[i]``. The stream is padded
    to a whole number of windows (padding targets are ignored by the loss)
    and window ``i`` reads positions ``i * length + shift ..`` of it, wrapping
    around its end: the windows tile the stream, so an epoch predicts each
    token exactly once, and every window holds at least one real target (the
    padding is shorter than a window). With a ``generator`` (training),
    ``start_epoch`` draws a new ``shift`` in ``0 .. length - 1``, so the cut
    points differ from epoch to epoch; without one (validation) the shift is
    0. A window that wraps reads the end-of-text padding before the stream's
    first text, as a text start. The shift lives on the device, so cutting a
    batch is device work only (the GPU fast path records it in its CUDA graph).
    """

    def __init__(self, inputs, targets, length, generator=None):
        n, device = inputs.shape[0], inputs.device
        self.n, self.length, self.generator = n, length, generator
        self.padded = length * math.ceil(n / length)
        pad = self.padded - n
        self.inputs = torch.cat([inputs, torch.full((pad,), _END, dtype=torch.long,
                                                    device=device)])
        self.targets = torch.cat([targets, torch.full((pad,), _IGNORE, dtype=torch.long,
                                                      device=device)])
        self.starts = torch.arange(0, n, length, device=device)
        self.shift = torch.zeros((), dtype=torch.long, device=device)
        self._window = torch.arange(length, device=device)

    def __len__(self):
        return self.starts.shape[0]

    def start_epoch(self):
        """New random cut points for the epoch's windows (training only)."""
        if self.generator is not None:
            self.shift.copy_(torch.randint(0, self.length, (), generator=self.generator))

    @property
    def device(self):
        return self.inputs.device

    def __getitem__(self, index):
        return self.batch(slice(index, index + 1))

    def batch(self, index):
        rows = (self.starts[index, None] + self.shift + self._window) % self.padded
        return self.inputs[rows], self.targets[rows]


class RNNLanguageModel(BaseNetEstimator):
    """Character-level language model on a recurrent network (Elman, LSTM or GRU).

    ``fit`` takes a list of texts (documents). Each text is read as a
    sequence of characters (Unicode code points) closed by an end-of-text
    token; the texts are joined into one stream and the network learns to
    predict every next token from the ones before it, on windows of
    ``sequence_length`` tokens cut from the stream at each batch (truncated
    backpropagation through time, each window starting from a zero state).

    * ``score(texts)`` is the mean log-likelihood per token (natural log) of
      the texts, each read from its start: higher is better, so
      ``GridSearchCV(RNNLanguageModel(), {"hidden_size": [...]})`` picks the
      model that best predicts held-out texts.
    * ``perplexity(texts)`` is ``exp(-score(texts))``.
    * ``complete(prefix)`` samples a continuation of a prefix.

    Tokens are the characters of a text plus its end-of-text token: a text of
    ``n`` characters counts ``n + 1`` tokens in ``score``, the last being the
    prediction that the text ends there.

    Parameters
    ----------
    cell : {"elman", "lstm", "gru"}, default="lstm"
        The recurrent cell.
    sequence_length : int, default=64
        Tokens per training window: the span over which gradients flow back.
        Scoring and generation carry the state over whole texts, so the model
        may use longer context than it was trained on, but learns
        dependencies only up to about this length. A window is at most as
        long as the training stream (a longer one would only add padding).
    embedding_size : int, default=32
        Dimension of the character embedding.
    min_count : int, default=1
        Characters seen fewer times in the training texts are mapped to one
        "unknown" token. At scoring time, characters not in ``vocabulary_``
        are read as that token too and score the probability the model gives
        to it (with ``min_count=1`` that token is never seen in training, so
        an unseen character costs a large, finite penalty). ``complete``
        refuses prefixes with such characters and never generates the token.
    hidden_size : int, default=128
        Units in each recurrent layer.
    num_layers : int, default=1
        Stacked recurrent layers (at most 1000).
    dropout : float, default=0.0
        Dropout on the embeddings, between stacked layers and before the head.
    max_epochs : int, default=30
        Upper bound on passes over the training stream.
    batch_size : int or "auto", default="auto"
        Windows per gradient step; "auto" takes ``n_windows // 32`` within
        [16, 128].
    lr : float, default=3e-3
        Learning rate.
    optimizer : {"adam", "sgd", "rmsprop"}, default="adam"
        "sgd" uses momentum 0.9.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    clip_grad_norm : float or None, default=1.0
        Clip the global gradient norm to this value at every step; None
        turns clipping off. As for :class:`~sklearn_rnn.RNNRegressor`.
    early_stopping : bool, default=True
        Hold out the last ``validation_fraction`` of the token stream (the
        end of a single text; with several texts, the last texts in the order
        given, and the end of the one the cut falls in), stop when its loss
        has not improved by ``tol`` for ``patience`` epochs, and keep the best
        epoch's weights. When False, stop when the training loss stalls.
        The tail of the stream, not the tail of each text, so the held-out
        part never overlaps a training window and training still sees texts
        end (the end-of-text token would otherwise only occur in validation).
    validation_fraction : float, default=0.1
        Share of the tokens held out for early stopping.
    patience : int, default=5
        Epochs without improvement before stopping.
    tol : float, default=1e-4
        Smallest loss decrease (nats per token) that counts as an improvement.
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit``; the
        vocabulary stays that of the first fit (new characters are unknown).
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch order and window shifts. Global RNGs are
        left untouched.
    device : str, default="cpu"
        "cpu", "cuda", "cuda:N" or "auto".
    n_threads : int or None, default=1
        PyTorch intra-op threads while training and predicting.
    verbose : int, default=0
        Print skorch's epoch table when positive.
    checkpoint_dir : str, path or None, default=None
        Save the model after every epoch to ``<checkpoint_dir>/checkpoint.skrnn``
        (see :func:`sklearn_rnn.save`); load it and fit with ``warm_start=True``
        to resume.
    fast_path : bool, default=True
        On a CUDA device, replay each training step (cutting the batch's
        windows, forward, backward, clipping and optimizer update) as a
        captured CUDA graph, with losses read once per epoch. False always
        trains eagerly, for debugging. No effect on the CPU.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Character -> token id. Ids 0 (end of text) and 1 (unknown character)
        are reserved and have no key.
    n_iter_ : int
        Epochs run.
    history_ : skorch History
        Per-epoch ``train_loss`` and ``valid_loss`` (mean cross-entropy per
        token, nats) and timings.
    net_ : skorch NeuralNet
        The trained engine; ``net_.module_`` is the :class:`LanguageNet`.

    Examples
    --------
    >>> from sklearn_rnn.language import RNNLanguageModel
    >>> texts = ["abcabcabcabcabc"] * 40
    >>> lm = RNNLanguageModel(hidden_size=32, sequence_length=16, max_epochs=40,
    ...                       lr=1e-2, early_stopping=False, random_state=0).fit(texts)
    >>> lm.complete("abca", max_length=5, top_k=1)
    'bcabc'
    >>> lm.perplexity(["abcabc"]) < 1.5
    True
    """

    # The window length is how training reads the text, not part of the network.
    _training_parameters = BaseNetEstimator._training_parameters | {"sequence_length"}

    _parameter_constraints = {
        **{k: v for k, v in BaseNetEstimator._parameter_constraints.items()
           if k not in ("bidirectional", "pooling", "scale_inputs", "tbptt_steps",
                        "forget_bias")},
        "cell": [StrOptions(set(RNN_CELLS))],
        "sequence_length": [Interval(Integral, 1, None, closed="left")],
        "embedding_size": [Interval(Integral, 1, None, closed="left")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, cell="lstm", *, sequence_length=64, embedding_size=32, min_count=1,
                 hidden_size=128, num_layers=1, dropout=0.0, max_epochs=30,
                 batch_size="auto", lr=3e-3, optimizer="adam", weight_decay=0.0,
                 clip_grad_norm=1.0, early_stopping=True, validation_fraction=0.1,
                 patience=5, tol=1e-4, warm_start=False, random_state=None, device="cpu",
                 n_threads=1, verbose=0, checkpoint_dir=None, fast_path=True):
        # Its own signature: bidirectional, pooling and scale_inputs mean
        # nothing for a left-to-right language model.
        store_parameters(self, locals())

    # ---------------------------------------------------------------- public
    def fit(self, X, y=None):
        """Train the language model on texts.

        Parameters
        ----------
        X : iterable of str
            The training texts (documents). A single long text is passed as
            ``[text]``; a bare str is refused, as it would be read as one
            text per character.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False, method="fit")

    def partial_fit(self, X, y=None):
        """Train one epoch on texts ``X`` (building the vocabulary on the first
        call), without early stopping.

        Parameters
        ----------
        X : iterable of str
            The training texts, as in ``fit``. After the first call the
            vocabulary stays as it was (new characters are unknown).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The model, trained one more epoch.
        """
        return self._fit(X, y, incremental=True, method="partial_fit")

    def score(self, X, y=None):
        """Mean log-likelihood per token (natural log) of texts, each read from its start.

        Parameters
        ----------
        X : iterable of str
            Texts; a text of ``n`` characters counts ``n + 1`` tokens (its
            characters and its end). Characters not in ``vocabulary_`` are
            scored as the unknown token (see ``min_count``).
        y : None
            Ignored.

        Returns
        -------
        score : float
            Higher is better; ``-score`` is the cross-entropy in nats per
            token and ``exp(-score)`` the perplexity.
        """
        check_is_fitted(self)
        log_likelihood, n_tokens = self._log_likelihoods(self._check_texts(X, "score"))
        return float(log_likelihood.sum() / n_tokens.sum())

    def perplexity(self, X):
        """Perplexity per token of texts: ``exp(-score(X))`` (lower is better).

        Parameters
        ----------
        X : iterable of str
            Texts, each read from its start, as in ``score``.

        Returns
        -------
        perplexity : float
            ``exp`` of the cross-entropy in nats per token; 1 is a perfect
            prediction.
        """
        return math.exp(-self.score(X))

    def complete(self, prefix, max_length=100, temperature=1.0, top_k=None,
                 random_state=None):
        """Sample a continuation of ``prefix``, one character at a time.

        The network reads the prefix as the start of a text, then draws each
        next character from its predicted distribution and feeds it back
        (carrying the recurrent state, so the prefix is read once).

        Parameters
        ----------
        prefix : str or list of str
            Start of the text to complete; "" starts a new text. Every
            character must be in ``vocabulary_``.
        max_length : int, default=100
            Most characters to generate. A continuation stops earlier when the
            model draws the end-of-text token (the end is not returned).
        temperature : float, default=1.0
            Divides the logits before sampling: below 1 sharper and more
            conservative, above 1 more varied. Must be > 0; for the most
            likely character at each step use ``top_k=1``.
        top_k : int or None, default=None
            Sample among the ``top_k`` most likely tokens only.
        random_state : int, RandomState or Generator instance or None, default=None
            Seeds the sampling: the same prefixes and ``random_state`` give
            the same continuations. Global RNGs are not used. As
            ``sklearn.utils.check_random_state``: an int in [0, 2**32 - 1],
            or a numpy ``RandomState`` (or ``Generator``) that one seed is
            drawn from; None draws fresh entropy. A bool, float or string is
            a TypeError, an int out of range a ValueError.

        Returns
        -------
        continuation : str or list of str
            The generated text without the prefix; a list for a list of
            prefixes.
        """
        check_is_fitted(self)
        single = isinstance(prefix, str)
        prefixes = [prefix] if single else self._check_texts(prefix, "complete",
                                                             allow_empty_list=True)
        check_count(max_length, "max_length", low=0)
        if (not isinstance(temperature, Real) or isinstance(temperature, bool)
                or not _finite(temperature) or temperature <= 0):
            raise ValueError(
                f"temperature must be a finite number > 0; got {temperature!r}. For the "
                "most likely character at every step, use top_k=1.")
        check_count(top_k, "top_k", none=True)
        seed = draw_seed(random_state)  # checked: before the empty answer
        unseen = sorted({c for p in prefixes for c in p if c not in self.vocabulary_})
        if unseen:
            raise ValueError(
                f"The prefix has {len(unseen)} character(s) not in the vocabulary learnt in "
                f"fit: {unseen!r}. Remove or replace them (vocabulary_ lists the known "
                "characters).")
        if not prefixes:
            return []
        with torch_threads(self.n_threads), torch.no_grad():
            ids = self._sample(prefixes, max_length, float(temperature), top_k, seed)
        chars = self._id_to_char
        out = []
        for row in ids:
            end = np.flatnonzero(row == _END)
            out.append("".join(chars[row[:end[0] if len(end) else len(row)]]))
        return out[0] if single else out

    # ---------------------------------------------------------------- training
    def _training_data(self, X, y, *, reset, seed, device, early_stopping, method):
        texts = self._check_texts(X, method)
        if reset:
            self._build_vocabulary(texts, method)
        stream = self._stream(texts)
        n = len(stream) - 1  # tokens to predict
        n_valid = math.ceil(self.validation_fraction * n) if early_stopping else 0
        n_train = n - n_valid
        if n_train < 1:
            raise ValueError(
                f"The texts hold {n} token(s); none are left for training after setting "
                f"aside validation_fraction={self.validation_fraction} for early stopping. "
                "Use more text or early_stopping=False.")
        stream = torch.from_numpy(stream).to(device)
        generator = torch.Generator().manual_seed(seed + 1)
        # Windows no longer than the stream: sequence_length=10**9 padded each
        # stream to 10**9 tokens (8 GB, and as many steps an epoch).
        train = _TokenWindows(stream[:n_train], stream[1:n_train + 1],
                              min(self.sequence_length, n_train), generator=generator)
        valid = (_TokenWindows(stream[n_train:n], stream[n_train + 1:],
                               min(self.sequence_length, n_valid)) if n_valid else None)
        return train, valid

    def _build_module(self):
        sizes = python_scalars(embedding_size=self.embedding_size, cell=self._cell_type(),
                               hidden_size=self.hidden_size, num_layers=self.num_layers,
                               dropout=self.dropout)
        return LanguageNet(len(self.vocabulary_) + _N_SPECIAL, sizes.pop("embedding_size"),
                           **sizes)

    def _criterion(self):
        return SequenceCrossEntropy

    # ---------------------------------------------------------------- text
    def _check_texts(self, X, method, allow_empty_list=False):
        """``X`` as a list of str, or a TypeError/ValueError saying what is wrong."""
        name = type(self).__name__
        if isinstance(X, (str, bytes)):
            raise TypeError(
                f"{name}.{method} takes an iterable of texts, got a single "
                f"{type(X).__name__} of length {len(X)}. Pass [text] to use it as one "
                "text.")
        if hasattr(X, "columns"):
            raise TypeError(f"{name}.{method} takes an iterable of texts, got a DataFrame; "
                            "pass one column, e.g. df['text'].")
        if getattr(X, "ndim", 1) != 1:
            raise ValueError(f"{name}.{method} takes a 1-D collection of texts; got an "
                             f"array of shape {X.shape}.")
        try:
            texts = list(X)
        except TypeError:
            raise TypeError(f"{name}.{method} takes an iterable of texts (str); got "
                            f"{type(X).__name__}.") from None
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"{name}.{method} takes texts as str; item {i} is "
                                f"{type(text).__name__} ({text!r:.40}).")
        if not texts and not allow_empty_list:
            raise ValueError(f"{name}.{method} got no texts (an empty collection).")
        return texts

    def _build_vocabulary(self, texts, method):
        if not any(texts):
            raise ValueError(f"{type(self).__name__}.{method} got only empty texts; a "
                             "language model needs at least one character to learn from.")
        codes, counts = np.unique(np.concatenate([_code_points(t) for t in texts]),
                                  return_counts=True)
        codes = codes[counts >= self.min_count]
        if len(codes) == 0:
            raise ValueError(f"No character occurs min_count={self.min_count} times in the "
                             "training texts; lower min_count.")
        self.vocabulary_ = {chr(c): i + _N_SPECIAL for i, c in enumerate(codes.tolist())}
        self._codes = codes
        self._id_to_char = np.array(["", ""] + [chr(c) for c in codes.tolist()], dtype=object)

    def _encode(self, text):
        """Token ids of a text's characters (int64), unknown ones as ``_UNK``."""
        codes = _code_points(text)
        pos = np.minimum(np.searchsorted(self._codes, codes), len(self._codes) - 1)
        return np.where(self._codes[pos] == codes, pos + _N_SPECIAL, _UNK).astype(np.int64)

    def _stream(self, texts):
        """``END t1 END t2 ... END``: every text starts after, and ends with, the boundary."""
        parts = [np.array([_END], dtype=np.int64)]
        for text in texts:
            parts += [self._encode(text), parts[0]]
        return np.concatenate(parts)

    # ---------------------------------------------------------------- inference
    def _log_likelihoods(self, texts):
        """Per text: total log-likelihood (nats) and number of tokens."""
        encoded = [self._encode(t) for t in texts]
        n_tokens = np.array([len(e) + 1 for e in encoded], dtype=np.int64)
        total = np.zeros(len(texts))
        module = self.net_.module_
        module.eval()
        device = torch.device(self.net_.device)
        order = np.argsort(n_tokens, kind="stable")  # similar lengths share a batch
        scores = []  # on the device, read once at the end (no host sync per batch)
        with torch_threads(self.n_threads), torch.no_grad():
            for start in range(0, len(order), _SCORE_BATCH):
                group = order[start:start + _SCORE_BATCH]
                width = int(n_tokens[group].max())
                x = np.full((len(group), width), _END, dtype=np.int64)
                y = np.full((len(group), width), _IGNORE, dtype=np.int64)
                for row, i in enumerate(group):
                    x[row, 1:n_tokens[i]] = encoded[i]
                    y[row, :n_tokens[i] - 1] = encoded[i]
                    y[row, n_tokens[i] - 1] = _END
                x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
                state, ll = None, torch.zeros(len(group), dtype=torch.float64, device=device)
                # Long texts go through in chunks, carrying the state: memory
                # stays at one chunk's logits whatever the text length.
                for t0 in range(0, width, _SCORE_CHUNK):
                    logits, state = module.run(x[:, t0:t0 + _SCORE_CHUNK], state)
                    target = y[:, t0:t0 + _SCORE_CHUNK]
                    logp = torch.log_softmax(logits.float(), dim=-1).gather(
                        -1, target.clamp_min(0).unsqueeze(-1)).squeeze(-1)
                    ll += torch.where(target != _IGNORE, logp, 0.0).sum(dim=1).double()
                scores.append(ll)
        if scores:
            total[order] = torch.cat(scores).cpu().numpy()
        return total, n_tokens

    def _sample(self, prefixes, max_length, temperature, top_k, seed):
        """Token ids ``(n_prefixes, n_steps)`` sampled after each prefix: ``max_length``
        steps, or fewer when every row has ended (memory grows with what is
        generated, not with ``max_length``)."""
        module = self.net_.module_
        module.eval()
        device = torch.device(self.net_.device)
        last, states = [], []
        for prefix in prefixes:  # one pass over each prefix warms its state
            ids = np.concatenate([[_END], self._encode(prefix)]).astype(np.int64)
            x, state = torch.from_numpy(ids)[None].to(device), None
            # In chunks, carrying the state, as score reads texts: memory of one
            # chunk's logits, whatever the prefix's length; only the last step's
            # are kept (a view would keep the whole prefix's alive).
            for t0 in range(0, x.shape[1], _SCORE_CHUNK):
                logits, state = module.run(x[:, t0:t0 + _SCORE_CHUNK], state)
            last.append(logits[:, -1].clone())
            states.append(state)
            del logits
        logits = torch.cat(last)
        state = (tuple(torch.cat(s, dim=1) for s in zip(*states))
                 if isinstance(states[0], tuple) else torch.cat(states, dim=1))
        generator = torch.Generator().manual_seed(seed)
        out = []
        done = np.zeros(len(prefixes), dtype=bool)
        k = None if top_k is None else min(top_k, logits.shape[1] - 1)
        for step in range(max_length):
            scaled = logits.double().cpu()
            scaled[:, _UNK] = -math.inf
            # Relative to the best score before dividing: a tiny temperature then
            # sends the others to -inf (greedy), never the best one to inf (NaN).
            if temperature != 1:  # (softmax shifts by the best score itself: the same)
                scaled = (scaled - scaled.max(dim=1, keepdim=True).values) / temperature
            if k is not None:
                kth = torch.topk(scaled, k, dim=1).values[:, -1:]
                scaled = scaled.masked_fill(scaled < kth, -math.inf)
            token = torch.multinomial(torch.softmax(scaled, dim=1), 1, generator=generator)
            out.append(token[:, 0].numpy())
            done |= out[-1] == _END
            if done.all() or step == max_length - 1:
                break
            logits, state = module.run(token.to(device), state)
            logits = logits[:, -1]
        return np.stack(out, axis=1) if out else np.zeros((len(prefixes), 0), np.int64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags


def _finite(number):
    """Whether ``number`` is finite (an integer too large for a float is not)."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _code_points(text):
    """The Unicode code points of ``text`` as uint32, without a per-character loop."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
