"""
Text completion with a character-level LSTM language model
==========================================================

:class:`~sklearn_rnn.language.RNNLanguageModel` learns to predict the next
character of a text. Trained here on English prose that ships with every
CPython installation (the topic help of ``pydoc``, module ``pydoc_data.topics``:
the Python documentation, under the PSF licence), it then

* scores held-out topics: mean log-likelihood per character and perplexity,
  against a unigram baseline (each character drawn from its training frequency);
* completes a few prefixes at two sampling temperatures.

Pass ``--text FILE`` to train on another plain-text file instead, such as a
public-domain book (paragraphs, split at blank lines, become the documents).
Run with ``--plot`` to save the training and validation loss curves.
"""

# %%
# The corpus: one document per help topic
# ---------------------------------------
# Runs of spaces (code indentation, table padding) are collapsed, so the model
# spends its capacity on words rather than on counting blanks. Held-out
# documents are whole topics the model never sees in training.
import argparse
import math
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

from sklearn_rnn.language import RNNLanguageModel

parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
parser.add_argument("--text", type=Path, help="train on this UTF-8 text file instead")
parser.add_argument("--max-chars", type=int, default=200_000,
                    help="training characters to use (default: %(default)s)")
parser.add_argument("--epochs", type=int, default=15, help="max epochs (default: %(default)s)")
parser.add_argument("--plot", action="store_true", help="save the loss curves")
parser.add_argument("--output", type=Path,
                    default=Path(__file__).resolve().parent / "output" / "text_completion.png",
                    help="the file (or folder) where --plot saves the figure (default: %(default)s)")
args = parser.parse_args()
if not args.output.suffix:  # a folder: the figure under its default name in it
    args.output = args.output / parser.get_default("output").name


def normalise(text):
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


if args.text is None:
    import pydoc_data.topics

    documents = [normalise(doc) for _, doc in sorted(pydoc_data.topics.topics.items())]
else:
    documents = [normalise(p) for p in re.split(r"\n\s*\n", args.text.read_text("utf-8"))]
documents = [doc for doc in documents if doc]
order = np.random.default_rng(0).permutation(len(documents))
n_test = max(1, len(documents) // 10)
test = [documents[i] for i in order[:n_test]]
train, n_chars = [], 0
for i in order[n_test:]:
    if n_chars >= args.max_chars:
        break
    train.append(documents[i])
    n_chars += len(documents[i])
print(f"{len(train)} training documents ({n_chars:,} characters), "
      f"{len(test)} held-out documents ({sum(map(len, test)):,} characters)")

# %%
# Fitting
# -------
# One LSTM layer of 128 units reads windows of 64 characters. Early stopping
# holds out the last 10% of the training stream and keeps the best epoch.
lm = RNNLanguageModel("lstm", hidden_size=128, sequence_length=64, batch_size=32,
                      max_epochs=args.epochs, lr=3e-3, patience=2, random_state=0,
                      n_threads=2)
start = time.perf_counter()
lm.fit(train)
fit_time = time.perf_counter() - start
print(f"fit: {lm.n_iter_} epochs in {fit_time:.0f} s, vocabulary of {len(lm.vocabulary_)} "
      "characters")
for epoch in lm.history_:
    print(f"  epoch {epoch['epoch']:2d}: train loss {epoch['train_loss']:.3f}, "
          f"valid loss {epoch['valid_loss']:.3f} nats/char ({epoch['dur']:.0f} s)")

# %%
# Held-out likelihood against a unigram baseline
# ----------------------------------------------
# Both count each document's end as a token, as ``score`` does. Characters
# the model never saw are scored as its "unknown" token (a large penalty);
# the unigram model gives them add-one smoothed counts.
def unigram_score(train, test):
    counts = Counter("".join(train))
    counts["<end>"] = len(train)
    vocab = set(counts) | set("".join(test))
    total = sum(counts.values()) + len(vocab)
    logp = {c: math.log((counts[c] + 1) / total) for c in vocab}
    ll = sum(logp[c] for doc in test for c in doc) + len(test) * logp["<end>"]
    return ll / sum(len(doc) + 1 for doc in test)


start = time.perf_counter()
score = lm.score(test)
score_time = time.perf_counter() - start
baseline = unigram_score(train, test)
print(f"\nheld-out log-likelihood per character: LSTM {score:.3f}, unigram {baseline:.3f}")
print(f"held-out perplexity: LSTM {math.exp(-score):.2f}, unigram {math.exp(-baseline):.2f} "
      f"(bits per character: {-score / math.log(2):.2f} vs {-baseline / math.log(2):.2f}; "
      f"scored in {score_time:.1f} s)")

# %%
# Completions at two temperatures
# -------------------------------
# At temperature 0.5 the model keeps to its most likely spellings and phrases;
# at 1.0 it samples its distribution as learnt, with more invented words.
prefixes = ["The ", "A function ", "If the value is "]
for temperature in (0.5, 1.0):
    print(f"\ntemperature={temperature}")
    completions = lm.complete(prefixes, max_length=120, temperature=temperature,
                              random_state=0)
    for prefix, completion in zip(prefixes, completions):
        print(f"  {prefix + completion!r}")

# %%
# Loss curves
# -----------
if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [e["epoch"] for e in lm.history_]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [e["train_loss"] for e in lm.history_], "o-", label="training")
    ax.plot(epochs, [e["valid_loss"] for e in lm.history_], "s-", label="validation")
    ax.axhline(-baseline, color="grey", ls="--", label="unigram (held-out)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_title("Character-level LSTM language model")
    ax.legend()
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=100)
    print(f"\nSaved the figure to {args.output}")
