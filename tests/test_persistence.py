"""sklearn_rnn.save / load: round trips, and files that must be refused."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

import sklearn_rnn
from sklearn_rnn import load, save
from sklearn_rnn import persistence
from sklearn_rnn.persistence import PersistenceError

rng = np.random.default_rng(0)
X_SEQ = rng.normal(size=(40, 8, 2))
Y_LABELS = np.where(X_SEQ[:, :, 0].sum(axis=1) > 0, "up", "down")
RAGGED = [rng.normal(size=(n, 2)) for n in rng.integers(3, 9, size=30)]
T = np.arange(100)
FRAME = pd.DataFrame({"y": np.sin(T / 4), "x": np.cos(T / 7)},
                     index=pd.date_range("2000-01-01", periods=100, freq="MS"))
PANEL = pd.concat([pd.DataFrame({"year": 1950 + T[:40], "state": s, "rate": v + np.sin(T[:40])})
                   for s, v in [("A", 10.0), ("B", 50.0)]]).set_index("year")
TEXTS = ["the cat sat on the mat", "the dog sat on the log"] * 10
FAST = dict(hidden_size=4, max_epochs=2, random_state=0)

CASES = {
    "GRUClassifier": (lambda: sklearn_rnn.GRUClassifier(**FAST).fit(X_SEQ, Y_LABELS),
                      lambda m: m.predict_proba(X_SEQ)),
    "ElmanRegressor-table": (lambda: sklearn_rnn.ElmanRegressor(**FAST).fit(
        pd.DataFrame(X_SEQ[:, :, 0], columns=list("abcdefgh")), X_SEQ[:, 0, 1]),
        lambda m: m.predict(pd.DataFrame(X_SEQ[:, :, 0], columns=list("abcdefgh")))),
    "RNNRegressor-ragged": (lambda: sklearn_rnn.RNNRegressor(
        cell="lstm", bidirectional=True, **FAST).fit(RAGGED, np.arange(30.0)),
        lambda m: m.predict(RAGGED)),
    "TDNNClassifier": (lambda: sklearn_rnn.TDNNClassifier(**FAST).fit(X_SEQ, Y_LABELS),
                       lambda m: m.predict_proba(X_SEQ)),
    "LSTMForecaster": (lambda: sklearn_rnn.LSTMForecaster(
        target="y", lookback=6, **FAST).fit(FRAME.iloc[:90]), lambda m: m.predict(FRAME.iloc[90:])),
    "LSTMForecaster-panel": (lambda: sklearn_rnn.LSTMForecaster(
        target="rate", series_id="state", lookback=4, loss="quantile", **FAST).fit(PANEL),
        lambda m: m.forecast(3)),
    "SkipGramTransformer": (lambda: sklearn_rnn.SkipGramTransformer(
        vector_size=4, min_count=1, epochs=1, sample=0, random_state=0).fit(TEXTS),
        lambda m: m.transform(TEXTS)),
    "RNNLanguageModel": (lambda: sklearn_rnn.RNNLanguageModel(
        hidden_size=4, max_epochs=1, random_state=0).fit(TEXTS),
        lambda m: m.score(TEXTS[:2])),
}


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_predicts_identically(case, tmp_path):
    make, use = CASES[case]
    model = make()
    save(model, tmp_path / "model.skrnn")
    restored = load(tmp_path / "model.skrnn")
    assert type(restored) is type(model)
    assert restored.get_params() == model.get_params()
    expected, got = use(model), use(restored)
    if isinstance(expected, (pd.Series, pd.DataFrame)):
        assert expected.equals(got)
    else:
        np.testing.assert_array_equal(got, expected)


def test_data_in_front_of_the_archive_is_refused_not_skipped():
    # zipfile reads the last archive: two saves to one stream loaded the second.
    stream = io.BytesIO()
    save(sklearn_rnn.GRURegressor(hidden_size=3), stream)
    one = stream.getvalue()
    save(sklearn_rnn.LSTMRegressor(hidden_size=5), stream)
    for data in (stream.getvalue(), b"HEADER" + one):
        with pytest.raises(PersistenceError, match=r"\d+ bytes before its archive"):
            load(io.BytesIO(data))
    assert load(io.BytesIO(one)).hidden_size == 3


def test_a_network_parameter_changed_after_fit_loads_the_network_as_fitted(tmp_path):
    # The file rebuilt the network from the current parameters: set_params(pooling=
    # "mean") after fit loaded silently wrong predictions, hidden_size=8 not at all.
    model = sklearn_rnn.LSTMRegressor(**FAST).fit(X_SEQ, X_SEQ[:, 0, 1])
    expected = model.predict(X_SEQ)
    model.set_params(pooling="mean", hidden_size=8)
    save(model, tmp_path / "m.skrnn")
    restored = load(tmp_path / "m.skrnn")
    assert restored.get_params() == model.get_params()  # the user's parameters stay
    np.testing.assert_array_equal(restored.predict(X_SEQ), expected)
    with pytest.raises(ValueError, match="it was built with hidden_size=4"):
        restored.set_params(warm_start=True).fit(X_SEQ, X_SEQ[:, 0, 1])
    fc = sklearn_rnn.LSTMForecaster(target="y", lookback=6, **FAST).fit(FRAME.iloc[:90])
    expected = fc.predict(FRAME.iloc[90:])
    fc.set_params(level=False)
    save(fc, tmp_path / "f.skrnn")
    restored = load(tmp_path / "f.skrnn")
    with pytest.raises(ValueError, match="built with level=True"):
        restored.predict(FRAME.iloc[90:])
    assert restored.set_params(level=True).predict(FRAME.iloc[90:]).equals(expected)


@pytest.mark.parametrize("case", list(CASES))
def test_load_leaves_torch_rng_and_default_dtype_alone(case, tmp_path):
    """Loading builds a module (randomly initialised, then overwritten): it must
    not draw from the caller's torch RNG, and it is float32 under a caller's
    float64 default dtype (whose layers the float32 inputs would not match)."""
    make, use = CASES[case]
    model = make()
    save(model, tmp_path / "model.skrnn")
    expected = use(model)
    torch.manual_seed(7)
    after_seed = torch.get_rng_state()
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        restored = load(tmp_path / "model.skrnn")
        got = use(restored)
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(old)
    assert torch.equal(torch.get_rng_state(), after_seed)
    if isinstance(expected, (pd.Series, pd.DataFrame)):
        assert expected.equals(got)
    else:
        np.testing.assert_array_equal(got, expected)


def test_unfitted_and_warm_start_after_load(tmp_path):
    save(sklearn_rnn.LSTMRegressor(hidden_size=3), tmp_path / "u.skrnn")
    assert load(tmp_path / "u.skrnn").hidden_size == 3
    model = sklearn_rnn.GRUClassifier(warm_start=True, **FAST).fit(X_SEQ, Y_LABELS)
    save(model, tmp_path / "m.skrnn")
    restored = load(tmp_path / "m.skrnn")
    restored.fit(X_SEQ, Y_LABELS)                      # training resumes from the weights
    assert restored.n_iter_ == 4 and len(restored.history_) == 4


def test_callable_parameters_are_refused(tmp_path):
    sg = sklearn_rnn.SkipGramTransformer(tokenizer=str.split, min_count=1, epochs=1, sample=0,
                                         random_state=0)
    with pytest.raises(TypeError, match="callable"):
        save(sg.fit(TEXTS), tmp_path / "s.skrnn")


def _model_file(tmp_path):
    save(sklearn_rnn.GRUClassifier(**FAST).fit(X_SEQ, Y_LABELS), tmp_path / "m.skrnn")
    return tmp_path / "m.skrnn"


def test_truncated_and_foreign_files_are_refused(tmp_path):
    path = _model_file(tmp_path)
    data = path.read_bytes()
    (tmp_path / "cut.skrnn").write_bytes(data[: len(data) // 2])
    with pytest.raises(PersistenceError, match="not an intact"):
        load(tmp_path / "cut.skrnn")
    (tmp_path / "text.skrnn").write_text("hello")
    with pytest.raises(PersistenceError):
        load(tmp_path / "text.skrnn")


def _rewrite(path, out, json_edit=None, tensors=None):
    with zipfile.ZipFile(path) as archive:
        document = json.loads(archive.read("estimator.json"))
        raw = archive.read("tensors.pt")
    if json_edit:
        json_edit(document)
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("estimator.json", json.dumps(document))
        archive.writestr("tensors.pt", raw if tensors is None else tensors)
    return out


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.update({"class": "os.system"}), "not an estimator"),
    (lambda d: d.update({"format_version": 99}), "format version 99"),
    (lambda d: d.update({"format": "pickle"}), "not an sklearn_rnn"),
    (lambda d: d["params"]["__dict__"].update({"no_such_param": 1}), "does not fit"),
    (lambda d: d["state"]["__dict__"].update({"_built_with": "hidden_size"}),
     "built with are not a mapping"),
    (lambda d: d["state"]["__dict__"]["_built_with"]["__dict__"].update({"get_params": 1}),
     "built with are not a mapping"),
])
def test_tampered_json_is_refused(edit, match, tmp_path):
    path = _rewrite(_model_file(tmp_path), tmp_path / "bad.skrnn", json_edit=edit)
    with pytest.raises(PersistenceError, match=match):
        load(path)


class _Exploit:
    """Pickling this makes unpickling call os.system: loading must never run it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_code_in_the_tensor_file_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps({"module.head.weight": _Exploit(marker)})
    buffer = io.BytesIO()
    torch.save({"x": _Exploit(marker)}, buffer)
    for payload in (evil, buffer.getvalue()):
        path = _rewrite(_model_file(tmp_path), tmp_path / "evil.skrnn", tensors=payload)
        with pytest.raises(PersistenceError):
            load(path)
        assert not marker.exists()


