"""SkipGramTransformer: the word2vec algorithm, sklearn integration, bad input."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import torch

from sklearn_rnn import SkipGramTransformer, _word2vec
from tests._sklearn_checks import DATA_FREE_CHECKS
from sklearn_rnn._word2vec import numba_available

ENGINES = ["torch"] + (["numba"] if numba_available() else [])


def topic_corpus(n=400, seed=0):
    """Two topics whose words never share a document."""
    rng = np.random.default_rng(seed)
    animals = "cat dog horse cow sheep goat pig duck".split()
    tools = "hammer saw drill wrench chisel pliers axe file".split()
    docs, labels = [], []
    for i in range(n):
        topic = animals if i % 2 == 0 else tools
        docs.append(" ".join(rng.choice(topic, size=12)))
        labels.append("animal" if i % 2 == 0 else "tool")
    return docs, np.array(labels), animals, tools


# ---------------------------------------------------------------- the algorithm
def test_subsampling_keep_probability_matches_word2vec_formula():
    counts = np.array([1000, 100, 10, 1])
    sg = SkipGramTransformer(sample=1e-3)
    threshold = 1e-3 * counts.sum()
    expected = np.minimum((np.sqrt(counts / threshold) + 1) * threshold / counts, 1)
    np.testing.assert_allclose(sg.keep_probabilities(counts), expected)
    assert sg.keep_probabilities(counts)[0] < 0.1 and sg.keep_probabilities(counts)[-1] == 1
    np.testing.assert_array_equal(SkipGramTransformer(sample=0).keep_probabilities(counts), 1)


def test_noise_distribution_is_unigram_to_the_three_quarters():
    counts = np.array([16.0, 1.0])
    p = SkipGramTransformer().noise_distribution(counts)
    np.testing.assert_allclose(p, np.array([8.0, 1.0]) / 9.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_negative_samples_follow_the_noise_distribution(engine):
    """The kernels' own samplers draw noise words with probability counts ** 0.75."""
    counts = np.array([1000.0, 300.0, 50.0, 5.0, 1.0])
    p = SkipGramTransformer().noise_distribution(counts)
    cum = np.cumsum(p)
    cum[-1] = 1.0
    n = 200_000
    if engine == "numba":
        draws = _word2vec.noise_words_numba(*_word2vec.alias_tables(cum), n, 7)
    else:
        draws = _word2vec.noise_words_torch(torch.as_tensor(cum), (n,),
                                            torch.Generator().manual_seed(0)).numpy()
    freq = np.bincount(draws, minlength=len(counts)) / n
    np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(0.25 / n))


@pytest.mark.parametrize("engine", ENGINES)
def test_seeds_and_epochs_draw_unrelated_streams(engine):
    # The numba kernel seeded chunk c of epoch e with seed + e + 2c + 1, so
    # random_state=1 replayed random_state=0's subsampling and windows one epoch
    # later (equal kept words and pairs per epoch).
    rng = np.random.default_rng(0)
    p = 1 / np.arange(1, 201)
    docs = [[f"w{i}" for i in rng.choice(200, size=50, p=p / p.sum())] for _ in range(100)]
    draws = {}
    for seed in (0, 1, 2):
        sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=4, engine=engine,
                                 random_state=seed).fit(docs)
        draws[seed] = [(r["words"], r["pairs"]) for r in sg.history_]
    epochs = [d for seed in draws for d in draws[seed]]
    assert len(set(epochs)) == len(epochs)


@pytest.mark.skipif(not numba_available(), reason="numba is not installed")
@pytest.mark.parametrize("p", [[1.0], [0.5, 0.5], [0.7, 0.0, 0.2, 0.1],
                               list(np.arange(1, 2001) ** -0.9 / (np.arange(1, 2001) ** -0.9).sum())])
def test_alias_tables_encode_the_noise_distribution_exactly(p):
    # The numba kernel's sampler: column k with probability 1/n, then k itself with
    # probability prob[k], else alias[k]; the implied distribution is p itself.
    p = np.asarray(p)
    prob, alias = _word2vec.alias_tables(np.cumsum(p))
    n = len(p)
    implied = prob / n + np.bincount(alias, weights=1.0 - prob, minlength=n) / n
    np.testing.assert_allclose(implied, p, rtol=1e-9, atol=1e-15)
    assert prob.nbytes + alias.nbytes == 12 * n  # small enough to stay in the CPU cache


@pytest.mark.parametrize("engine", ENGINES)
def test_kernels_subsample_and_pair_as_word2vec(engine):
    """Kept words match sum(count * keep probability); without subsampling, window 1
    gives every adjacent pair in both directions, and an untrained model's loss is
    log(2) per prediction (every score is 0)."""
    rng = np.random.default_rng(0)
    words = np.array(["w%d" % i for i in range(50)])
    weights = 1.0 / np.arange(1, 51)                      # Zipf-like counts
    docs = [" ".join(rng.choice(words, size=100, p=weights / weights.sum()))
            for _ in range(200)]
    sg = SkipGramTransformer(vector_size=4, min_count=1, sample=1e-2, epochs=1,
                             engine=engine, random_state=0).fit(docs)
    counts = np.bincount([sg.vocabulary_[t] for d in docs for t in d.split()])
    expected = (counts * sg.keep_probabilities(counts)).sum()
    assert sg.history_[0]["words"] == pytest.approx(expected, rel=0.03)
    flat = SkipGramTransformer(vector_size=4, window=1, min_count=1, sample=0, epochs=1,
                               lr=1e-12, min_lr=0, engine=engine, random_state=0).fit(
        ["a b c d"] * 100)
    assert flat.history_[0]["pairs"] == 100 * 6
    assert flat.history_[0]["loss"] == pytest.approx(np.log(2), rel=1e-3)


