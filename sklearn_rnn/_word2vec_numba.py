"""The numba engine of the skip-gram trainer: word2vec's loop compiled with numba.

Imported on the first fit that uses it (through ``_word2vec``'s lazy names), so
that ``import sklearn_rnn`` -- paid again by every worker process of a parallel
search -- does not import numba (0.3-0.4 s on a 2-core machine).
"""

import numba
import numpy as np
import torch

from ._word2vec import (_INC, _MULT, MAX_EXP, MAX_PIECE, TABLE_SIZE, _Engine, _tables,
                        epoch_seed)


@numba.njit(inline="always")
def _next(state):
    return state * np.uint64(_MULT) + np.uint64(_INC)


@numba.njit(inline="always")
def _mix(z):
    """splitmix64's finaliser: a well-spread 64-bit value from ``z``."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(inline="always")
def _uniform(state):
    return (state >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(inline="always")
def _noise_word(prob, alias, r):
    """Walker's alias method: column ``k`` from the integer part of ``r * n``,
    kept where the fractional part is below ``prob[k]``, else ``alias[k]``."""
    x = r * len(prob)
    k = min(int(x), len(prob) - 1)
    return k if x - k < prob[k] else alias[k]


@numba.njit(cache=True)
def noise_words_numba(prob, alias, n, seed):
    """``n`` noise words drawn exactly as the numba kernel draws them."""
    out = np.empty(n, dtype=np.int64)
    state = np.uint64(seed)
    for i in range(n):
        state = _next(state)
        out[i] = _noise_word(prob, alias, _uniform(state))
    return out


@numba.njit(cache=True)
def _alias_build(p):
    n = len(p)
    scaled = p * n
    prob = np.ones(n)
    alias = np.arange(n).astype(np.int32)
    # Stacks of the columns below and at or above their share.
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    below = np.flatnonzero(scaled < 1.0)
    above = np.flatnonzero(scaled >= 1.0)
    n_small, n_large = len(below), len(above)
    small[:n_small] = below
    large[:n_large] = above
    while n_small > 0 and n_large > 0:
        n_small -= 1
        n_large -= 1
        lo, hi = small[n_small], large[n_large]
        prob[lo] = scaled[lo]
        alias[lo] = hi
        scaled[hi] = (scaled[hi] + scaled[lo]) - 1.0
        if scaled[hi] < 1.0:
            small[n_small] = hi
            n_small += 1
        else:
            large[n_large] = hi
            n_large += 1
    # What is left has probability 1 up to rounding: prob stays 1.
    return prob, alias


@numba.njit(fastmath=True, nogil=True, cache=True)
def _train_chunk(ids, piece_ptr, first, last, syn0, syn1, prob, alias, keep, window,
                 negative, alpha0, alpha_min, done, total, state, sig_t, logsig_t,
                 log1msig_t):
    """word2vec's skip-gram loop over pieces ``first..last``; updates in place."""
    dim = syn0.shape[1]
    scale = (TABLE_SIZE - 1) / (2 * MAX_EXP)
    buf = np.empty(MAX_PIECE, dtype=np.int32)
    neu1e = np.empty(dim, dtype=np.float32)
    loss = 0.0
    pairs = 0
    predictions = 0
    kept = 0
    for p in range(first, last):
        start, end = piece_ptr[p], piece_ptr[p + 1]
        alpha = max(alpha0 - (alpha0 - alpha_min) * (done + start) / total, alpha_min)
        n = 0
        for t in range(start, end):
            w = ids[t]
            if keep[w] < 1.0:
                state = _next(state)
                if keep[w] < _uniform(state):
                    continue
            buf[n] = w
            n += 1
        kept += n
        for i in range(n):
            state = _next(state)
            b = np.int64((state >> np.uint64(33)) % np.uint64(window))
            center = buf[i]
            for j in range(max(0, i - window + b), min(n, i + window + 1 - b)):
                if j == i:
                    continue
                w_in = buf[j]
                neu1e[:] = 0.0
                for d in range(negative + 1):
                    if d == 0:
                        target = center
                        label = 1.0
                    else:
                        state = _next(state)
                        target = _noise_word(prob, alias, _uniform(state))
                        if target == center:
                            continue
                        label = 0.0
                    f = np.float32(0.0)
                    for k in range(dim):
                        f += syn0[w_in, k] * syn1[target, k]
                    if f >= MAX_EXP:  # saturated, as word2vec.c: g uses 1 or 0
                        s = 1.0
                        ls = logsig_t[TABLE_SIZE - 1]
                        l1s = log1msig_t[TABLE_SIZE - 1]
                    elif f > -MAX_EXP:
                        # Clamped: never an index outside the tables, even for a
                        # diverged (non-finite) f, which fit then reports.
                        idx = min(max(int((f + MAX_EXP) * scale + 0.5), 0), TABLE_SIZE - 1)
                        s = sig_t[idx]
                        ls = logsig_t[idx]
                        l1s = log1msig_t[idx]
                    else:
                        s = 0.0
                        ls = logsig_t[0]
                        l1s = log1msig_t[0]
                    loss -= ls if label > 0 else l1s
                    predictions += 1
                    g = np.float32((label - s) * alpha)
                    for k in range(dim):
                        neu1e[k] += g * syn1[target, k]
                        syn1[target, k] += g * syn0[w_in, k]
                for k in range(dim):
                    syn0[w_in, k] += neu1e[k]
                pairs += 1
    return loss, pairs, predictions, kept