def test_path_checkpoint_dir_is_saved_and_comes_back_as_a_path(tmp_path):
    # The Checkpoint callback saves the estimator, so a Path parameter must not break fit.
    model = sklearn_rnn.GRURegressor(checkpoint_dir=tmp_path, **FAST).fit(X_SEQ, X_SEQ[:, 0, 1])
    restored = load(tmp_path / "checkpoint.skrnn")
    assert restored.get_params()["checkpoint_dir"] == tmp_path
    assert isinstance(restored.checkpoint_dir, type(tmp_path))
    restored.set_params(max_epochs=1).fit(X_SEQ, X_SEQ[:, 0, 1])   # and is usable again
    assert model.n_iter_ == 2


def test_random_state_instance_keeps_its_state(tmp_path):
    model = sklearn_rnn.GRURegressor(hidden_size=4, max_epochs=2,
                                     random_state=np.random.RandomState(0))
    model.random_state.normal()                       # has_gauss=1, a cached gaussian
    save(model, tmp_path / "m.skrnn")
    restored = load(tmp_path / "m.skrnn").random_state
    assert isinstance(restored, np.random.RandomState) and restored is not model.random_state
    for got, expected in zip(restored.get_state(), model.random_state.get_state()):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(restored.normal(size=5), model.random_state.normal(size=5))
    with pytest.raises(TypeError, match="Generator"):
        save(sklearn_rnn.GRURegressor(random_state=np.random.default_rng(0)),
             tmp_path / "g.skrnn")