def test_torch_pairs_are_every_pair_within_the_shrunk_window():
    """The device-side pairing against a plain loop: each center word pairs with
    the words within its own shrunk window, inside its piece, in corpus order."""
    rng = np.random.default_rng(0)
    tok = torch.as_tensor(rng.integers(0, 20, size=60))
    piece = torch.as_tensor(np.repeat([0, 1, 2], [25, 5, 30]))
    pos = torch.arange(60) * 2                      # positions of kept words (gaps)
    window = 4
    center, context, where = _word2vec.skipgram_pairs(
        tok, piece, pos, window, torch.Generator().manual_seed(3))
    reduced = window - torch.randint(0, window, tok.shape,
                                     generator=torch.Generator().manual_seed(3))
    expected = [(int(tok[i]), int(tok[j]), int(pos[i]))
                for i in range(60) for j in sorted(range(60), key=lambda j: abs(j - i))
                if 0 < abs(j - i) <= reduced[i] and piece[i] == piece[j]]
    got = list(zip(center.tolist(), context.tolist(), where.tolist()))
    assert sorted(got) == sorted(expected)
    assert where.tolist() == sorted(where.tolist())


def test_torch_engine_default_batches_stay_stable_on_a_zipf_corpus():
    """A batch's updates land at once; with too many pairs per batch a frequent
    word's row sums hundreds of them and training diverges (16384 pairs did,
    here and on a real news corpus)."""
    rng = np.random.default_rng(0)
    weights = 1.0 / np.arange(1, 3001)
    words = np.array([f"w{i}" for i in range(3000)])
    docs = [" ".join(rng.choice(words, size=200, p=weights / weights.sum()))
            for _ in range(500)]
    sg = SkipGramTransformer(vector_size=50, min_count=1, epochs=2, engine="torch",
                             random_state=0).fit(docs)
    losses = [h["loss"] for h in sg.history_]
    assert all(loss < np.log(2) for loss in losses) and losses[1] < losses[0]


def test_torch_engine_leaves_the_global_rng_alone():
    docs, *_ = topic_corpus(n=30)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    SkipGramTransformer(vector_size=4, min_count=1, epochs=1, engine="torch",
                        random_state=0).fit(docs)
    assert torch.equal(torch.random.get_rng_state(), before)


@pytest.mark.parametrize("engine", ENGINES)
def test_words_that_co_occur_end_up_closer(engine):
    docs, _, animals, tools = topic_corpus()
    # A tiny corpus needs small batches on the torch engine (numba ignores batch_pairs).
    sg = SkipGramTransformer(vector_size=16, window=3, min_count=1, epochs=10, lr=0.05,
                             engine=engine, batch_pairs=256, random_state=0).fit(docs)
    within = np.mean([sg.similarity(a, b) for a in animals for b in animals if a != b])
    across = np.mean([sg.similarity(a, t) for a in animals for t in tools])
    assert within > across + 0.3
    assert {w for w, _ in sg.most_similar("cat", topn=5)} <= set(animals)
    losses = [h["loss"] for h in sg.history_]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_same_random_state_same_vectors(engine):
    docs, *_ = topic_corpus(n=60)
    a = SkipGramTransformer(vector_size=8, min_count=1, epochs=2, engine=engine,
                            random_state=3).fit(docs)
    b = SkipGramTransformer(vector_size=8, min_count=1, epochs=2, engine=engine,
                            random_state=3).fit(docs)
    np.testing.assert_array_equal(a.embeddings_, b.embeddings_)
    c = SkipGramTransformer(vector_size=8, min_count=1, epochs=2, engine=engine,
                            random_state=4).fit(docs)
    assert not np.array_equal(a.embeddings_, c.embeddings_)


def test_vocabulary_min_count_and_max_vocab_size():
    docs = ["a a a a b b b c c d"]
    sg = SkipGramTransformer(vector_size=4, min_count=2, epochs=1, sample=0, random_state=0).fit(docs)
    assert sg.vocabulary_ == {"a": 0, "b": 1, "c": 2}
    assert sg.embeddings_.shape == (3, 4)
    sg = SkipGramTransformer(vector_size=4, min_count=1, max_vocab_size=2, epochs=1, sample=0,
                             random_state=0).fit(docs)
    assert list(sg.vocabulary_) == ["a", "b"]
    # Only what transform needs is kept, none of the training-only tables.
    fitted = {k for k in vars(sg) if k.endswith("_") and not k.startswith("_")}
    assert fitted == {"vocabulary_", "embeddings_", "idf_", "history_", "n_features_in_"}


def test_streaming_corpus_is_read_once_and_pre_tokenised_input():
    class Lines:
        reads = 0

        def __iter__(self):
            Lines.reads += 1
            docs, *_ = topic_corpus(n=40)
            yield from docs

    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, random_state=0).fit(Lines())
    assert Lines.reads == 1
    tokens = [d.split() for d in topic_corpus(n=40)[0]]
    sg2 = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, random_state=0).fit(tokens)
    assert sg.vocabulary_ == sg2.vocabulary_
    np.testing.assert_array_equal(sg.embeddings_, sg2.embeddings_)


