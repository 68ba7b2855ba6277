"""Skip-gram with negative sampling: the training kernels.

Two engines share the tables built in ``text.py`` (token ids, keep
probabilities, the cumulative noise distribution) and the same update rule as
word2vec.c and gensim's ``Word2Vec(sg=1)``:

* ``numba``: the word2vec loop compiled with numba (an optional dependency,
  the ``text`` extra), Hogwild-parallel over chunks of the corpus; it lives in
  ``_word2vec_numba``, imported on first use (its names are reachable from
  here too), so importing the package does not import numba. The fast
  CPU path: a batched PyTorch implementation was measured (in the issue that
  asked for this transformer) at about 0.1x gensim on 2 cores, because
  gathering and scattering 100-float rows through tensor ops costs far more
  than the arithmetic.
* ``torch``: batched pairs with manual sparse SGD updates (``index_add_``),
  for GPUs, and the CPU fallback where numba is missing. Everything runs on
  the device -- subsampling, the shrunk windows, pairing, noise words, from a
  generator of its own -- and the loss and counts are read once per epoch,
  so a GPU is never made to wait for the host between batches. On a GPU the
  update of a batch is replayed as a CUDA graph (``SkipGramSteps``), as the
  recurrent estimators' training steps are (``_fast_path.py``).
"""

import functools

import numpy as np
import torch

from ._fast_path import StepGraphs, warn_fallback
from .utils import torch_threads

#: word2vec's longest sentence: longer documents are cut into pieces.
MAX_PIECE = 10000
#: Sigmoid and log-sigmoid by table lookup over [-MAX_EXP, MAX_EXP], as in word2vec.c,
#: but finer (word2vec uses 1,000 entries) and rounded to the nearest entry, so the
#: recorded loss is unbiased (an untrained model's is log 2 to 4 digits).
MAX_EXP = 6.0
TABLE_SIZE = 12001
#: Batches of the torch engine staged at once (their pairs, noise words and
#: learning rates): one noise draw per stage, not per batch.
CHUNK_BATCHES = 64
# A word used more than ROW_CAP times in one batch of the torch engine applies
# ROW_CAP uses' worth of its summed update (``SkipGramSteps._share``). word2vec
# applies the updates one after another, each seeing the last; summed at once,
# a small vocabulary's rows got hundreds per batch and diverged (a 50-word
# vocabulary at the default batch_pairs: loss 1e18). On the 2.2M-token
# benchmark corpus, 32 left WordSim353 as it was (Spearman 0.403 vs 0.400).
ROW_CAP = 32



@functools.cache
def numba_available():
    """Whether numba imports (it is imported here, on the first fit that asks)."""
    try:
        import numba
    except ImportError:  # pragma: no cover - exercised where numba is absent
        return False
    return hasattr(numba, "njit")


# The numba engine's names, from the module imported on first use.
_NUMBA_NAMES = {"NumbaEngine", "alias_tables", "noise_words_numba", "train_epoch_numba"}


def __getattr__(name):
    if name in _NUMBA_NAMES:
        from . import _word2vec_numba
        return getattr(_word2vec_numba, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pieces(doc_ptr):
    """Boundaries of pieces of at most MAX_PIECE tokens, never crossing documents."""
    out = [0]
    for start, end in zip(doc_ptr[:-1], doc_ptr[1:]):
        bounds = np.arange(start + MAX_PIECE, end, MAX_PIECE)
        out.extend(bounds.tolist())
        if end > start:
            out.append(int(end))
    return np.unique(np.asarray(out, dtype=np.int64))


def _tables():
    f = np.linspace(-MAX_EXP, MAX_EXP, TABLE_SIZE)
    sig = 1 / (1 + np.exp(-f))
    return sig.astype(np.float32), np.log(sig).astype(np.float32), np.log(1 - sig).astype(
        np.float32)


_MULT = 6364136223846793005
_INC = 1442695040888963407


def noise_words_torch(cum, shape, generator):
    """Noise words for the torch engine: inverse-CDF draws from ``cum`` (a tensor),
    with ``generator`` (on ``cum``'s device)."""
    r = torch.rand(shape, generator=generator, device=cum.device, dtype=cum.dtype)
    return torch.searchsorted(cum, r, right=True).clamp_max_(len(cum) - 1)


def epoch_seed(seed, epoch):
    """The numba kernel's seed of one epoch: a 64-bit hash of ``(seed, epoch)``, so
    no two epochs or random_states share a random stream."""
    return np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0]