def test_time_zone_survives_so_forecasts_cross_dst_in_local_time(tmp_path):
    index = pd.date_range(end="2021-03-24", periods=40, freq="D", tz="Europe/Berlin")
    frame = pd.DataFrame({"y": np.sin(np.arange(40) / 4)}, index=index.as_unit("ns"))
    model = sklearn_rnn.LSTMForecaster(target="y", lookback=4, **FAST).fit(frame)
    save(model, tmp_path / "f.skrnn")
    expected, got = model.forecast(6).index, load(tmp_path / "f.skrnn").forecast(6).index
    assert str(got.dtype) == "datetime64[ns, Europe/Berlin]"
    assert got.equals(expected) and got.dtype == expected.dtype
    assert got[-1] == pd.Timestamp("2021-03-30", tz="Europe/Berlin")   # +02:00 after DST


@pytest.mark.parametrize("value", [
    pd.Timestamp("2021-01-01 00:00:00.000000001"), pd.Timestamp("2021-01-01").as_unit("s"),
    pd.Timedelta("1D 3ns"), pd.Period("2020-01-08", freq="W-SUN"),
    pd.offsets.Week(), pd.offsets.MonthBegin(normalize=True), pd.DateOffset(months=1),
    np.datetime64("2021-01-01T00:00:00.000000001"), np.timedelta64(5, "ms"),
], ids=repr)
def test_time_values_in_fitted_state_round_trip_exactly(value, tmp_path):
    model = sklearn_rnn.GRURegressor(hidden_size=4)
    model.stamp_ = value
    save(model, tmp_path / "m.skrnn")
    got = load(tmp_path / "m.skrnn").stamp_
    assert type(got) is type(value) and got == value
    for attribute in ("unit", "dtype", "kwds", "normalize", "freqstr"):
        if not callable(getattr(value, attribute, None)):
            assert getattr(got, attribute, None) == getattr(value, attribute, None), attribute