# ---------------------------------------------------------------- transform
def test_aggregates_and_empty_documents():
    docs, *_ = topic_corpus(n=40)
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, random_state=0).fit(docs)
    E, V = sg.embeddings_, sg.vocabulary_
    out = {a: sg.set_params(aggregate=a).transform(["cat dog dog", "", "zebra"])
           for a in ["mean", "sum", "max", "tfidf"]}
    np.testing.assert_allclose(out["sum"][0], E[V["cat"]] + 2 * E[V["dog"]], rtol=1e-5)
    np.testing.assert_allclose(out["mean"][0], out["sum"][0] / 3, rtol=1e-5)
    np.testing.assert_allclose(out["max"][0], np.maximum(E[V["cat"]], E[V["dog"]]))
    w = sg.idf_[[V["cat"], V["dog"], V["dog"]]]
    np.testing.assert_allclose(out["tfidf"][0], (E[[V["cat"], V["dog"], V["dog"]]]
                                                 * w[:, None]).sum(0) / w.sum(), rtol=1e-5)
    for a in out:
        np.testing.assert_array_equal(out[a][1:], 0)     # empty and all-unknown documents
    with pytest.raises(ValueError, match=r"Documents \[1, 2\]"):
        sg.set_params(empty="error").transform(["cat", "", "zebra"])


def test_idf_matches_sklearn_tfidf_also_in_blocks():
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs, *_ = topic_corpus(n=50)
    docs = docs + ["", "cat"]
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, random_state=0).fit(docs)
    tfidf = TfidfVectorizer(token_pattern=r"(?u)\b\w[\w']*\b").fit(docs)
    expected = np.array([tfidf.idf_[tfidf.vocabulary_[w]] for w in sg.vocabulary_])
    np.testing.assert_allclose(sg.idf_, expected, rtol=1e-6)
    ids = np.array([sg.vocabulary_[t] for d in docs for t in d.split()], dtype=np.int32)
    ptr = np.concatenate([[0], np.cumsum([len(d.split()) for d in docs])])
    np.testing.assert_allclose(SkipGramTransformer._idf(ids, ptr, len(sg.vocabulary_),
                                                        block_tokens=7), sg.idf_)


def test_pipeline_column_transformer_grid_search_and_pandas_output():
    docs, labels, *_ = topic_corpus(n=120)
    df = pd.DataFrame({"description": docs, "age": np.arange(120) % 7})
    ct = ColumnTransformer([("text", SkipGramTransformer(vector_size=8, min_count=1,
                                                         sample=0, epochs=5, random_state=0),
                             "description"), ("num", "passthrough", ["age"])])
    model = make_pipeline(ct, LogisticRegression()).fit(df, labels)
    assert model.score(df, labels) > 0.9
    search = GridSearchCV(model, {"columntransformer__text__window": [2, 5]}, cv=2)
    search.fit(df, labels)
    assert search.best_params_["columntransformer__text__window"] in (2, 5)
    sg = SkipGramTransformer(vector_size=3, min_count=1, epochs=1, random_state=0)
    sg.set_output(transform="pandas")
    out = sg.fit_transform(df["description"])
    assert list(out.columns) == ["skipgramtransformer0", "skipgramtransformer1",
                                 "skipgramtransformer2"]
    assert out.index.equals(df.index)


def test_pickle_word_queries_and_word2vec_format(tmp_path):
    docs, *_ = topic_corpus(n=40)
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, random_state=0).fit(docs)
    restored = pickle.loads(pickle.dumps(sg))
    np.testing.assert_array_equal(restored.transform(docs), sg.transform(docs))
    assert sg.similarity("cat", "cat") == pytest.approx(1.0)
    with pytest.raises(KeyError, match="not in the vocabulary"):
        sg.similarity("cat", "zebra")
    with pytest.raises(ValueError, match=r"a vector of 4 numbers \(the fitted vector_size\); got"):
        sg.most_similar(np.ones(3))
    assert sg.most_similar(sg.embeddings_[sg.vocabulary_["cat"]], topn=1)[0][0] == "cat"
    sg.save_word2vec_format(tmp_path / "vectors.txt")
    lines = (tmp_path / "vectors.txt").read_text().splitlines()
    assert lines[0] == f"{len(sg.vocabulary_)} 4"
    read = {line.split()[0]: np.array(line.split()[1:], dtype=np.float32) for line in lines[1:]}
    assert list(read) == list(sg.vocabulary_)
    # The values read back exactly (as gensim writes them).
    np.testing.assert_array_equal(np.stack(list(read.values())), sg.embeddings_)
    pairs = [("cat", "dog", 9.0), ("cat", "saw", 1.0), ("hammer", "saw", 8.0),
             ("cat", "zebra", 5.0)]
    pearson, spearman, oov = sg.evaluate_word_pairs(pairs)
    assert oov == pytest.approx(25.0)
    assert -1 <= spearman.statistic <= 1
    path = tmp_path / "pairs.tsv"
    path.write_text("# comment\n" + "\n".join("\t".join(map(str, p)) for p in pairs))
    assert sg.evaluate_word_pairs(path)[2] == pytest.approx(25.0)
    with pytest.raises(ValueError, match=r"pair 1 is \('cat', 'saw'\)"):
        sg.evaluate_word_pairs([("cat", "dog", 9.0), ("cat", "saw")])


