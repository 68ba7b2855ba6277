"""Word embeddings learnt inside ``fit``: word2vec skip-gram as a transformer."""

import functools
import os
import re
import sys
import time
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import (Interval, StrOptions, make_constraint,
                                            validate_parameter_constraints)
from sklearn.utils.validation import (_check_feature_names, _get_feature_names,
                                      check_is_fitted)

from . import _word2vec
from ._base import public_init, store_parameters
from .utils import (check_count, check_thread_count, draw_seed, refuse_bool_numbers,
                    resolve_device)

#: Largest ``negative``: word2vec's papers use 2-20; each pair costs ``1 + negative``
#: updates, and the torch engine stages ``negative`` noise words per pair.
MAX_NEGATIVE = 1000
#: ``ns_exponent`` range: word2vec uses 0.75, recommendation work -1 to 1; beyond
#: a few units the noise distribution is one word (or overflows).
MAX_NS_EXPONENT = 10.0


#: The default pattern on ASCII text, which has no combining marks (the same tokens).
_ASCII_TOKEN = re.compile(r"\b\w[\w']*\b")


@functools.cache
def _token_pattern():
    """The default tokenizer's regular expression, built on first use (a scan of
    every code point, about 0.2 s).

    A token starts with a word character (``\\w``) and runs over word
    characters, combining marks (Unicode categories Mn, Mc, Me, which Python's
    ``\\w`` leaves out: the accent of a decomposed "é", the dot of a lowercased
    "İ", Devanagari vowel signs) and apostrophes, less the apostrophes that end
    it. Without marks it is ``\\b\\w[\\w']*\\b``, sklearn's default pattern
    with apostrophes. The marks outside the Basic Multilingual Plane are a
    second character class: in one class with them, every character is tested
    against a list of ranges (5x slower). ASCII text, which has no marks, takes the
    plain pattern (1.6x faster than this one on English news).
    """
    ranges = {True: [], False: []}   # in the BMP or not
    start = None
    for code in range(sys.maxunicode + 2):
        if code <= sys.maxunicode and unicodedata.category(chr(code))[0] == "M":
            if start is None:
                start = code
        elif start is not None:
            ranges[start < 0x10000].append(f"\\U{start:08x}-\\U{code - 1:08x}")
            start = None
    bmp, astral = "".join(ranges[True]), "".join(ranges[False])
    return re.compile(rf"\b\w(?:[\w'{bmp}]|[{astral}])*(?<!')")


def _document_blocks(doc_ptr, block_tokens):
    """``(first, last)`` ranges of documents (``doc_ptr`` their token offsets)
    of about ``block_tokens`` tokens each, at least one document each."""
    n_docs, first = len(doc_ptr) - 1, 0
    while first < n_docs:
        last = int(np.searchsorted(doc_ptr, doc_ptr[first] + block_tokens, side="right"))
        last = min(max(last - 1, first + 1), n_docs)
        yield first, last
        first = last


class UnknownWordError(KeyError, ValueError):
    """A word that is not in the vocabulary.

    A ``KeyError``, as gensim's ``KeyedVectors`` raise, and a ``ValueError``, as
    for any input a user can get wrong; its message is printed without the
    quotes ``KeyError`` adds.
    """

    def __str__(self):
        return str(self.args[0]) if self.args else ""


#: What fit learns (removed first, so that a failed refit leaves none of it).
_FITTED = ("vocabulary_", "idf_", "embeddings_", "history_", "n_features_in_",
           "feature_names_in_")


@functools.cache
def _transform_constraints(cls):
    """The constraints of the parameters that ``transform`` reads, made once (making
    them took most of transforming one document)."""
    return {k: [make_constraint(c) for c in cls._parameter_constraints[k]]
            for k in ("aggregate", "empty", "tokenizer", "lowercase")}