@pytest.mark.parametrize("labels", [
    np.array(["2020-01-01", "2021-01-01"] * 10, dtype="datetime64[D]"),
    pd.to_datetime(["2020-01-01", "2021-01-01"] * 10),          # datetime64[us]
    np.array([1, 2] * 10, dtype="timedelta64[s]"),
], ids=["datetime64[D]", "to_datetime", "timedelta64[s]"])
def test_classifier_with_time_labels_round_trips(labels, tmp_path):
    X = np.random.default_rng(0).normal(size=(20, 5))
    model = sklearn_rnn.GRUClassifier(**FAST).fit(X, labels)
    save(model, tmp_path / "m.skrnn")
    loaded = load(tmp_path / "m.skrnn")
    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("device", ["bogus", "cuda:99"])
def test_unavailable_device_is_the_callers_error_not_the_files(device, tmp_path):
    path = _model_file(tmp_path)
    with pytest.raises(ValueError, match=f"device={device!r}") as info:
        load(path, device=device)
    assert not isinstance(info.value, PersistenceError)
    with pytest.raises(ValueError, match="device="):   # checked before the file is read
        load(tmp_path / "no_such_file.skrnn", device=device)


def test_routing_requests_and_history_survive_save(tmp_path):
    import sklearn
    from sklearn.model_selection import GridSearchCV

    weights = np.linspace(0.5, 1.0, len(X_SEQ))
    with sklearn.config_context(enable_metadata_routing=True):
        est = (sklearn_rnn.GRUClassifier(**FAST).set_fit_request(sample_weight=True)
               .set_score_request(sample_weight=False))
        search = GridSearchCV(est, {"hidden_size": [2, 4]}, cv=2).fit(
            X_SEQ, Y_LABELS, sample_weight=weights)
        save(search.best_estimator_, tmp_path / "m.skrnn")
        restored = load(tmp_path / "m.skrnn")
        assert (restored._metadata_request._serialize()
                == search.best_estimator_._metadata_request._serialize())
        # Routed again: a search over the loaded estimator still receives the weights.
        GridSearchCV(restored, {"hidden_size": [2]}, cv=2).fit(X_SEQ, Y_LABELS,
                                                               sample_weight=weights)
    # history_ is a skorch History again, sliced as after fit.
    assert type(restored.history_) is type(search.best_estimator_.history_)
    np.testing.assert_array_equal(restored.history_[:, "train_loss"],
                                  search.best_estimator_.history_[:, "train_loss"])