def test_word_pairs_match_a_cased_vocabulary_case_insensitively():
    # As gensim: with case_insensitive (the default), both sides are upper-cased,
    # and a pair's word stands for the most frequent vocabulary word of its case.
    docs = ["The Cat sat by the Dog", "a Dog and a Cat saw THE cat"] * 20
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, lowercase=False,
                             random_state=0).fit(docs)
    assert {"Cat", "cat", "Dog"} <= set(sg.vocabulary_)
    pairs = [("cat", "dog", 1.0), ("CAT", "the", 2.0), ("dog", "saw", 3.0)]
    pearson, spearman, oov = sg.evaluate_word_pairs(pairs)
    assert oov == 0.0
    # "cat" stands for "Cat" (40 times) rather than "cat" (20 times); "the" for
    # "THE", first of the three words seen 20 times (ties: the latest to appear first).
    expected = [sg.similarity("Cat", "Dog"), sg.similarity("Cat", "THE"),
                sg.similarity("Dog", "saw")]
    assert pearson.statistic == pytest.approx(np.corrcoef(expected, [1, 2, 3])[0, 1])
    with pytest.raises(ValueError, match="Only 0 of 3 pairs"):
        sg.evaluate_word_pairs(pairs, case_insensitive=False)


def test_vocabulary_is_ordered_and_cased_as_gensim_orders_it(tmp_path):
    # Most frequent first, ties by first appearance, latest first; pairs matched by upper case
    # (the dotless "ı" upper-cases to "I", as "i" does: both stand for "i", seen
    # as often and later; case-folding kept them apart).
    docs = [["a", "b", "c", "d"], ["d", "e"], ["a", "b", "c", "e"], ["ı", "x", "y"],
            ["i", "x", "z"], ["x", "y", "z", "w"]] * 5
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, random_state=0).fit(docs)
    assert list(sg.vocabulary_)[:1] == ["x"]
    assert [w for w in sg.vocabulary_ if w in "abcde"] == ["e", "d", "c", "b", "a"]
    with pytest.raises(ValueError, match=r"'sample' parameter .* range \[0(\.0)?, 1"):
        SkipGramTransformer(sample=5).fit(docs)
    gold = tmp_path / "gold.tsv"
    gold.write_text("I\tx\t1\nı\ty\t2\nx\tw\t4\ny\tw\t5\nz\ta\t3\n")
    ours = sg.evaluate_word_pairs(gold)
    assert ours[0].statistic == pytest.approx(np.corrcoef(
        [sg.similarity("i", "x"), sg.similarity("i", "y"), sg.similarity("x", "w"),
         sg.similarity("y", "w"), sg.similarity("z", "a")], [1, 2, 4, 5, 3])[0, 1])
    gensim = pytest.importorskip("gensim")
    model = gensim.models.Word2Vec(docs, vector_size=4, min_count=1, epochs=1, sg=1, seed=0)
    assert model.wv.index_to_key == list(sg.vocabulary_)
    sg.save_word2vec_format(tmp_path / "v.txt")
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(tmp_path / "v.txt"))
    theirs = kv.evaluate_word_pairs(str(gold))
    assert ours[0].statistic == pytest.approx(theirs[0].statistic, abs=1e-6)
    assert ours[2] == pytest.approx(theirs[2])


@pytest.mark.parametrize("aggregate", ["mean", "sum", "max", "tfidf"])
def test_transform_needs_memory_of_the_tokens_not_tokens_times_vector_size(aggregate):
    import tracemalloc

    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(300)])
    docs = [" ".join(rng.choice(words, size=n)) for n in rng.integers(0, 400, 300)]
    sg = SkipGramTransformer(vector_size=64, min_count=1, epochs=1, aggregate=aggregate,
                             random_state=0).fit(docs[:40])
    ids = [[sg.vocabulary_[w] for w in d.split()] for d in docs]
    E = sg.embeddings_.astype(np.float64)
    reduce = {"mean": lambda i: E[i].mean(0), "sum": lambda i: E[i].sum(0),
              "max": lambda i: E[i].max(0),
              "tfidf": lambda i: (E[i] * sg.idf_[i, None]).sum(0) / sg.idf_[i].sum()}
    expected = np.array([reduce[aggregate](i) if i else np.zeros(64) for i in ids])
    tracemalloc.start()
    try:
        out = sg.transform(docs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    n_tokens = sum(map(len, ids))   # about 60,000: x 64 floats would be 15 MB
    assert peak < 4 * out.nbytes + 100 * n_tokens + (1 << 20)


def test_a_long_document_aggregates_without_float32_drift():
    # Summing 200k vectors one after another in float32 drifted by 2e-4
    # (relative); reduceat's sums stay near float32's resolution.
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(50)]
    doc = list(rng.choice(words, size=200_000))
    sg = SkipGramTransformer(vector_size=16, min_count=1, epochs=1, random_state=0).fit(
        [doc[:2000]])
    ids = np.array([sg.vocabulary_[w] for w in doc])
    exact = sg.embeddings_.astype(np.float64)[ids].mean(axis=0)
    np.testing.assert_allclose(sg.transform([doc])[0], exact, rtol=1e-5, atol=1e-6)