def max_pairs(piece_ptr, window):
    """An upper bound on the skip-gram pairs of one epoch: a token of a piece of
    ``L`` tokens pairs with at most ``2 * min(window, L - 1)`` others."""
    lengths = np.diff(np.asarray(piece_ptr, dtype=np.int64))
    reach = np.minimum(lengths - 1, min(window, MAX_PIECE))
    return int((lengths * 2 * reach).sum())


def skipgram_pairs(tok, piece, pos, window, generator):
    """Every skip-gram pair of the kept tokens ``tok`` (their pieces ``piece`` and
    corpus positions ``pos``), as ``(center, context, position)`` tensors in corpus
    order: each center word pairs with the words within its shrunk window (a
    uniform ``1..window`` per word, as word2vec) in the same piece."""
    reduced = window - torch.randint(0, window, tok.shape, generator=generator,
                                     device=tok.device)
    centers, contexts, where = [], [], []
    # No offset beyond the longest piece pairs anything (one host read per block);
    # at least one offset runs, so that the lists below are never empty.
    longest = 0
    if len(piece):
        longest = int(torch.unique_consecutive(piece, return_counts=True)[1].max())
    for offset in range(1, max(min(window, longest - 1), 1) + 1):
        for a, b in ((slice(None, -offset), slice(offset, None)),
                     (slice(offset, None), slice(None, -offset))):
            ok = (piece[a] == piece[b]) & (reduced[a] >= offset)
            centers.append(tok[a][ok])
            contexts.append(tok[b][ok])
            where.append(pos[a][ok])
    where = torch.cat(where)
    order = torch.argsort(where, stable=True)  # corpus order, as word2vec
    return torch.cat(centers)[order], torch.cat(contexts)[order], where[order]