def test_checkpoints_are_written_inside_pipelines_and_searches(tmp_path):
    # A meta-estimator attaches its callback context to the estimator while it
    # fits it: not state to save.
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X2 = X_SEQ[:, :, 0]
    make_pipeline(StandardScaler(), sklearn_rnn.GRUClassifier(
        **FAST, checkpoint_dir=tmp_path / "pipe")).fit(X2, Y_LABELS)
    assert load(tmp_path / "pipe" / "checkpoint.skrnn").n_iter_ == 2
    GridSearchCV(sklearn_rnn.LSTMForecaster(**FAST, lookback=3, checkpoint_dir=tmp_path / "fc"),
                 {"hidden_size": [2]}, cv=2).fit(X2[:, 0])
    assert load(tmp_path / "fc" / "checkpoint.skrnn").n_iter_ == 2


# --- damaged files, tampered documents, file objects -------------------------

def _small_model():
    model = sklearn_rnn.GRURegressor(hidden_size=4, max_epochs=1, random_state=0)
    model.fit(X_SEQ[:10], X_SEQ[:10, 0, 1])
    buffer = io.BytesIO()
    save(model, buffer)
    return model, buffer.getvalue()


def test_flipped_bytes_load_identically_or_raise_persistence_error():
    # Bit rot anywhere in the file: the zip headers, the deflated members, the
    # CRCs, the central directory. 0xFF and 0x06 also turn the compression
    # method 8 (deflate) into an unsupported one and into 14 (lzma).
    model, data = _small_model()
    refused = 0
    for position in sorted(set(np.linspace(0, len(data) - 1, 200).astype(int))):
        for mask in (0xFF, 0x06):
            damaged = bytearray(data)
            damaged[position] ^= mask
            try:
                restored = load(io.BytesIO(bytes(damaged)))
            except PersistenceError as error:
                assert "BytesIO" in str(error)        # it names the file
                refused += 1
            else:  # a harmless field (a time stamp): the CRCs vouch for the members
                np.testing.assert_array_equal(restored.predict(X_SEQ), model.predict(X_SEQ))
    assert refused > 0


def test_every_truncation_raises_persistence_error():
    _, data = _small_model()
    for length in range(0, len(data), 7):
        with pytest.raises(PersistenceError):
            load(io.BytesIO(data[:length]))


def _document_with(path, text=None, tensors=None):
    with zipfile.ZipFile(path) as archive:
        original, raw = archive.read("estimator.json"), archive.read("tensors.pt")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("estimator.json", original if text is None else text)
        archive.writestr("tensors.pt", raw if tensors is None else tensors)
    path.write_bytes(buffer.getvalue())
    return path


def _edited(edit):
    def text(document):
        edit(document)
        return json.dumps(document)
    return text


def _state(document):
    return document["state"]["__dict__"]