def test_word_pairs_count_only_the_most_frequent_words_as_gensim():
    docs = ["a a a a b b b c c d"] * 10
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, sample=0,
                             random_state=0).fit(docs)
    pairs = [("a", "b", 1.0), ("a", "c", 2.0), ("b", "c", 3.0), ("c", "d", 4.0)]
    assert sg.evaluate_word_pairs(pairs)[2] == 0.0
    assert sg.evaluate_word_pairs(pairs, restrict_vocab=None)[2] == 0.0
    # Only a, b, c (d is the rarest): one pair of four unknown.
    assert sg.evaluate_word_pairs(pairs, restrict_vocab=3)[2] == pytest.approx(25.0)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="restrict_vocab must be None or a positive"):
            sg.evaluate_word_pairs(pairs, restrict_vocab=bad)


def test_fit_transform_reads_a_one_shot_iterator_once_and_records_column_names():
    docs, *_ = topic_corpus(n=30)
    params = dict(vector_size=4, min_count=1, epochs=1, random_state=0)
    from_generator = SkipGramTransformer(**params).fit_transform(d for d in docs)
    np.testing.assert_array_equal(from_generator,
                                  SkipGramTransformer(**params).fit(docs).transform(docs))
    sg = SkipGramTransformer(**params).fit(pd.DataFrame({"description": docs}))
    assert list(sg.feature_names_in_) == ["description"]
    with pytest.raises(ValueError, match="feature names should match"):
        sg.transform(pd.DataFrame({"other": docs}))
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        sg.transform(docs)  # (as scikit-learn warns; the other way round too)
    unnamed = SkipGramTransformer(**params).fit(docs)
    assert not hasattr(unnamed, "feature_names_in_")
    with pytest.warns(UserWarning, match="X has feature names, but SkipGramTransformer"):
        unnamed.transform(pd.DataFrame({"description": docs}))


def test_tags_say_when_the_same_seed_gives_other_vectors():
    from sklearn.utils import get_tags
    assert not get_tags(SkipGramTransformer()).non_deterministic
    assert not get_tags(SkipGramTransformer(engine="torch", n_threads=2)).non_deterministic
    assert not get_tags(SkipGramTransformer(engine="nope")).non_deterministic  # fit refuses
    if _word2vec.numba_available():  # Hogwild workers race on the vectors
        assert get_tags(SkipGramTransformer(n_threads=2)).non_deterministic


@pytest.mark.parametrize("tokenizer", [str.lower, lambda s: [len(w) for w in s.split()],
                                       lambda s: s.split() + [None], lambda s: None])
def test_tokenizer_output_is_checked(tokenizer):
    with pytest.raises(TypeError, match="tokenizer must return a list of string tokens; for "
                                        "document 0 it returned"):
        SkipGramTransformer(tokenizer=tokenizer, min_count=1, epochs=1).fit(["a b c"] * 3)


# ---------------------------------------------------------------- bad input
def test_bad_input_is_handled_as_documented():
    with pytest.raises(ValueError, match="corpus is empty"):
        SkipGramTransformer().fit([])
    with pytest.raises(ValueError, match="min_count=5"):
        SkipGramTransformer().fit(["rare words only here"])
    with pytest.raises(TypeError, match="Document 1 is int"):
        SkipGramTransformer(min_count=1).fit(["fine text", 5])
    with pytest.raises(TypeError, match="not a single string"):
        SkipGramTransformer(min_count=1).fit("just one string")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        SkipGramTransformer(min_count=1).fit([b"ok", b"\xff\xfe bad"])
    with pytest.raises(ValueError, match="2 columns"):
        SkipGramTransformer(min_count=1).fit(pd.DataFrame({"a": ["x"], "b": ["y"]}))
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, sample=0, random_state=0)
    sg.fit(["", "emoji 🙂 text", "more text"])     # empty documents and emoji are fine
    assert "🙂" not in sg.vocabulary_ and "emoji" in sg.vocabulary_
    with pytest.raises(ValueError, match="'aggregate' parameter"):
        SkipGramTransformer(aggregate="median").fit(["a a a a a"])


@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_checks_that_apply_to_a_text_transformer(check):
    check("SkipGramTransformer", SkipGramTransformer(vector_size=4, min_count=1, epochs=1,
                                                     random_state=0))


def test_torch_engine_trains_on_n_threads_and_restores_them(monkeypatch):
    seen = []
    original = _word2vec.train_epoch_torch

    def spy(**kwargs):
        seen.append(torch.get_num_threads())
        return original(**kwargs)

    monkeypatch.setattr(_word2vec, "train_epoch_torch", spy)
    docs, *_ = topic_corpus(n=20)
    before = torch.get_num_threads()
    SkipGramTransformer(vector_size=4, min_count=1, epochs=2, engine="torch", n_threads=1,
                        random_state=0).fit(docs)
    assert seen == [1, 1] and torch.get_num_threads() == before


def test_output_follows_the_fitted_vectors_until_refit():
    # As scikit-learn's transformers: a changed vector_size takes effect at the
    # next fit; until then transform and the feature names follow embeddings_.
    docs = ["a b c a b", "b c d a"] * 5
    sg = SkipGramTransformer(vector_size=3, min_count=1, epochs=1, sample=0, random_state=0).fit(docs)
    sg.set_params(vector_size=5)
    assert sg.transform(["a b"]).shape == (1, 3)
    assert len(sg.get_feature_names_out()) == 3
    assert len(sg.most_similar(np.ones(3), topn=1)) == 1
    assert sg.fit(docs).transform(["a b"]).shape == (1, 5)


