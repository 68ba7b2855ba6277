"""RNNLanguageModel: learns text, beats a unigram baseline, samples reproducibly,
works under GridSearchCV and pickle, and rejects bad input with clear errors."""

import copy
import math
import pickle
from collections import Counter

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_rnn.language import RNNLanguageModel
from tests._sklearn_checks import DATA_FREE_CHECKS

FAST = dict(hidden_size=32, embedding_size=16, sequence_length=32, max_epochs=12,
            batch_size=16, lr=1e-2, early_stopping=False, random_state=0)


def make_texts(n, seed):
    """Sentences of a small grammar: structure a character model can learn."""
    rng = np.random.default_rng(seed)
    subjects = ["the cat", "a dog", "the old man", "my sister", "a bird"]
    verbs = ["sees", "likes", "walks to", "sits on", "looks at"]
    objects = ["the mat.", "a tree.", "the red house.", "the river.", "a small box."]
    return [" ".join([subjects[rng.integers(5)], verbs[rng.integers(5)],
                      objects[rng.integers(5)]]) for _ in range(n)]


TRAIN, TEST = make_texts(200, 0), make_texts(40, 1)


def unigram_score(train, test):
    """Mean log-likelihood per token of a character-frequency model (add-one
    smoothed), counting each text's end as a token, as RNNLanguageModel.score does."""
    counts = Counter("".join(train))
    counts["<end>"] = len(train)
    vocab = set(counts) | set("".join(test))
    total = sum(counts.values()) + len(vocab)
    logp = {c: math.log((counts[c] + 1) / total) for c in vocab}
    ll = sum(logp[c] for text in test for c in text) + len(test) * logp["<end>"]
    return ll / sum(len(t) + 1 for t in test)


@pytest.fixture(scope="module")
def lm():
    return RNNLanguageModel(**FAST).fit(TRAIN)


def test_learns_and_beats_unigram(lm):
    losses = [epoch["train_loss"] for epoch in lm.history_]
    assert lm.n_iter_ == len(losses) == FAST["max_epochs"]
    assert losses[-1] < 0.5 * losses[0]
    one_epoch = RNNLanguageModel(**{**FAST, "max_epochs": 1}).fit(TRAIN)
    assert lm.score(TEST) > one_epoch.score(TEST)
    baseline = unigram_score(TRAIN, TEST)
    assert lm.score(TEST) > baseline + 1.0  # at least e times fewer choices per character
    assert lm.perplexity(TEST) == pytest.approx(math.exp(-lm.score(TEST)))
    assert lm.perplexity(TEST) < 2.5 < math.exp(-baseline)


def test_score_is_mean_log_likelihood_per_token(lm):
    # The mean over all tokens: a text's weight is its length + 1.
    a, b = TEST[0], TEST[1] * 3
    expected = ((len(a) + 1) * lm.score([a]) + (len(b) + 1) * lm.score([b])) / (len(a) + len(b) + 2)
    assert lm.score([a, b]) == pytest.approx(expected, rel=1e-5)
    # Scoring in one batch or text by text gives the same numbers.
    assert lm.score([b, a]) == pytest.approx(lm.score([a, b]), rel=1e-5)


def test_early_stopping_holds_out_the_end_of_the_stream():
    model = RNNLanguageModel(**{**FAST, "early_stopping": True, "patience": 3,
                                "max_epochs": 30}).fit(TRAIN)
    assert all(np.isfinite(epoch["valid_loss"]) for epoch in model.history_)
    best = min(epoch["valid_loss"] for epoch in model.history_)
    assert model.history_[-1]["valid_loss"] >= best  # keeps the best epoch's weights


def test_history_losses_are_means_per_token():
    # 650 tokens, 65 held out: 16 windows of 4 and one of 1 token. Weighted per
    # window, the lone token's loss counted 16 times too much (0.57 vs 0.28).
    text = "abcdefgh" * 81 + "a"
    length = 4
    lm = RNNLanguageModel(hidden_size=8, embedding_size=4, sequence_length=length,
                          batch_size=16, max_epochs=2, lr=0.05, random_state=0).fit([text])
    stream = lm._stream([text])
    n = len(stream) - 1
    start = n - math.ceil(0.1 * n)
    module = lm.net_.module_.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for s in range(start, n, length):  # each window from a zero state
            x = torch.as_tensor(stream[s:min(s + length, n)])[None]
            y = torch.as_tensor(stream[s + 1:min(s + length, n) + 1])
            total += torch.nn.functional.cross_entropy(module(x)[0], y, reduction="sum").item()
            count += len(y)
    assert count == 65
    assert lm.history_[-1, "valid_loss"] == pytest.approx(total / count, rel=1e-5)