class SkipGramSteps(StepGraphs):
    """The torch engine's updates, one batch of pairs per step.

    The pairs of up to ``CHUNK_BATCHES`` batches, with their noise words and
    learning rates, are staged in buffers at fixed addresses (``train``);
    each step updates ``syn0``/``syn1`` in place from batch ``counter`` of the
    stage and adds its loss to a device accumulator (the stage counts its
    predictions). A step is device work only, so on a GPU (``capture=True``)
    the step of a full batch is recorded once as a CUDA graph and replayed:
    one launch per batch instead of ~30 (``_fast_path.StepGraphs``). The last,
    partial batch of a block of pairs runs eagerly. On the CPU the same steps
    run eagerly.
    """

    def __init__(self, syn0, syn1, *, negative, batch_pairs, capture, max_pairs=None):
        device = syn0.device
        super().__init__(device, capture)
        # The buffers hold a stage: CHUNK_BATCHES batches, but never more pairs than
        # a block of the corpus has (``max_pairs``, an upper bound), so a large
        # batch_pairs costs no memory on a small corpus. A batch larger than that
        # bound is the whole stage either way, so it is cut to it (same updates).
        requested, size = batch_pairs, batch_pairs * CHUNK_BATCHES
        if max_pairs is not None:
            size = max(min(size, max_pairs), 1)
            batch_pairs = min(batch_pairs, size)
        self.syn0, self.syn1, self.batch_pairs = syn0, syn1, batch_pairs
        try:
            self.context = torch.zeros(size, dtype=torch.long, device=device)
            self.targets = torch.zeros(size, 1 + negative, dtype=torch.long, device=device)
            # 1 where a target counts: the center word, and each noise word unequal to
            # it (word2vec skips a noise word equal to the center word).
            self.valid = torch.ones(size, 1 + negative, device=device, dtype=torch.float32)
        except RuntimeError as exc:  # torch.OutOfMemoryError is one too
            need = size * (8 + 12 * (1 + negative))
            raise ValueError(
                f"batch_pairs={requested} needs buffers of {size:,} pairs x "
                f"{1 + negative} targets (negative={negative}), about {need / 2**30:,.1f} GiB "
                f"on {device}, which could not be allocated ({str(exc).splitlines()[0]:.120}); "
                "use a smaller batch_pairs (the default is 2048).") from None
        self.alphas = torch.zeros(CHUNK_BATCHES, device=device, dtype=torch.float32)
        self.counter = torch.zeros((), dtype=torch.long, device=device)
        self.loss = torch.zeros((), dtype=torch.float64, device=device)
        self.predictions = torch.zeros((), dtype=torch.long, device=device)
        self.offsets = torch.arange(batch_pairs, device=device)
        # Per target column (the center word, then the noise words): the label and
        # the sign that turns log sigmoid(score) into each column's log-likelihood.
        self.labels = torch.zeros(1 + negative, device=device, dtype=torch.float32)
        self.labels[0] = 1
        self.signs = 2 * self.labels - 1
        # How often each word is used in the batch (zeroed again after each step).
        self.hits = torch.zeros(len(syn0), device=device, dtype=torch.float32)
        self.ones = torch.ones(batch_pairs, device=device, dtype=torch.float32)
        self._steps = {}

    def train(self, center, context, noise, alphas):
        """Train on the pairs ``(center, context)`` (at most ``CHUNK_BATCHES``
        batches) with their ``noise`` words, batch ``i`` at learning rate
        ``alphas[i]``. Returns how many steps were graph replays."""
        n = self.stage(center, context, noise, alphas)
        replayed = 0
        for start in range(0, n, self.batch_pairs):
            size = min(self.batch_pairs, n - start)
            step = self._steps.setdefault(size, functools.partial(self._step, size))
            replayed += self.run(size, step, capturable=size == self.batch_pairs)
        return replayed

    def stage(self, center, context, noise, alphas):
        """Copy the pairs into the buffers and point the counter at their first
        batch; returns how many pairs there are. Which noise words count, and
        how many predictions the stage makes, are worked out here once rather
        than in every step."""
        n = len(center)
        self.context[:n].copy_(context)
        self.targets[:n, 0].copy_(center)
        self.targets[:n, 1:].copy_(noise)
        counted = noise != center[:, None]
        self.valid[:n, 1:].copy_(counted)
        self.predictions += counted.sum() + n
        self.alphas[:len(alphas)].copy_(alphas)
        self.counter.zero_()
        return n

    def _step(self, size):
        """Batch ``counter`` of the stage: word2vec's update of its pairs, all
        at once (as concurrent Hogwild threads would)."""
        index = self.counter * self.batch_pairs + self.offsets[:size]
        x, targets, valid = self.context[index], self.targets[index], self.valid[index]
        alpha = self.alphas[self.counter.view(1)]
        v_in, v_out = self.syn0[x], self.syn1[targets]              # (B, d), (B, 1 + K, d)
        f = torch.einsum("bd,bkd->bk", v_in, v_out)
        self.loss -= (torch.nn.functional.logsigmoid(f * self.signs) * valid).sum()
        g = (self.labels - torch.sigmoid(f)) * valid * alpha        # (B, 1 + K)
        g_in = torch.einsum("bk,bkd->bd", g, v_out)
        flat = targets.reshape(-1)
        g_in = g_in * self._share(x, self.ones[:size])[:, None]
        g = g * self._share(flat, valid.reshape(-1)).view_as(g)
        self.syn0.index_add_(0, x, g_in)
        self.syn1.index_add_(0, flat,
                             (g[:, :, None] * v_in[:, None, :]).reshape(-1, v_in.shape[1]))
        self.counter += 1

    def _share(self, rows, weights):
        """Per use of a row: the share of its update it applies, ROW_CAP / uses
        when a row is used more than ROW_CAP times in the batch, else 1."""
        self.hits.index_add_(0, rows, weights)
        share = (ROW_CAP / self.hits[rows]).clamp_(max=1)
        self.hits.index_fill_(0, rows, 0)
        return share