def test_word2vec_format_refuses_words_with_whitespace(tmp_path):
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, sample=0, random_state=0).fit(
        [["new york", "x"]] * 10)
    with pytest.raises(ValueError, match="holds the word 'new york', which word2vec's text"):
        sg.save_word2vec_format(tmp_path / "v.txt")


@pytest.mark.parametrize("engine", ENGINES)
def test_diverging_training_is_an_error_and_leaves_the_transformer_unfitted(engine,
                                                                            monkeypatch):
    from sklearn.exceptions import NotFittedError

    docs, *_ = topic_corpus(n=40)
    sg = SkipGramTransformer(vector_size=8, min_count=1, epochs=2, random_state=0,
                             engine=engine).fit(docs)
    if engine == "numba":
        # lr=50 sends word2vec's loop to inf/NaN within two epochs (word2vec.c too).
        sg.set_params(lr=50.0)
    else:
        # The batched engine stays finite on this corpus even so; its vectors
        # going NaN (seen at lr=2 on gensim's Lee corpus) is simulated.
        monkeypatch.setattr(_word2vec.TorchEngine, "finite", lambda self: False)
    with pytest.raises(ValueError, match=r"Training diverged in epoch [12]: .*try a smaller lr"):
        sg.fit(docs)
    with pytest.raises(NotFittedError):
        sg.transform(docs)


# ---------------------------------------------------------------- audit fixes
def test_a_failed_fit_leaves_the_transformer_unfitted_also_on_a_dataframe():
    from sklearn.exceptions import NotFittedError

    docs, *_ = topic_corpus(n=20)
    params = dict(vector_size=4, min_count=1, epochs=1, random_state=0)
    sg = SkipGramTransformer(**params).fit(pd.DataFrame({"text": docs}))
    with pytest.raises(ValueError, match="2 columns"):
        sg.fit(pd.DataFrame({"a": docs, "b": docs}))
    with pytest.raises(NotFittedError):
        sg.transform(docs)
    first = SkipGramTransformer(**{**params, "min_count": 10**6})
    with pytest.raises(ValueError, match="min_count=1000000"):
        first.fit(pd.DataFrame({"text": docs}))
    assert not [k for k in vars(first) if k.endswith("_")]
    with pytest.raises(NotFittedError):
        first.transform(pd.DataFrame({"text": docs}))


def test_torch_buffers_are_sized_by_the_corpus_not_by_batch_pairs(monkeypatch):
    docs, *_ = topic_corpus(n=10)                       # 120 tokens, window 2
    params = dict(vector_size=4, min_count=1, epochs=1, window=2, engine="torch",
                  random_state=0)
    sizes = []
    original = _word2vec.SkipGramSteps.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        sizes.append(len(self.context))

    monkeypatch.setattr(_word2vec.SkipGramSteps, "__init__", spy)
    huge = SkipGramTransformer(**params, batch_pairs=10**12).fit(docs)
    # Either batch holds every pair of the corpus, so both train alike.
    whole = SkipGramTransformer(**params, batch_pairs=10**4).fit(docs)
    np.testing.assert_array_equal(huge.embeddings_, whole.embeddings_)
    assert sizes == [120 * 2 * 2] * 2
    monkeypatch.setattr(_word2vec.SkipGramSteps, "__init__", original)

    real_zeros = torch.zeros

    def no_memory(*size, **kwargs):  # what the allocator raises when memory runs out
        if np.prod(size) > 10**6:
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory")
        return real_zeros(*size, **kwargs)

    monkeypatch.setattr(torch, "zeros", no_memory)
    syn = torch.zeros(3, 4)
    with pytest.raises(ValueError, match=r"batch_pairs=1000000 needs buffers .* use a "
                                         r"smaller batch_pairs"):
        _word2vec.SkipGramSteps(syn, syn.clone(), negative=5, batch_pairs=10**6,
                                capture=False, max_pairs=10**9)


def test_torch_pairing_runs_no_offset_beyond_the_longest_piece(monkeypatch):
    rng = np.random.default_rng(0)
    tok = torch.as_tensor(rng.integers(0, 20, size=30))
    piece = torch.as_tensor(np.repeat([0, 1, 2], [6, 4, 20]))
    window = _word2vec.MAX_PIECE
    lists = []
    real_cat = torch.cat

    def spy(tensors, *args, **kwargs):
        lists.append(len(tensors))
        return real_cat(tensors, *args, **kwargs)

    monkeypatch.setattr(torch, "cat", spy)
    center, context, where = _word2vec.skipgram_pairs(
        tok, piece, torch.arange(30), window, torch.Generator().manual_seed(0))
    monkeypatch.setattr(torch, "cat", real_cat)
    assert lists[0] == 2 * 19                            # offsets 1..19, both directions
    reduced = window - torch.randint(0, window, tok.shape,
                                     generator=torch.Generator().manual_seed(0))
    expected = sorted((int(tok[i]), int(tok[j]), i) for i in range(30) for j in range(30)
                      if 0 < abs(j - i) <= reduced[i] and piece[i] == piece[j])
    assert sorted(zip(center.tolist(), context.tolist(), where.tolist())) == expected