@public_init
class SkipGramTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Word2vec skip-gram embeddings trained on your corpus, one row per document.

    ``fit`` learns word vectors with skip-gram and negative sampling, as
    word2vec and gensim's ``Word2Vec(sg=1)`` do: vocabulary scan with
    ``min_count`` (and ``max_vocab_size``), frequent-word subsampling,
    negatives drawn from the unigram distribution to the 0.75 power, a
    shrinking window and a learning rate decaying linearly from ``lr`` to
    ``min_lr``. ``transform`` turns each document into the mean (or sum, max,
    TF-IDF-weighted mean) of its words' vectors, so the transformer sits in a
    Pipeline or ColumnTransformer and is refitted on each training fold.

    Parameters
    ----------
    vector_size : int, default=100
        Dimension of the word vectors.
    window : int, default=5
        Largest distance between a word and its context; each position draws
        an effective window from 1 to ``window``. At most 10,000, word2vec's
        longest sentence (longer documents are cut into pieces of that size).
    min_count : int, default=5
        Words seen fewer times are dropped.
    max_vocab_size : int or None, default=None
        Keep exactly this many of the most frequent words (of those seen
        ``min_count`` times), cut after the whole corpus is counted: what
        gensim's ``max_final_vocab`` aims at, except that words tied at the
        cut are kept in vocabulary order rather than all dropped. (gensim's
        ``max_vocab_size`` of the same name instead bounds memory during its
        scan, pruning rare words early, and keeps fewer words.)
        The vocabulary is ordered as gensim orders it: most frequent first,
        words of equal count in reverse order of first appearance.
    sample : float in [0, 1), default=1e-3
        Subsampling threshold, a fraction of the corpus: a word of corpus
        frequency ``f`` is kept with probability
        ``(sqrt(f / sample) + 1) * sample / f`` (at most 1); 0 turns
        subsampling off. (gensim reads ``sample >= 1`` as a count of
        occurrences instead; here that is an error rather than a silent
        "keep every word".)
    negative : int, default=5
        Noise words per (word, context) pair, at most 1000.
    ns_exponent : float, default=0.75
        Exponent of the unigram counts in the noise distribution, in [-10, 10].
    epochs : int, default=5
        Passes over the corpus.
    lr, min_lr : float, default=0.025, 1e-4
        Learning rate at the start and the end of training (linear decay);
        a ``min_lr`` above ``lr`` is taken as ``lr`` (a constant rate), so a
        search over small ``lr`` values keeps the default ``min_lr``.
    tokenizer : callable or None, default=None
        ``str -> list of str``. None: the text is put in Unicode normal form
        NFC, lowercased (see ``lowercase``) and put in NFC again, then split
        into tokens that start with a word character (``\\w``) and run over
        word characters, combining marks and apostrophes, less trailing
        apostrophes (sklearn's ``\\b\\w[\\w']*\\b`` that also keeps marks,
        which ``\\w`` leaves out). So decomposed (NFD) and composed text give
        the same tokens, and a lowercased "İstanbul" stays one word ("i" and
        a combining dot above, Unicode's lowercase). Documents given as lists
        of strings are taken as already tokenised, as they are.
    lowercase : bool, default=True
        Lowercase documents before the default tokenizer.
    aggregate : {"mean", "sum", "max", "tfidf"}, default="mean"
        How ``transform`` combines a document's word vectors; "tfidf" weights
        each occurrence by the word's inverse document frequency in the fit
        corpus.
    empty : {"zeros", "error"}, default="zeros"
        What ``transform`` does with a document that has no known word.
    engine : {"auto", "numba", "torch"}, default="auto"
        "numba" runs the compiled word2vec loop on the CPU (needs numba: ``pip
        install sklearn_rnn[text]``); "torch" trains batched on ``device``.
        "auto": numba on the CPU when installed, else torch.
    batch_pairs : int, default=2048
        Pairs per update of the torch engine (its buffers hold up to 64
        batches, never more pairs than the corpus can give). A batch's updates
        are applied at once, as concurrent Hogwild threads would, so a
        frequent word's row sums many of them; a word used more than 32 times
        in a batch applies 32 uses' worth (without that, a 50-word vocabulary
        diverged at the default). Before that cap 16384 diverged on a
        500k-token news corpus at ``lr=0.025`` and 512-4096 trained stably
        there (2048 and 8192 on the full 2.2M tokens;
        ``benchmarks/RESULTS.md``). On a corpus of a few thousand tokens use a
        few hundred.
    n_threads : int, default=1
        CPU threads: the numba engine's Hogwild workers (as word2vec), or
        PyTorch's intra-op threads while the torch engine trains (restored
        afterwards). With one thread the same ``random_state`` gives
        identical vectors.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial vectors and the training draws (subsampling,
        window sizes, noise words); see ``n_threads`` for when results are
        identical. Never changes numpy's global random state.
    device : str, default="cpu"
        Device of the torch engine ("cpu", "cuda", "auto").
    fast_path : bool, default=True
        On a GPU, replay each batch's update as a CUDA graph (one launch
        instead of ~30 kernels launched from Python); same updates, same
        results to float32 rounding. False launches every kernel eagerly, for
        debugging. No effect on the CPU.
    verbose : int, default=0
        Print each epoch's loss and tokens/s.

    Attributes
    ----------
    vocabulary_ : dict
        Word -> row of ``embeddings_``, most frequent first.
    embeddings_ : ndarray of shape (n_words, vector_size)
        The trained word vectors (word2vec's input vectors).
    idf_ : ndarray of shape (n_words,)
        Smoothed inverse document frequencies (for ``aggregate="tfidf"``).
    history_ : list of dict
        Per epoch: ``epoch`` (from 1), ``loss`` (mean negative
        log-likelihood per prediction: the pair and each noise word; NaN in
        an epoch that trained no pair, which fit warns about), ``pairs``,
        ``words`` (after subsampling), ``seconds``, ``tokens_per_s`` (corpus
        tokens / s);
        with the torch engine also ``graph_steps`` (updates replayed as CUDA
        graphs; 0 on the CPU).
    n_features_in_ : int
        1: one column of text.
    feature_names_in_ : ndarray of str
        The column's name, when ``X`` was a one-column DataFrame.

    Examples
    --------
    >>> from sklearn_rnn import SkipGramTransformer
    >>> texts = ["the cat sat on the mat", "the dog sat on the log"] * 50
    >>> sg = SkipGramTransformer(vector_size=8, min_count=1, epochs=2, random_state=0)
    >>> sg.fit_transform(texts).shape
    (100, 8)
    >>> sorted(sg.vocabulary_)[:3]
    ['cat', 'dog', 'log']
    """

    _parameter_constraints = {
        "vector_size": [Interval(Integral, 1, None, closed="left")],
        "window": [Interval(Integral, 1, _word2vec.MAX_PIECE, closed="both")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
        "max_vocab_size": [None, Interval(Integral, 1, None, closed="left")],
        "sample": [Interval(Real, 0, 1, closed="left")],
        "negative": [Interval(Integral, 1, MAX_NEGATIVE, closed="both")],
        "ns_exponent": [Interval(Real, -MAX_NS_EXPONENT, MAX_NS_EXPONENT, closed="both")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "min_lr": [Interval(Real, 0, None, closed="left")],
        "tokenizer": [None, callable],
        "lowercase": ["boolean"],
        "aggregate": [StrOptions({"mean", "sum", "max", "tfidf"})],
        "empty": [StrOptions({"zeros", "error"})],
        "engine": [StrOptions({"auto", "numba", "torch"})],
        "batch_pairs": [Interval(Integral, 1, None, closed="left")],
        "n_threads": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str],
        "fast_path": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(self, vector_size=100, *, window=5, min_count=5, max_vocab_size=None,
                 sample=1e-3, negative=5, ns_exponent=0.75, epochs=5, lr=0.025, min_lr=1e-4,
                 tokenizer=None, lowercase=True, aggregate="mean", empty="zeros",
                 engine="auto", batch_pairs=2048, n_threads=1, random_state=None,
                 device="cpu", fast_path=True, verbose=0):
        store_parameters(self, locals())

    # ------------------------------------------------------------ documents
    def build_analyzer(self):
        """The callable that turns one document into its tokens, as ``fit`` and
        ``transform`` do (lowercasing and ``tokenizer`` included); named after
        scikit-learn's ``CountVectorizer.build_analyzer``.

        Returns
        -------
        analyzer : callable
            ``str -> list of str`` (bytes are decoded as UTF-8; a document
            given as a list of str is returned as it is).

        Examples
        --------
        >>> from sklearn_rnn import SkipGramTransformer
        >>> SkipGramTransformer().build_analyzer()("Cafe\u0301 au lait, isn't it?")
        ['café', 'au', 'lait', "isn't", 'it']
        """
        return functools.partial(self._tokens, i=0)

    def _tokens(self, doc, i):
        if isinstance(doc, bytes):
            try:
                doc = doc.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"Document {i} is bytes that are not valid UTF-8 ({exc}); "
                                 "decode it with the right encoding first.") from None
        if isinstance(doc, str):
            if self.tokenizer is None:
                if doc.isascii():  # no marks to keep: the plain pattern, 1.6x faster
                    return _ASCII_TOKEN.findall(doc.lower() if self.lowercase else doc)
                doc = unicodedata.normalize("NFC", doc)
                if self.lowercase:  # lowercasing can decompose ("İ" -> "i" + U+0307)
                    doc = unicodedata.normalize("NFC", doc.lower())
                return _token_pattern().findall(doc)
            tokens = self.tokenizer(doc)
            if not isinstance(tokens, (str, bytes)) and isinstance(tokens, Iterable):
                tokens = list(tokens)
                if all(isinstance(t, str) for t in tokens):
                    return tokens
            raise TypeError(f"tokenizer must return a list of string tokens; for "
                            f"document {i} it returned {tokens!r:.60}.")
        if isinstance(doc, (list, tuple)) and all(isinstance(t, str) for t in doc):
            return doc
        raise TypeError(f"Document {i} is {type(doc).__name__} {doc!r:.40}; expected a "
                        "string or a list of string tokens.")

    def _documents(self, X):
        """Iterate over the documents of ``X`` (one text column)."""
        if isinstance(X, (str, bytes)):
            raise TypeError("X must be an iterable of documents (a list, Series or "
                            "one-column array of strings), not a single string.")
        if isinstance(X, pd.DataFrame):
            if X.shape[1] != 1:
                raise ValueError(f"X has {X.shape[1]} columns; SkipGramTransformer takes "
                                 "one text column (select it, e.g. in a ColumnTransformer).")
            return X.iloc[:, 0]
        if isinstance(X, np.ndarray):
            if X.ndim == 2 and X.shape[1] == 1:
                return X[:, 0]
            if X.ndim != 1:
                raise ValueError(f"X has shape {X.shape}; expected one column of text.")
        if not hasattr(X, "__iter__"):
            raise TypeError(f"X must be an iterable of documents, got {type(X).__name__}.")
        return X

    def _scan(self, X):
        """One pass over the corpus: token ids (by first appearance) and document offsets."""
        lookup, ids, doc_ptr = {}, [], [0]
        n_docs = 0
        for i, doc in enumerate(self._documents(X)):
            tokens = self._tokens(doc, i)
            ids.append(np.fromiter((lookup.setdefault(t, len(lookup)) for t in tokens),
                                   dtype=np.int32, count=len(tokens)))
            doc_ptr.append(doc_ptr[-1] + len(tokens))
            n_docs += 1
        if n_docs == 0:
            raise ValueError("The corpus is empty: SkipGramTransformer needs documents.")
        ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32)
        return lookup, ids, np.asarray(doc_ptr, dtype=np.int64)

    # ------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        """Learn word vectors from the documents of ``X``.

        Parameters
        ----------
        X : iterable of str or of lists of str
            A list, Series, one-column DataFrame/array, or any re-iterable
            object (such as one streaming lines from a file); it is read once.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        refuse_bool_numbers(self)
        check_thread_count(self.n_threads, none_allowed=False)
        self._engine(resolve_device(self.device))  # refused before the corpus is read
        for attr in _FITTED:  # a refit that fails leaves no stale vectors behind
            self.__dict__.pop(attr, None)
        feature_names = _get_feature_names(X)  # set once training succeeded
        started = time.perf_counter()
        lookup, raw_ids, doc_ptr = self._scan(X)
        counts = np.bincount(raw_ids, minlength=len(lookup))
        # Most frequent first, ties in reverse order of first appearance (gensim's
        # order, so that restrict_vocab cuts where gensim's does).
        order = np.lexsort((-np.arange(len(counts)), -counts))
        order = order[counts[order] >= self.min_count][:self.max_vocab_size]
        if len(order) == 0:
            raise ValueError(f"No word appears at least min_count={self.min_count} times in "
                             f"the corpus ({len(lookup)} distinct words, {len(raw_ids)} "
                             "tokens); lower min_count or give more text.")
        remap = np.full(len(lookup), -1, dtype=np.int32)
        remap[order] = np.arange(len(order))
        words = np.array(list(lookup), dtype=object)[order]
        kept = remap[raw_ids]
        del raw_ids
        # Drop out-of-vocabulary tokens, as word2vec does, and move document ends.
        known = kept >= 0
        doc_ptr = np.concatenate([[0], np.cumsum(known, dtype=np.int64)])[doc_ptr]
        ids = kept[known]
        counts = counts[order].astype(np.float64)
        idf = self._idf(ids, doc_ptr, len(words))
        history = []
        embeddings = self._train(ids, doc_ptr, counts, n_raw=len(kept), started=started,
                                 history=history)
        self.vocabulary_ = {w: i for i, w in enumerate(words)}
        self.idf_, self.n_features_in_ = idf, 1
        self.history_, self.embeddings_ = history, embeddings
        if feature_names is not None:
            self.feature_names_in_ = feature_names
        return self

    @staticmethod
    def _idf(ids, doc_ptr, n_words, block_tokens=1 << 20):
        """Smoothed idf, as sklearn's TfidfTransformer; documents in blocks of about
        ``block_tokens`` tokens bound the temporary (document, word) keys."""
        n_docs = len(doc_ptr) - 1
        df = np.zeros(n_words, dtype=np.int64)
        for first, last in _document_blocks(doc_ptr, block_tokens):
            lo, hi = doc_ptr[first], doc_ptr[last]
            doc_of = np.repeat(np.arange(last - first, dtype=np.int64),
                               np.diff(doc_ptr[first:last + 1]))
            df += np.bincount(np.unique(doc_of * n_words + ids[lo:hi]) % n_words,
                              minlength=n_words)
        return (np.log((1 + n_docs) / (1 + df)) + 1).astype(np.float32)

    def keep_probabilities(self, counts):
        """word2vec's subsampling: the probability of keeping each occurrence.

        Parameters
        ----------
        counts : array-like of shape (n_words,)
            Corpus count of each word (positive).

        Returns
        -------
        keep : ndarray of shape (n_words,)
            ``(sqrt(f / sample) + 1) * sample / f`` for a word of corpus
            frequency ``f = count / sum(counts)``, at most 1; all ones with
            ``sample=0``.
        """
        counts = np.asarray(counts, dtype=np.float64)
        if self.sample == 0:
            return np.ones(len(counts))
        threshold = self.sample * counts.sum()
        return np.minimum((np.sqrt(counts / threshold) + 1) * threshold / counts, 1.0)

    def noise_distribution(self, counts):
        """Negative-sampling probabilities: unigram counts to the ``ns_exponent``.

        Parameters
        ----------
        counts : array-like of shape (n_words,)
            Corpus count of each word.

        Returns
        -------
        p : ndarray of shape (n_words,)
            ``counts ** ns_exponent``, normalised to sum to 1. A ValueError
            when that overflows or vanishes.
        """
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            weights = np.asarray(counts, dtype=np.float64) ** self.ns_exponent
            p = weights / weights.sum()
        if not (np.isfinite(p).all() and p.sum() > 0):
            raise ValueError(f"ns_exponent={self.ns_exponent} makes the noise distribution "
                             "overflow or vanish for these counts; use a value nearer "
                             "0.75 (word2vec's).")
        return p

    def _engine(self, device):
        engine = self.engine
        if engine == "auto":
            engine = "numba" if device.type == "cpu" and _word2vec.numba_available() else "torch"
        if engine == "numba":
            if not _word2vec.numba_available():
                raise ValueError("engine='numba' needs numba: pip install sklearn_rnn[text] "
                                 "(or numba), or use engine='torch'.")
            if device.type != "cpu":
                raise ValueError(f"engine='numba' runs on the CPU; device={self.device!r} "
                                 "needs engine='torch'.")
        return engine

    def _train(self, ids, doc_ptr, counts, *, n_raw, started, history):
        seed = draw_seed(self.random_state)
        rng = np.random.default_rng(seed)
        device = resolve_device(self.device)
        engine = self._engine(device)
        dim = self.vector_size
        syn0 = ((rng.random((len(counts), dim), dtype=np.float32) - 0.5) / dim)
        cum = np.cumsum(self.noise_distribution(counts))
        cum[-1] = 1.0
        tables = dict(ids=ids, piece_ptr=_word2vec.pieces(doc_ptr), syn0=syn0,
                      syn1=np.zeros_like(syn0),
                      keep=self.keep_probabilities(counts).astype(np.float32), cum=cum,
                      seed=seed, n_threads=self.n_threads, window=self.window,
                      negative=self.negative, alpha0=self.lr,
                      # A min_lr above lr (lr searched below the default 1e-4): constant lr.
                      alpha_min=min(self.min_lr, self.lr),
                      total=float(self.epochs * max(len(ids), 1)))
        if engine == "numba":
            trainer = _word2vec.NumbaEngine(**tables)
        else:
            trainer = _word2vec.TorchEngine(**tables, device=device, batch_pairs=self.batch_pairs,
                                            capture=self._capture_steps(device))
        with trainer:
            for epoch in range(self.epochs):
                tic = time.perf_counter()
                epoch_counts = trainer.epoch(epoch)
                seconds = time.perf_counter() - tic
                total_loss, predictions = epoch_counts.pop("loss"), epoch_counts.pop("predictions")
                # No prediction, no loss: NaN rather than a perfect-looking 0.
                loss = total_loss / predictions if predictions else float("nan")
                record = {"epoch": epoch + 1, "loss": loss,
                          **{key: int(value) for key, value in epoch_counts.items()},
                          "seconds": seconds,
                          "tokens_per_s": n_raw / seconds if seconds > 0 else float("inf")}
                history.append(record)
                if not ((np.isfinite(loss) or not predictions) and trainer.finite()):
                    raise ValueError(
                        f"Training diverged in epoch {epoch + 1}: the word vectors became "
                        f"NaN or infinite. lr={self.lr} is too large for this corpus; "
                        "try a smaller lr.")
                if self.verbose:
                    print(f"epoch {epoch + 1}/{self.epochs}: loss {loss:.4f}, "
                          f"{record['tokens_per_s']:,.0f} tokens/s, {record['pairs']:,} pairs, "
                          f"{seconds:.2f}s")
        trainer.finish(self.verbose)
        idle = [record["epoch"] for record in history if record["pairs"] == 0]
        if idle:
            warnings.warn(
                f"No (word, context) pair was trained in {len(idle)} of {self.epochs} "
                f"epoch(s) ({idle[:5]}): the corpus ({len(ids):,} tokens in the vocabulary) "
                "has no two words in one document after subsampling, so those epochs left "
                "the vectors as they were (their loss is NaN). Use sample=0, a lower "
                "min_count or more text.", UserWarning, stacklevel=3)
        if self.verbose:
            print(f"trained {len(counts):,} words in {time.perf_counter() - started:.1f}s")
        return trainer.vectors()

    def _capture_steps(self, device):
        """Whether the torch engine records its steps as CUDA graphs (the
        tests' seam for the CPU)."""
        return self.fast_path and device.type == "cuda"

    # ------------------------------------------------------------ transform
    def fit_transform(self, X, y=None):
        """Fit on the documents of ``X``, then transform them.

        Both passes need the documents, so a one-shot iterator (a generator,
        an open file) is read into a list first; a re-iterable corpus is read
        twice, not held.

        Parameters
        ----------
        X : iterable of str or of lists of str
            The documents, in the forms ``fit`` takes.
        y : None
            Ignored.

        Returns
        -------
        X_new : ndarray of shape (n_documents, vector_size)
            One row per document, as ``transform`` gives (float32).
        """
        if isinstance(X, Iterator):
            X = list(X)
        return self.fit(X, y).transform(X)

    def transform(self, X):
        """One row per document: the aggregate of its known words' vectors.

        Parameters
        ----------
        X : iterable of str or of lists of str
            The documents: a list, Series, one-column DataFrame/array or any
            iterable of texts (or of lists of tokens, taken as they are).

        Returns
        -------
        X_new : ndarray of shape (n_documents, vector_size)
            float32; ``aggregate`` of each document's vectors, zeros for a
            document without a known word (``empty="zeros"``).
        """
        if not hasattr(self, "embeddings_"):  # (check_is_fitted: 25 us a call)
            check_is_fitted(self)
        # What transform reads may have been set after fit: checked as fit checks it
        # (an unchecked aggregate='MEAN' was summed), with the error of fit's check.
        read = _transform_constraints(type(self))
        if not all(any(c.is_satisfied_by(getattr(self, k)) for c in constraints)
                   for k, constraints in read.items()):
            validate_parameter_constraints({k: self._parameter_constraints[k] for k in read},
                                           {k: getattr(self, k) for k in read},
                                           caller_name=type(self).__name__)
        documents = self._documents(X)  # (refuses a frame of two columns first)
        _check_feature_names(self, X, reset=False)  # (both ways, as scikit-learn warns)
        rows, ptr = [], [0]
        for i, doc in enumerate(documents):
            ids = [self.vocabulary_[t] for t in self._tokens(doc, i) if t in self.vocabulary_]
            rows.extend(ids)
            ptr.append(len(rows))
        ids, ptr = np.asarray(rows, dtype=np.int64), np.asarray(ptr)
        lengths = np.diff(ptr)
        if self.empty == "error" and (lengths == 0).any():
            bad = np.flatnonzero(lengths == 0)[:5].tolist()
            raise ValueError(f"Documents {bad} have no word of the vocabulary "
                             "(empty='error'); use empty='zeros' to map them to zeros.")
        n_words, size = self.embeddings_.shape
        out = np.zeros((len(lengths), size), dtype=np.float32)
        has = lengths > 0
        if not has.any():
            return out
        # Blocks of documents bound the (tokens, vector_size) temporary (4 MB);
        # within one, reduceat sums as accurately as before (a sparse product
        # summed long documents in float32 one word after another: 1e4x the
        # rounding error at 1M tokens).
        reduce = np.maximum.reduceat if self.aggregate == "max" else np.add.reduceat
        for first, last in _document_blocks(ptr, max(1, (1 << 20) // size)):
            block = has[first:last]
            if not block.any():
                continue
            lo, hi = ptr[first], ptr[last]
            vectors, starts = self.embeddings_[ids[lo:hi]], ptr[first:last][block] - lo
            if self.aggregate == "tfidf":
                weights = self.idf_[ids[lo:hi]]
                vectors *= weights[:, None]
                out[first:last][block] = (reduce(vectors, starts)
                                          / np.add.reduceat(weights, starts)[:, None])
            else:
                out[first:last][block] = reduce(vectors, starts)
            del vectors  # before the next block's (one block at a time)
        if self.aggregate == "mean":
            out[has] /= lengths[has][:, None]
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return super().get_feature_names_out(input_features)

    @property
    def _n_features_out(self):
        return self.embeddings_.shape[1]  # the fitted size, whatever vector_size says now

    # ------------------------------------------------------------ word queries
    def _vector(self, word):
        check_is_fitted(self)
        try:
            return self.embeddings_[self.vocabulary_[word]]
        except (KeyError, TypeError):  # TypeError: an unhashable "word"
            raise UnknownWordError(f"{word!r} is not in the vocabulary ({len(self.vocabulary_)} "
                           f"words seen at least min_count={self.min_count} times).") from None

    def _unit(self):
        norms = np.linalg.norm(self.embeddings_, axis=1, keepdims=True)
        return self.embeddings_ / np.where(norms > 0, norms, 1)

    def similarity(self, word1, word2):
        """Cosine similarity of two words' vectors.

        A word not in ``vocabulary_`` raises ``UnknownWordError``, both a
        ``KeyError`` (as gensim's) and a ``ValueError``.

        Parameters
        ----------
        word1, word2 : str
            Words of ``vocabulary_``.

        Returns
        -------
        similarity : float
            In [-1, 1]; 0 when either vector is zero.
        """
        a, b = self._vector(word1), self._vector(word2)
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) or 1.0))

    def most_similar(self, word, topn=10):
        """The ``topn`` words closest to ``word`` (a word or a vector) by cosine.

        Parameters
        ----------
        word : str or array-like of shape (vector_size,)
            A word of ``vocabulary_`` (left out of the answer) or a finite
            vector. An unknown word raises ``UnknownWordError`` (a
            ``KeyError``, as gensim's, and a ``ValueError``).
        topn : int >= 0 or None, default=10
            How many words to return; 0 gives ``[]`` (as gensim), None every
            word, in order (a list here, where gensim returns the array of
            all similarities).

        Returns
        -------
        list of (word, similarity)
        """
        check_count(topn, "topn", low=0, none=True)
        if isinstance(word, str):
            query = self._vector(word)
        else:
            check_is_fitted(self)
            try:
                query = np.asarray(word, dtype=np.float32)
            except (TypeError, ValueError):
                query = None
            if query is None or query.shape != self.embeddings_.shape[1:]:
                raise ValueError(f"most_similar takes a word or a vector of "
                                 f"{self.embeddings_.shape[1]} numbers (the fitted "
                                 f"vector_size); got {word!r:.80}.")
            if not np.isfinite(query).all():
                raise ValueError(f"most_similar takes a finite vector; got {word!r:.80}.")
        sims = self._unit() @ (query / (np.linalg.norm(query) or 1.0))
        if isinstance(word, str):
            sims[self.vocabulary_[word]] = -np.inf
        best = np.argsort(-sims)[:None if topn is None else int(topn)]
        words = list(self.vocabulary_)
        return [(words[i], float(sims[i])) for i in best if np.isfinite(sims[i])]

    def evaluate_word_pairs(self, pairs, *, delimiter="\t", restrict_vocab=300000,
                            case_insensitive=True):
        """Correlate cosine similarities with human judgements, as gensim reports it.

        Parameters
        ----------
        pairs : path or iterable of (word1, word2, score)
            A file of ``word1<TAB>word2<TAB>score`` lines, such as WordSim353,
            or the triples themselves. As gensim does, lines starting with
            ``#`` are comments, and lines that are not two words and a number
            (a header such as ``Word 1<TAB>Word 2<TAB>Human (mean)``) are
            skipped, with one warning that counts them and quotes the first;
            neither counts as a pair. Triples given directly must all be
            (word, word, number): a ValueError names the first that is not.

        delimiter : str, default="\\t"
            The field separator of a file.
        restrict_vocab : int or None, default=300000
            Only this many of the most frequent words count as known, as in
            gensim (None: the whole vocabulary).
        case_insensitive : bool, default=True
            Match words whatever their case, as gensim does: a word of the
            pairs stands for the most frequent vocabulary word that equals it
            when both are upper-cased (``str.upper``, gensim's rule; so the
            Turkish dotless "ı" matches "i", as there).

        Returns
        -------
        pearson : scipy PearsonRResult
        spearman : scipy SignificanceResult
        oov_ratio : float
            Percentage of pairs skipped because a word is not in the vocabulary.
        """
        check_is_fitted(self)
        check_count(restrict_vocab, "restrict_vocab", none=True)
        if isinstance(pairs, (str, bytes)) or hasattr(pairs, "__fspath__"):
            triples, invalid = [], []
            with open(pairs, encoding="utf-8") as fh:
                for i, line in enumerate(fh, 1):
                    if not line.strip() or line.startswith("#"):
                        continue
                    fields = line.rstrip("\r\n").split(delimiter)
                    try:
                        a, b, score = fields
                        triples.append((a, b, float(score)))
                    except ValueError:
                        invalid.append((i, fields))
            if invalid:
                line, fields = invalid[0]
                warnings.warn(
                    f"evaluate_word_pairs skipped {len(invalid)} line(s) of {pairs} that are "
                    f"not (word1, word2, score) separated by {delimiter!r}, as gensim does; "
                    f"the first, line {line}, is {fields!r:.100}.", UserWarning, stacklevel=2)
        else:
            triples = []
            for i, triple in enumerate(pairs):
                try:
                    a, b, score = triple
                    triples.append((a, b, float(score)))
                except (TypeError, ValueError):
                    raise ValueError(f"evaluate_word_pairs reads (word1, word2, score) "
                                     f"triples; pair {i} is {triple!r}.") from None
        known = sorted(self.vocabulary_, key=self.vocabulary_.get)[:restrict_vocab]
        lookup = {word: word for word in known}
        if case_insensitive:
            lookup = {}
            for word in known:  # most frequent first
                lookup.setdefault(word.upper(), word)
        ours, theirs, oov = [], [], 0
        for a, b, score in triples:
            if case_insensitive:
                a, b = str(a).upper(), str(b).upper()
            a, b = lookup.get(a), lookup.get(b)
            if a is None or b is None:
                oov += 1
                continue
            ours.append(self.similarity(a, b))
            theirs.append(score)
        if len(ours) < 2:
            raise ValueError(f"Only {len(ours)} of {len(triples)} pairs have both words in "
                             "the vocabulary; nothing to correlate.")
        return (stats.pearsonr(ours, theirs), stats.spearmanr(ours, theirs),
                100.0 * oov / len(triples))

    def save_word2vec_format(self, path):
        """Write the vectors in word2vec's text format (gensim, fastText read it).

        The values read back exactly. A word containing whitespace cannot be
        written in this format (readers split lines on it): a ValueError names it.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (UTF-8), replaced if it exists: a header line
            ``n_words vector_size``, then one line per word, most frequent
            first.
        """
        check_is_fitted(self)
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file name (str or os.PathLike); got "
                            f"{type(path).__name__}: {path!r}.")
        spaced = next((w for w in self.vocabulary_ if any(c.isspace() for c in w)), None)
        if spaced is not None:
            raise ValueError(f"The vocabulary holds the word {spaced!r}, which word2vec's "
                             "text format cannot store (words are separated by whitespace "
                             "there); tokenise without whitespace inside words.")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"{len(self.vocabulary_)} {self.embeddings_.shape[1]}\n")
            for word, row in zip(self.vocabulary_, self.embeddings_):
                # str of a float32 is the shortest text that reads back exactly.
                fh.write(word + " " + " ".join(map(str, row)) + "\n")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        tags.transformer_tags.preserves_dtype = []  # text in, float32 vectors out
        # Hogwild numba workers race on the shared vectors, as GPU atomics add in any
        # order: the same random_state gives other vectors there.
        try:
            device = resolve_device(self.device)
            engine = self._engine(device)
        except (ValueError, TypeError, RuntimeError):  # a bad parameter: fit says so
            return tags
        tags.non_deterministic = device.type != "cpu" or (engine == "numba"
                                                          and self.n_threads != 1)
        return tags