TAMPERED = {
    "class is a list": (_edited(lambda d: d.update({"class": ["GRUClassifier"]})),
                        "not an estimator"),
    "class is an object": (_edited(lambda d: d.update({"class": {"a": 1}})), "not an estimator"),
    "format_version is true": (_edited(lambda d: d.update({"format_version": True})),
                               "format version True"),
    "deep nesting": (lambda d: "[" * 100_000 + "]" * 100_000, "not valid JSON"),
    "deep nesting inside a parameter": (_edited(lambda d: d["params"]["__dict__"].update(
        {"hidden_size": json.loads("[" * 900 + "]" * 900)})), "RecursionError"),
    "huge integer": (lambda d: "9" * 5000, "not valid JSON"),
    "not UTF-8": (lambda d: b"\xff\xfe{", "not valid JSON"),
    "params is a list": (_edited(lambda d: d.update({"params": [1]})), "'params'"),
    "state is missing": (_edited(lambda d: d.pop("state")), "'state'"),
    "net is a list": (_edited(lambda d: d.update({"net": [1]})), "'net'"),
    "batch_size is a string": (_edited(lambda d: d["net"].update({"batch_size": "8"})),
                               "net.batch_size"),
    "dunder attribute": (_edited(lambda d: _state(d).update({"__class__": 1})), "__class__"),
    "missing tensor": (_edited(lambda d: _state(d).update(
        {"x_": {"__tensor__": "nope", "dtype": "<f4"}})), "'nope' is missing"),
    "dtype numpy would parse": (_edited(lambda d: _state(d).update(
        {"x_": {"__array__": [], "dtype": "(1,2),"}})), "dtype"),
    "dict items are not pairs": (_edited(lambda d: _state(d).update(
        {"x_": {"__items__": [[1, 2, 3]]}})), "pairs"),
    "tag of the wrong type": (_edited(lambda d: _state(d).update(
        {"x_": {"__dict__": [1, 2]}})), "'__dict__' field"),
    "unknown routing method": (_edited(lambda d: _state(d).update(
        {"_metadata_request": {"__dict__": {"__metadata_request__": {"__dict__": {
            "owner": {"__dict__": {"sample_weight": True}}}}}}})),
        "routing request"),
    "missing fitted attribute": (_edited(lambda d: _state(d).pop("classes_")), "'classes_'"),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_tampered_document_raises_persistence_error_naming_the_file(case, tmp_path):
    path = _model_file(tmp_path)
    with zipfile.ZipFile(path) as archive:
        document = json.loads(archive.read("estimator.json"))
    make_text, match = TAMPERED[case]
    _document_with(path, text=make_text(document))
    with pytest.raises(PersistenceError, match=match) as info:
        load(path)
    assert str(path) in str(info.value)


def test_tensor_file_that_is_not_a_mapping_of_tensors_is_refused(tmp_path):
    for payload in ((1, 2), {"module.x": [1.0]}, [torch.zeros(1)]):
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        path = _document_with(_model_file(tmp_path), tensors=buffer.getvalue())
        with pytest.raises(PersistenceError, match="mapping of names to tensors"):
            load(path)


def test_file_object_round_trip_predicts_identically(tmp_path):
    model = sklearn_rnn.GRUClassifier(**FAST).fit(X_SEQ, Y_LABELS)
    buffer = io.BytesIO(b"header")
    buffer.seek(0, io.SEEK_END)
    save(model, buffer)                               # written at the current position
    assert not buffer.closed
    buffer.seek(len(b"header"))
    restored = load(buffer)                           # read from the current position
    np.testing.assert_array_equal(restored.predict_proba(X_SEQ), model.predict_proba(X_SEQ))
    with open(tmp_path / "m.skrnn", "wb") as out:      # real files, and files and names mix
        save(model, out)
    np.testing.assert_array_equal(load(tmp_path / "m.skrnn").predict(X_SEQ),
                                  model.predict(X_SEQ))
    with open(tmp_path / "m.skrnn", "rb") as source:
        np.testing.assert_array_equal(load(source).predict(X_SEQ), model.predict(X_SEQ))


def test_bytes_and_str_paths_are_accepted(tmp_path):
    model = sklearn_rnn.GRURegressor(hidden_size=4)
    save(model, os.fsencode(tmp_path / "b.skrnn"))
    assert load(os.fsencode(tmp_path / "b.skrnn")).hidden_size == 4
    assert load(str(tmp_path / "b.skrnn")).hidden_size == 4


@pytest.mark.parametrize("bad", [5, None, ["m.skrnn"]], ids=repr)
def test_other_path_types_raise_type_error_naming_the_parameter(bad):
    with pytest.raises(TypeError, match=r"path must be .*got "):
        save(sklearn_rnn.GRURegressor(), bad)
    with pytest.raises(TypeError, match=r"path must be .*got "):
        load(bad)


def test_text_file_objects_are_refused_with_the_mode_to_use(tmp_path):
    with pytest.raises(TypeError, match="'wb'"):
        save(sklearn_rnn.GRURegressor(), io.StringIO())
    with pytest.raises(TypeError, match="'rb'"):
        load(io.StringIO("text"))
    save(sklearn_rnn.GRURegressor(), tmp_path / "m.skrnn")
    with open(tmp_path / "m.skrnn") as text_file, pytest.raises(TypeError, match="'rb'"):
        load(text_file)
    import tempfile

    # tempfile's wrapper is no io.TextIOBase; its mode says text all the same
    with tempfile.NamedTemporaryFile(mode="w") as text_file, \
            pytest.raises(TypeError, match="'wb'"):
        save(sklearn_rnn.GRURegressor(), text_file)


def test_unreadable_path_is_an_os_error_not_a_damaged_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "no_such_file.skrnn")