def test_default_tokenizer_gives_the_same_tokens_whatever_the_normal_form():
    import unicodedata

    docs = ["İstanbul is big", "naïve café", "हिंदी भाषा", "don't dogs' a''b"]
    nfd = [unicodedata.normalize("NFD", d) for d in docs]
    params = dict(vector_size=4, min_count=1, epochs=1, sample=0, random_state=0)
    sg = SkipGramTransformer(**params).fit(docs)
    # (Each word is seen once: gensim's order of ties, latest first appearance first.)
    assert list(sg.vocabulary_) == ["i\u0307stanbul", "is", "big", "naïve", "café",
                                    "हिंदी", "भाषा", "don't", "dogs", "a''b"][::-1]
    assert list(SkipGramTransformer(**params).fit(nfd).vocabulary_) == list(sg.vocabulary_)
    np.testing.assert_array_equal(sg.transform(nfd), sg.transform(docs))
    cased = SkipGramTransformer(**params, lowercase=False).fit(nfd)
    assert list(cased.vocabulary_)[-1:] == ["İstanbul"]


def test_learning_rate_and_noise_settings_must_be_consistent():
    from sklearn.utils._param_validation import InvalidParameterError

    docs, *_ = topic_corpus(n=10)
    params = dict(vector_size=4, min_count=1, epochs=1, random_state=0)
    # min_lr above lr (a search over small lr keeps the default min_lr): a constant lr,
    # not min_lr (which the schedule's floor used to give).
    np.testing.assert_array_equal(
        SkipGramTransformer(**params, sample=0, lr=1e-5).fit(docs).embeddings_,
        SkipGramTransformer(**params, sample=0, lr=1e-5, min_lr=1e-5).fit(docs).embeddings_)
    for exponent in (-2000.0, 11.0, np.inf, np.nan):
        with pytest.raises(InvalidParameterError, match="'ns_exponent' parameter"):
            SkipGramTransformer(**params, ns_exponent=exponent).fit(docs)
    with pytest.raises(ValueError, match="ns_exponent=10.0 makes the noise distribution"):
        SkipGramTransformer(ns_exponent=10.0).noise_distribution([1e40, 1.0])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name, value", [("window", 2**64), ("window", 10**4 + 1),
                                         ("negative", 2**64), ("negative", 1001)])
def test_window_and_negative_beyond_their_limits_name_the_parameter(engine, name, value):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        SkipGramTransformer(vector_size=4, min_count=1, epochs=1, engine=engine,
                            **{name: value}).fit(["a b c"] * 3)


def test_most_similar_checks_topn_the_query_and_unknown_words():
    from sklearn_rnn.text import UnknownWordError

    docs, *_ = topic_corpus(n=20)
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, random_state=0).fit(docs)
    for topn in (-1, -100, 2.5, True, "3"):  # a wrong value or type: both errors at once
        for error in (ValueError, TypeError):
            with pytest.raises(error, match=r"topn must be None or a non-negative integer; "
                                            rf"got {topn!r}"):
                sg.most_similar("cat", topn=topn)
    assert sg.most_similar("cat", topn=0) == []                  # as gensim
    assert len(sg.most_similar("cat", topn=np.int64(2))) == 2
    everything = sg.most_similar("cat", topn=None)
    assert [w for w, _ in everything] == [w for w, _ in sg.most_similar("cat", topn=100)]
    assert len(everything) == len(sg.vocabulary_) - 1
    for bad in (np.full(4, np.nan), [1.0, np.inf, 0.0, 0.0]):
        with pytest.raises(ValueError, match="most_similar takes a finite vector"):
            sg.most_similar(bad)
    with pytest.raises(UnknownWordError) as info:
        sg.similarity("cat", "unicorn")
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    assert str(info.value).startswith("'unicorn' is not in the vocabulary (16 words")
    with pytest.raises(ValueError, match="'zebra' is not in the vocabulary"):
        sg.most_similar("zebra")


def test_word_pair_files_skip_lines_that_do_not_parse_as_gensim_does(tmp_path):
    docs, *_ = topic_corpus(n=40)
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, random_state=0).fit(docs)
    pairs = [("cat", "dog", 9.0), ("cat", "saw", 1.0), ("hammer", "saw", 8.0),
             ("cat", "zebra", 5.0)]
    path = tmp_path / "pairs.tsv"
    path.write_text("# comment\nWord 1\tWord 2\tHuman (mean)\n"
                    + "".join("%s\t%s\t%s\n" % p for p in pairs) + "cat saw 1\n")
    with pytest.warns(UserWarning, match=r"skipped 2 line\(s\) .* the first, line 2, is "
                                         r"\['Word 1', 'Word 2', 'Human \(mean\)'\]"):
        pearson, spearman, oov = sg.evaluate_word_pairs(path)
    expected = sg.evaluate_word_pairs(pairs)
    assert oov == expected[2] == pytest.approx(25.0)   # skipped lines are no pairs
    assert pearson.statistic == pytest.approx(expected[0].statistic)
    gensim = pytest.importorskip("gensim")
    sg.save_word2vec_format(tmp_path / "v.txt")
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(tmp_path / "v.txt"))
    theirs = kv.evaluate_word_pairs(str(path))
    assert pearson.statistic == pytest.approx(theirs[0].statistic, abs=1e-6)
    assert oov == pytest.approx(theirs[2])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_fit_that_trains_no_pair_warns_and_reports_nan_loss(engine):
    params = dict(vector_size=4, min_count=1, epochs=2, engine=engine, random_state=0)
    with pytest.warns(UserWarning, match=r"No \(word, context\) pair was trained in 2 of 2"):
        sg = SkipGramTransformer(**params).fit(["a", "b", "c"] * 5)   # one word a document
    assert [h["pairs"] for h in sg.history_] == [0, 0]
    assert all(np.isnan(h["loss"]) for h in sg.history_)
    assert np.isfinite(sg.embeddings_).all()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SkipGramTransformer(**params, sample=0).fit(["a b", "b c"] * 5)