def test_completion_follows_the_training_text(lm):
    greedy = lm.complete("the old ", max_length=40, top_k=1)
    greedy_cat = lm.complete("the cat", max_length=40, top_k=1)
    assert greedy.startswith("man ")
    assert greedy.endswith(".")  # the model ends the sentence, and stops there
    assert lm.complete("the cat", max_length=3, top_k=1) == greedy_cat[:3]
    # A temperature near 0 is greedy too (dividing the scores by it overflowed to NaN).
    for temperature in (1e-45, 1e-300):
        assert lm.complete("the old ", max_length=40, temperature=temperature) == greedy


def test_sampling_is_reproducible_and_leaves_global_rng_alone(lm):
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    first = lm.complete("a ", max_length=50, temperature=1.5, random_state=7)
    assert lm.complete("a ", max_length=50, temperature=1.5, random_state=7) == first
    others = {lm.complete("a ", max_length=50, temperature=1.5, random_state=s)
              for s in range(8)}
    assert len(others) > 1
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])
    batch = lm.complete(["a ", "the ", ""], max_length=30, random_state=3)
    assert isinstance(batch, list) and len(batch) == 3
    assert batch == lm.complete(["a ", "the ", ""], max_length=30, random_state=3)
    assert all(len(text) <= 30 and set(text) <= set(lm.vocabulary_) for text in batch)


def test_max_length_and_top_k(lm):
    assert lm.complete("the", max_length=0) == ""
    assert len(lm.complete("the", max_length=5, temperature=5.0, random_state=0)) <= 5
    # top_k=1 is greedy, whatever the temperature and seed.
    assert (lm.complete("my ", max_length=20, top_k=1, temperature=3.0, random_state=1)
            == lm.complete("my ", max_length=20, top_k=1, random_state=2))


def test_grid_search_over_hidden_size_picks_the_larger_model():
    search = GridSearchCV(RNNLanguageModel(**{**FAST, "max_epochs": 6}),
                          {"hidden_size": [2, 32]}, cv=KFold(2))
    search.fit(TRAIN[:120])
    assert search.best_params_ == {"hidden_size": 32}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_pickle_round_trip(lm):
    restored = pickle.loads(pickle.dumps(lm))
    assert restored.score(TEST) == pytest.approx(lm.score(TEST), rel=1e-6)
    assert (restored.complete("a ", max_length=30, random_state=0)
            == lm.complete("a ", max_length=30, random_state=0))
    assert clone(lm).get_params() == lm.get_params()


def test_partial_fit_and_warm_start_continue_training():
    model = RNNLanguageModel(**{**FAST, "max_epochs": 2})
    model.partial_fit(TRAIN)
    before = model.score(TEST)
    for _ in range(3):
        model.partial_fit(TRAIN)
    assert model.score(TEST) > before
    assert model.vocabulary_ == RNNLanguageModel(**FAST).fit(TRAIN[:50] + TRAIN).vocabulary_


def test_unseen_characters_in_scored_text_are_penalised_not_refused(lm):
    clean = lm.score(["the cat sees the mat."])
    odd = lm.score(["the cat sees the m@t."])
    assert np.isfinite(odd) and odd < clean


def test_min_count_maps_rare_characters_to_unknown():
    model = RNNLanguageModel(**{**FAST, "max_epochs": 2, "min_count": 2}).fit(
        TRAIN + ["zq!"])
    assert not {"z", "q", "!"} & set(model.vocabulary_)
    with pytest.raises(ValueError, match=r"\['!', 'q'\]"):
        model.complete("q!")


@pytest.mark.parametrize("texts, error, match", [
    ("just one string", TypeError, r"\[text\]"),
    (b"bytes", TypeError, r"\[text\]"),
    ([], ValueError, "no texts"),
    (["", ""], ValueError, "only empty texts"),
    (["fine", 3], TypeError, "item 1 is int"),
    (42, TypeError, "iterable of texts"),
    (np.array([["a", "b"]]), ValueError, "1-D"),
])
def test_fit_rejects_bad_texts(texts, error, match):
    with pytest.raises(error, match=match):
        RNNLanguageModel(**FAST).fit(texts)


def test_fit_rejects_text_too_short_for_early_stopping():
    with pytest.raises(ValueError, match="early_stopping=False"):
        RNNLanguageModel(**{**FAST, "early_stopping": True,
                            "validation_fraction": 0.9}).fit(["a"])


def test_complete_rejects_bad_arguments(lm):
    with pytest.raises(ValueError, match=r"not in the vocabulary.*\['#', '1', 'Z'\]"):
        lm.complete("Zebra #1")
    for temperature in (0, -1.0, float("nan"), float("inf"), 10**400):
        with pytest.raises(ValueError, match="temperature"):
            lm.complete("the", temperature=temperature)
    with pytest.raises(ValueError, match="top_k"):
        lm.complete("the", top_k=0)
    with pytest.raises(ValueError, match="max_length"):
        lm.complete("the", max_length=-1)
    with pytest.raises(TypeError, match="item 0 is int"):
        lm.complete([1])