@numba.njit(parallel=True, nogil=True, cache=True)
def _sg_epoch_numba(ids, piece_ptr, chunk_ptr, syn0, syn1, prob, alias, keep, window,
                    negative, alpha0, alpha_min, done, total, seed, sig_t, logsig_t,
                    log1msig_t):
    n_chunks = len(chunk_ptr) - 1
    out = np.zeros((n_chunks, 4))
    for c in numba.prange(n_chunks):
        # Chunk c's stream starts at the c-th splitmix64 output after the
        # epoch's seed: distinct within an epoch, unrelated across epochs
        # and random_states (seed + small offsets made them overlap).
        state = _mix(np.uint64(seed) + np.uint64(c + 1) * np.uint64(0x9E3779B97F4A7C15))
        loss, pairs, predictions, kept = _train_chunk(
            ids, piece_ptr, chunk_ptr[c], chunk_ptr[c + 1], syn0, syn1, prob, alias, keep,
            window, negative, alpha0, alpha_min, done, total, state, sig_t, logsig_t,
            log1msig_t)
        out[c, 0] = loss
        out[c, 1] = pairs
        out[c, 2] = predictions
        out[c, 3] = kept
    return out.sum(axis=0)


def alias_tables(cum):
    """Walker's alias tables ``(prob, alias)`` for the noise distribution whose
    cumulative sums are ``cum``: ``_noise_word`` then draws word ``i`` with
    probability ``cum[i] - cum[i - 1]`` exactly (to float64 rounding) from one
    uniform number. They take 12 bytes a word, so they stay in the CPU's cache;
    word2vec's unigram table (1e8 entries; 100 per word here before) does not,
    and its random reads were half of the kernel's time (benchmarks/RESULTS.md).
    """
    p = np.diff(np.asarray(cum, dtype=np.float64), prepend=0.0)
    return _alias_build(np.maximum(p, 0.0))


def train_epoch_numba(ids, piece_ptr, syn0, syn1, noise, keep, *, window, negative, alpha0,
                      alpha_min, done, total, seed, n_chunks):
    """One epoch in place on ``syn0``/``syn1``; ``noise`` is ``alias_tables(cum)``.

    Returns (loss sum, pairs, predictions (pairs and noise words), kept words).
    """
    # Several chunks per thread balance uneven pieces.
    bounds = np.linspace(0, len(piece_ptr) - 1, n_chunks + 1).round().astype(np.int64)
    loss, pairs, predictions, kept = _sg_epoch_numba(
        ids, piece_ptr, bounds, syn0, syn1, *noise, keep, window, negative, alpha0, alpha_min,
        done, total, seed, *_tables())
    return loss, int(pairs), int(predictions), int(kept)


class NumbaEngine(_Engine):
    """word2vec's loop compiled with numba, on ``n_threads`` Hogwild workers."""

    def __init__(self, ids, piece_ptr, syn0, syn1, keep, cum, **kwargs):
        super().__init__(ids, piece_ptr, syn0, syn1, keep, cum, **kwargs)
        self.noise = alias_tables(cum)

    def __enter__(self):
        # The first call starts numba's OpenMP layer, which resets the OpenMP
        # thread count torch reads too: keep the caller's torch setting.
        torch_threads = torch.get_num_threads()
        self.old_threads = numba.get_num_threads()
        torch.set_num_threads(torch_threads)
        numba.set_num_threads(min(self.n_threads, numba.config.NUMBA_NUM_THREADS))
        return self

    def __exit__(self, *exc_info):
        numba.set_num_threads(self.old_threads)
        return False

    def epoch(self, epoch):
        loss, pairs, predictions, words = train_epoch_numba(
            self.ids, self.piece_ptr, self.syn0, self.syn1, self.noise, self.keep,
            done=epoch * len(self.ids), seed=epoch_seed(self.seed, epoch),
            n_chunks=8 * self.n_threads,
            **self.params)
        return dict(loss=loss, predictions=predictions, pairs=pairs, words=words)