def test_build_analyzer_tokenizes_as_fit_does():
    docs = ["Crime rose; POLICE said", "police and crime"]
    sg = SkipGramTransformer(vector_size=4, min_count=1, epochs=1, sample=0,
                             random_state=0).fit(docs)
    analyze = sg.build_analyzer()
    assert set(sg.vocabulary_) == {t for d in docs for t in analyze(d)}
    assert analyze("Crime rose") == ["crime", "rose"]
    assert SkipGramTransformer(lowercase=False).build_analyzer()("Crime") == ["Crime"]
    assert SkipGramTransformer(tokenizer=str.split).build_analyzer()("a-b c") == ["a-b", "c"]


def test_torch_engine_stays_stable_on_a_small_vocabulary():
    # 50 Zipf-distributed words: the most frequent rows are used hundreds of times
    # in one batch of 2048 pairs; summed at once they diverged (loss 1e18 with
    # vectors of norm 1e10, and no error). Capped at 32 uses' worth, it trains
    # as the one-update-at-a-time numba engine does (loss 0.456).
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(50)])
    p = 1 / np.arange(1, 51)
    docs = [list(rng.choice(words, size=10, p=p / p.sum())) for _ in range(20000)]
    sg = SkipGramTransformer(vector_size=8, min_count=1, epochs=1, engine="torch",
                             random_state=0).fit(docs)
    assert sg.history_[0]["loss"] < 0.6
    assert np.linalg.norm(sg.embeddings_, axis=1).max() < 5


def test_importing_the_package_does_not_import_numba():
    # Every worker of a parallel search imports the package: numba cost 0.3-0.4 s
    # of it, for users who may never fit a SkipGramTransformer.
    import subprocess
    import sys

    code = ("import sys, sklearn_rnn; from sklearn_rnn import SkipGramTransformer; "
            "assert 'numba' not in sys.modules, 'numba imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_first_numba_fit_keeps_the_callers_torch_threads():
    # Starting numba's OpenMP layer reset the OpenMP thread count torch reads too:
    # a process at one torch thread ran on every core after its first fit.
    import subprocess
    import sys

    pytest.importorskip("numba")
    code = ("import torch; torch.set_num_threads(1); from sklearn_rnn import "
            "SkipGramTransformer; SkipGramTransformer(vector_size=4, epochs=1, min_count=1, "
            "n_threads=2, engine='numba', random_state=0).fit(['a b c a b'] * 5); "
            "assert torch.get_num_threads() == 1, torch.get_num_threads()")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("params, match", [
    ({"aggregate": "MEAN"}, r"'aggregate' parameter of SkipGramTransformer must be"),
    ({"empty": "raise"}, r"'empty' parameter of SkipGramTransformer must be"),
    ({"tokenizer": 5}, r"'tokenizer' parameter of SkipGramTransformer must be"),
])
def test_transform_checks_what_it_reads_when_set_after_fit(params, match, tmp_path):
    docs = ["the cat sat on the mat", "a dog ran"] * 5
    sg = SkipGramTransformer(vector_size=4, min_count=1, sample=0, epochs=1,
                             random_state=0).fit(docs)
    expected = sg.transform(docs)
    with pytest.raises(ValueError, match=match):  # an unchecked 'MEAN' was summed
        sg.set_params(**params).transform(docs)
    np.testing.assert_array_equal(sg.set_params(**sg.__class__().get_params()).set_params(
        vector_size=4, min_count=1, sample=0, epochs=1, random_state=0).transform(docs),
        expected)
    with pytest.raises(TypeError, match=r"path must be a file name .*got int: 5"):
        sg.save_word2vec_format(5)  # not a file descriptor to write into


@pytest.mark.parametrize("engine", ENGINES)
def test_shrunk_window_pairs_each_word_with_window_plus_one_others_on_average(engine):
    n, w = 4000, 5
    doc = " ".join(f"w{i % 50}" for i in range(n))
    sg = SkipGramTransformer(vector_size=4, window=w, min_count=1, sample=0, epochs=1,
                             engine=engine, random_state=0).fit([doc])
    # A reduced window drawn uniformly from 1..w: 2 * E[reduced] = w + 1 pairs a word.
    assert sg.history_[0]["pairs"] == pytest.approx(n * (w + 1), rel=0.05)


@pytest.mark.parametrize("engine", ENGINES)
def test_learning_rate_decays_within_an_epoch(engine):
    docs = ["a b c d e f g h"] * 200
    params = dict(vector_size=4, min_count=1, sample=0, epochs=1, lr=0.05, engine=engine,
                  random_state=0)
    decayed = SkipGramTransformer(min_lr=1e-4, **params).fit(docs)
    constant = SkipGramTransformer(min_lr=0.05, **params).fit(docs)
    assert not np.allclose(decayed.embeddings_, constant.embeddings_)