def test_a_long_prefix_is_read_in_chunks_with_the_same_completion(lm, monkeypatch):
    # complete() read each prefix in one pass and kept its whole (length x
    # vocabulary) logits alive: a 1M-character prefix took 0.7 GB; it now reads
    # chunks, as score does.
    from sklearn_rnn import language

    prefixes = ["the cat sat on the mat and the dog", "a"]
    expected = lm.complete(prefixes, max_length=12, random_state=3)
    monkeypatch.setattr(language, "_SCORE_CHUNK", 4)
    assert lm.complete(prefixes, max_length=12, random_state=3) == expected


def test_unfitted_and_invalid_parameters():
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        RNNLanguageModel().complete("a")
    with pytest.raises(ValueError, match="sequence_length"):
        RNNLanguageModel(sequence_length=0).fit(TRAIN)
    with pytest.raises(ValueError, match="cell"):
        RNNLanguageModel(cell="transformer").fit(TRAIN)


@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_checks_that_apply_to_a_language_model(check):
    check("RNNLanguageModel", RNNLanguageModel(hidden_size=4, max_epochs=1, random_state=0))


@pytest.mark.parametrize("n, length", [(50, 64), (200, 1000), (200, 150), (1000, 64),
                                       (65, 64)])
def test_training_windows_predict_every_token_once_per_epoch(n, length):
    from sklearn_rnn.language import _TokenWindows

    stream = torch.arange(n)
    windows = _TokenWindows(stream, stream + 1, length, generator=torch.Generator().manual_seed(0))
    shifts = set()
    for _ in range(20):
        windows.start_epoch()
        shifts.add(int(windows.shift))
        _, targets = windows.batch(torch.arange(len(windows)))
        real = targets[targets != -100]
        assert sorted(real.tolist()) == list(range(1, n + 1))  # each token once
        assert ((targets != -100).sum(dim=1) > 0).all()       # no window all padding
    assert len(shifts) > 1  # the cut points move from epoch to epoch


def test_complete_checks_random_state_as_sklearn_does(lm):
    for random_state in (1.5, True, "abc", [1]):
        with pytest.raises(TypeError, match=r"random_state must be None, an int in "
                                            r"\[0, 2\*\*32 - 1\], a numpy RandomState"):
            lm.complete("the", max_length=5, random_state=random_state)
    for random_state in (-1, 2**32, 2**70):
        with pytest.raises(ValueError, match=f"random_state must be .*; got {random_state}"):
            lm.complete("the", max_length=5, random_state=random_state)
    with pytest.raises(TypeError, match="random_state"):  # checked before the empty answer
        lm.complete([], random_state=0.5)
    assert (lm.complete("the", max_length=8, random_state=np.int64(3))
            == lm.complete("the", max_length=8, random_state=3))
    assert (lm.complete("the", max_length=8, random_state=2**32 - 1)
            == lm.complete("the", max_length=8, random_state=2**32 - 1))
    drawn = [lm.complete("the", max_length=8, random_state=np.random.default_rng(0))
             for _ in range(2)]
    assert drawn[0] == drawn[1]
    assert (lm.complete("the", max_length=8, random_state=np.random.RandomState(0))
            == lm.complete("the", max_length=8, random_state=np.random.RandomState(0)))


def test_a_window_longer_than_the_text_is_the_whole_stream():
    # sequence_length=10**9 padded the stream to 10**9 tokens (8 GB, as many steps).
    # Any window past the stream's 45 tokens is that stream, trained alike.
    texts = ["the cat sees the mat.", "a dog walks to a tree."]
    params = {**FAST, "max_epochs": 2}
    huge = RNNLanguageModel(**{**params, "sequence_length": 10**9}).fit(texts)
    exact = RNNLanguageModel(**{**params, "sequence_length": 1000}).fit(texts)
    np.testing.assert_allclose(huge.history_[:, "train_loss"], exact.history_[:, "train_loss"])


def test_temperature_divides_the_logits():
    # Halving the output layer is exactly temperature 2.
    rng = np.random.default_rng(0)
    texts = ["".join(rng.choice(list("abcdefgh"), 40)) for _ in range(20)]
    lm = RNNLanguageModel(hidden_size=8, max_epochs=1, random_state=0).fit(texts)
    halved = copy.deepcopy(lm)
    with torch.no_grad():
        halved.net_.module_.head.weight /= 2
        halved.net_.module_.head.bias /= 2
    for seed in range(5):
        assert (lm.complete("ab", 30, temperature=2.0, random_state=seed)
                == halved.complete("ab", 30, temperature=1.0, random_state=seed))