def train_epoch_torch(ids, piece_of, steps, cum, keep, *, window, negative, alpha0,
                      alpha_min, done, total, generator, block_tokens=1_000_000):
    """One epoch of batched pairs on the device of ``steps`` (``SkipGramSteps``).

    Returns what the numba one does, and how many steps were graph replays.
    ``ids`` (token ids), ``piece_of`` (each token's piece), ``cum`` (cumulative
    noise distribution) and ``keep`` (keep probabilities) are tensors on that
    device, and ``generator`` draws every random number there. Subsampling,
    pairing and the updates all run on the device; the loss and counts are
    accumulated there and read once, at the end of the epoch (no host
    synchronisation per batch on a GPU).
    """
    device, size = steps.syn0.device, steps.batch_pairs
    chunk = size * CHUNK_BATCHES
    steps.loss.zero_()
    steps.predictions.zero_()
    n_pairs = n_kept = replayed = 0
    for block in range(0, len(ids), block_tokens):
        tok, piece = ids[block:block + block_tokens], piece_of[block:block + block_tokens]
        kept = torch.nonzero(torch.rand(tok.shape, generator=generator, device=device,
                                        dtype=torch.float32)
                             < keep[tok]).squeeze(1)
        n_kept += len(kept)
        center, context, position = skipgram_pairs(tok[kept].long(), piece[kept],
                                                   kept + block, window, generator)
        n_pairs += len(center)
        # The learning rate of every batch of the block at once: linear decay by
        # the corpus position of the batch's first pair.
        progress = (done + position[::size]) / total
        alphas = (alpha0 - (alpha0 - alpha_min) * progress).clamp_min(alpha_min).float()
        for start in range(0, len(center), chunk):
            c = center[start:start + chunk]
            replayed += steps.train(
                c, context[start:start + chunk], noise_words_torch(cum, (len(c), negative),
                                                                   generator),
                alphas[start // size:(start + chunk) // size])
    return float(steps.loss), n_pairs, int(steps.predictions), n_kept, replayed


class _Engine:
    """One fit's training: ``epoch(i)`` trains epoch ``i`` in place and returns
    its counts; ``vectors()`` gives the trained input vectors (numpy); used as
    a context manager around the epochs. ``ids`` are the corpus token ids,
    ``piece_ptr`` the piece boundaries (``pieces``), ``keep`` the keep
    probabilities and ``cum`` the cumulative noise distribution, all numpy;
    ``syn0``/``syn1`` the initial input and output vectors."""

    def __init__(self, ids, piece_ptr, syn0, syn1, keep, cum, *, seed, n_threads, **params):
        self.ids, self.piece_ptr, self.keep = ids, piece_ptr, keep
        self.syn0, self.syn1 = syn0, syn1
        self.seed, self.n_threads, self.params = seed, n_threads, params

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def finish(self, verbose):
        """Report on the fit once it ended (nothing here)."""

    def vectors(self):
        return self.syn0

    def finite(self):
        """Whether every vector is still finite (training has not diverged)."""
        return bool(np.isfinite(self.syn0).all())


class TorchEngine(_Engine):
    """Batched pairs on ``device``, the batch updates replayed as CUDA graphs
    when ``capture`` (``SkipGramSteps``); ``n_threads`` intra-op threads on
    the CPU."""

    def __init__(self, ids, piece_ptr, syn0, syn1, keep, cum, *, device, batch_pairs,
                 capture, **kwargs):
        super().__init__(ids, piece_ptr, torch.from_numpy(syn0).to(device),
                         torch.from_numpy(syn1).to(device), keep, cum, **kwargs)
        self.steps = SkipGramSteps(self.syn0, self.syn1, negative=self.params["negative"],
                                   batch_pairs=batch_pairs, capture=capture,
                                   max_pairs=max_pairs(piece_ptr, self.params["window"]))
        # Tables on the device once; a generator of its own leaves torch's
        # global RNGs (CPU and CUDA) untouched.
        piece_of = np.repeat(np.arange(len(piece_ptr) - 1, dtype=np.int32), np.diff(piece_ptr))
        self.tables = dict(
            ids=torch.from_numpy(ids).to(device), piece_of=torch.from_numpy(piece_of).to(device),
            cum=torch.from_numpy(cum).to(device), keep=torch.from_numpy(keep).to(device),
            generator=torch.Generator(device=device).manual_seed(self.seed))

    def epoch(self, epoch):
        with torch_threads(self.n_threads):
            loss, pairs, predictions, words, replayed = train_epoch_torch(
                steps=self.steps, done=epoch * len(self.ids), **self.tables, **self.params)
        return dict(loss=loss, predictions=predictions, pairs=pairs, words=words,
                    graph_steps=replayed)

    def finish(self, verbose):
        """Say whether the updates were replayed as CUDA graphs; warn if a
        capture failed."""
        if self.steps.failure:
            warn_fallback(self.steps.failure, stacklevel=4)
        elif self.steps.graphs and verbose:
            print(f"Fast path: updates of batches of {self.steps.batch_pairs:,} pairs replayed "
                  "as CUDA graphs.")

    def vectors(self):
        return self.syn0.cpu().numpy()

    def finite(self):
        return bool(torch.isfinite(self.syn0).all())  # one read per epoch, as the loss
