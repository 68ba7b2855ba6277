"""
Quickstart: choose an RNN's hidden size with a grid search
==========================================================

Japanese Vowels (UCI, part of the UEA time-series archive): nine speakers each say
the vowel "ae"; every recording is a sequence of 12 cepstrum coefficients per frame,
7 to 29 frames long. The task is to tell the speaker from the recording, with the
archive's official split of 270 training and 370 test recordings.

The recordings have different lengths, so ``X`` is simply a list of
``(n_frames, 12)`` arrays: the estimators pad and mask internally, and padding never
changes a prediction. :class:`~sklearn_rnn.GRUClassifier` is an ordinary
scikit-learn classifier, so :class:`~sklearn.model_selection.GridSearchCV` picks its
hidden size (``n_jobs=2``: each fit uses one PyTorch thread, see the README).
The yardstick is the archive's usual baseline, 1-nearest-neighbour.
"""

# %%
import time
import warnings

import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier

from sklearn_rnn import GRUClassifier

try:
    from sktime.datasets import load_japanese_vowels
except ImportError:  # pragma: no cover
    raise SystemExit("This example loads the data with sktime: pip install -e '.[examples]'")


def load(split):
    """The recordings as a list of (n_frames, 12) arrays, and the speakers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = load_japanese_vowels(split=split, return_type="nested_univ")
    recordings = [np.stack([np.asarray(X.iloc[i, j], dtype=np.float32)
                            for j in range(X.shape[1])], axis=1) for i in range(len(X))]
    return recordings, np.asarray(y)


X_train, y_train = load("train")
X_test, y_test = load("test")
lengths = [len(x) for x in X_train + X_test]
print(f"{len(X_train)} training and {len(X_test)} test recordings, {X_train[0].shape[1]} "
      f"coefficients per frame, {min(lengths)}-{max(lengths)} frames, "
      f"{len(set(y_train))} speakers")

# %%
# The grid search
# ---------------
# Everything but the hidden size keeps the library's defaults, which were chosen
# by measurement on six archive tasks (see benchmarks/RESULTS.md).
start = time.perf_counter()
search = GridSearchCV(GRUClassifier(random_state=0), {"hidden_size": [16, 32, 64]},
                      cv=3, n_jobs=2)
search.fit(X_train, y_train)
print(f"\nBest parameters: {search.best_params_} "
      f"(cross-validated accuracy {search.best_score_:.3f}, "
      f"search took {time.perf_counter() - start:.0f}s)")
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    print(f"  {params}: {score:.3f}")
test_accuracy = search.score(X_test, y_test)
print(f"Test accuracy of the refitted best model: {test_accuracy:.3f}")

# %%
# The baseline
# ------------
# 1-nearest-neighbour needs equal lengths: pad each recording with its last frame.
width = max(lengths)


def flat(recordings):
    return np.stack([np.pad(x, ((0, width - len(x)), (0, 0)), mode="edge").ravel()
                     for x in recordings])


knn = KNeighborsClassifier(n_neighbors=1).fit(flat(X_train), y_train)
knn_accuracy = knn.score(flat(X_test), y_test)
print(f"1-nearest-neighbour (Euclidean) test accuracy: {knn_accuracy:.3f} "
      f"(the archive reports 0.924 for its variant)")
print(f"The GRU is {'ahead of' if test_accuracy > knn_accuracy else 'behind'} the baseline "
      f"by {abs(test_accuracy - knn_accuracy):.3f}.")