def _epochs(history):
    return [{k: v for k, v in epoch.items() if k != "dur"} for epoch in history]


def test_checkpoints_and_partial_fit_extend_the_history_they_built(tmp_path):
    """Each checkpoint and partial_fit encodes or copies only the new epochs (the
    whole history each time made a fit's cost grow with the square of its
    epochs); what they write is what a full rebuild gives."""
    y = X_SEQ[:, 0, 1]
    model = sklearn_rnn.ElmanRegressor(**{**FAST, "max_epochs": 6, "early_stopping": False},
                                       checkpoint_dir=tmp_path).fit(X_SEQ, y)
    for _ in range(3):
        model.partial_fit(X_SEQ, y)
    built = model.__dict__.pop("history_")
    assert _epochs(built) == _epochs(model._epoch_history()) and len(built) == 9
    model.history_ = built
    checkpoint = load(tmp_path / "checkpoint.skrnn")
    assert _epochs(checkpoint.history_) == _epochs(model.history_)  # partial_fit saves too
    # Saved once (with the network), not a second time among the fitted state.
    buffer = io.BytesIO()
    save(model, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        document = json.loads(archive.read(next(n for n in archive.namelist()
                                                if n.endswith(".json"))))
    assert "history_" not in document["state"]["__dict__"]
    assert _epochs(load(io.BytesIO(buffer.getvalue())).history_) == _epochs(model.history_)
    # The cached text of earlier epochs joins into the same document a fresh save
    # writes: after a callback adds to the last epoch, and after further epochs.
    cache = []
    for change in (lambda: None, lambda: model.net_.history.record("late_key", 1.0),
                   lambda: model.partial_fit(X_SEQ, y)):
        change()
        cached, fresh = io.BytesIO(), io.BytesIO()
        persistence._save(model, cached, cache)
        save(model, fresh)
        assert _member(cached, ".json") == _member(fresh, ".json")
    assert len(cache) == 10 and b"late_key" in _member(cached, ".json")


def _member(buffer, suffix):
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        return archive.read(next(n for n in archive.namelist() if n.endswith(suffix)))


def test_a_pickled_estimator_holds_no_torch_generator():
    # Unpickling a torch.Generator leaks native memory (2.7 KB a load, torch 2.13);
    # every fit sets a new one, so the fitted engine keeps none.
    y = X_SEQ[:, 0, 1]
    model = sklearn_rnn.GRURegressor(**FAST).fit(X_SEQ, y)
    assert b"Generator" not in pickle.dumps(model)
    assert model.net_.iterator_train__generator is None
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).partial_fit(
        X_SEQ, y).predict(X_SEQ), model.partial_fit(X_SEQ, y).predict(X_SEQ))
