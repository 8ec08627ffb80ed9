"""Saved runs: round trip, atomic writes, ids, damaged folders, records of earlier versions."""

import json
import shutil

import numpy as np
import pytest

from core.analysis.evaluation import predict_probabilities
from core.config import TrainConfig
from core.errors import ModelFileError, RunStoreError
from core.record import SCHEMA_VERSION, RunRecord
from core.runs import RunStore, default_store_path
from tests.support.records import MLP_RECORD, RUN_V1


def test_saved_run_predicts_identically_and_records_everything(trained_store, sample_data):
    store, result = trained_store
    loaded = store.load_model(result.run.run_id)
    before = predict_probabilities(result.training.model, sample_data.x_test[:50])
    after = predict_probabilities(loaded, sample_data.x_test[:50])
    np.testing.assert_array_equal(before, after)
    record = store.get(result.run.run_id).record
    assert record == result.run.record
    assert record.config.arch == "mlp" and record.seed == 1
    assert record.data.source == "sample" and record.data.train == len(sample_data.y_train)
    assert record.data.train_used + record.data.validation == len(sample_data.y_train)
    assert len(record.history) == 2 and "val_loss" in record.history[0]
    assert record.test_metrics.accuracy == pytest.approx(result.evaluation.accuracy)
    assert record.test_metrics.count == len(sample_data.y_test)
    assert {"tensorflow", "keras"} <= set(record.versions)
    assert record.training_seconds > 0 and record.created
    assert record.run_id == result.run.run_id and record.schema_version == SCHEMA_VERSION
    assert result.run.run_id.endswith("-tiny-mlp")


def test_runs_are_never_overwritten(tmp_path, trained_store):
    _, result = trained_store
    store = RunStore(tmp_path)
    first = store.save(result.training.model, MLP_RECORD, name="same")
    second = store.save(result.training.model, MLP_RECORD, name="same")
    assert first.run_id != second.run_id
    assert {run.run_id for run in store.list_runs()[0]} == {first.run_id, second.run_id}


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", "a/b\\c", "..", "名字 ☃"])
def test_user_names_cannot_escape_the_store(tmp_path, trained_store, name):
    _, result = trained_store
    store = RunStore(tmp_path / "store")
    run = store.save(result.training.model, MLP_RECORD, name=name)
    assert run.path.parent == store.root
    assert "/" not in run.run_id and ".." not in run.run_id
    assert list(tmp_path.iterdir()) == [store.root]


def test_crash_mid_save_leaves_no_run(tmp_path, trained_store, monkeypatch):
    _, result = trained_store
    store = RunStore(tmp_path)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("core.runs._write_json", crash)
    with pytest.raises(RunStoreError, match="disk full"):
        store.save(result.training.model, MLP_RECORD, name="doomed")
    assert store.list_runs() == ([], [])
    assert list(tmp_path.iterdir()) == []  # the staging folder is gone too


def test_damaged_runs_are_listed_apart(tmp_path, trained_store):
    _, result = trained_store
    store = RunStore(tmp_path)
    good = store.save(result.training.model, MLP_RECORD, name="good")
    (tmp_path / "no-record").mkdir()
    (tmp_path / "no-record" / "model.keras").write_bytes(b"x")
    (tmp_path / "bad-json").mkdir()
    (tmp_path / "bad-json" / "run.json").write_text("{not json")
    (tmp_path / "bad-json" / "model.keras").write_bytes(b"x")
    (tmp_path / "no-model").mkdir()
    (tmp_path / "no-model" / "run.json").write_text(json.dumps({"config": {}}))
    (tmp_path / ".saving-in-progress").mkdir()
    runs, damaged = store.list_runs()
    assert [run.run_id for run in runs] == [good.run_id]
    reasons = {item.run_id: item.reason for item in damaged}
    assert set(reasons) == {"no-record", "bad-json", "no-model"}
    assert "run.json is missing" in reasons["no-record"]
    assert "unreadable" in reasons["bad-json"]
    assert "model.keras is missing" in reasons["no-model"]


def test_corrupt_model_file_gives_model_file_error(tmp_path, trained_store):
    _, result = trained_store
    store = RunStore(tmp_path)
    run = store.save(result.training.model, MLP_RECORD)
    (run.path / "model.keras").write_bytes(b"garbage" * 100)
    with pytest.raises(ModelFileError, match="model.keras"):
        store.load_model(run.run_id)


def test_listing_is_newest_first_and_delete_removes(tmp_path, trained_store):
    _, result = trained_store
    store = RunStore(tmp_path)
    old = store.save(result.training.model, MLP_RECORD, name="old")
    record_path = old.path / "run.json"
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**record, "created": "2000-01-01T00:00:00+00:00"}))
    new = store.save(result.training.model, RunRecord(config=TrainConfig(arch="cnn")), name="new")
    assert [run.run_id for run in store.list_runs()[0]] == [new.run_id, old.run_id]
    store.delete(old.run_id)
    assert [run.run_id for run in store.list_runs()[0]] == [new.run_id]
    with pytest.raises(RunStoreError):
        store.delete("../outside")


def test_store_location_follows_runs_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNS_DIR", str(tmp_path / "elsewhere"))
    assert default_store_path() == tmp_path / "elsewhere"
    assert RunStore().root == tmp_path / "elsewhere"


def test_read_only_store_gives_a_clear_error(tmp_path, trained_store):
    _, result = trained_store
    import os

    if os.geteuid() == 0:
        blocker = tmp_path / "file-not-folder"
        blocker.write_text("")
        store = RunStore(blocker / "store")  # cannot create a folder under a file, even as root
    else:
        (tmp_path / "ro").mkdir(mode=0o500)
        store = RunStore(tmp_path / "ro")
    with pytest.raises(RunStoreError, match="cannot write to the run store"):
        store.save(result.training.model, MLP_RECORD)


def test_a_version_1_record_loads_and_round_trips():
    raw = json.loads(RUN_V1.read_text(encoding="utf-8"))
    record = RunRecord.from_dict(raw)
    assert record.schema_version == 1
    assert record.config == TrainConfig.from_dict(raw["config"])
    assert record.seed == raw["seed"] and record.best_epoch == raw["best_epoch"]
    assert record.data.train_used == raw["data"]["train_used"] and record.data.source == raw["data"]["source"]
    assert record.history == tuple(raw["history"])
    assert record.test_metrics.accuracy == raw["test_metrics"]["accuracy"]
    assert record.test_metrics.confusion == tuple(tuple(row) for row in raw["test_metrics"]["confusion"])
    assert record.versions == raw["versions"] and record.created == raw["created"]
    assert RunRecord.from_dict(record.to_dict()) == record
    # Nothing is lost: written back, it is the same file plus its version and the settings it trained with
    # before they could be chosen (relu, early stopping on validation loss, float32, no elastic distortions,
    # augmentation's ±10° and ±10 %, no weight averaging). kernel_cnn's kernel size is 0 for every other
    # architecture; the exponential schedule's decay, 0.98, is there and unused under the run's schedule.
    config = {
        **raw["config"],
        "activation": ["relu"],
        "early_stopping_monitor": "val_loss",
        "precision": "float32",
        "elastic": False,
        "augment_rotation": 10.0,
        "augment_shift": 0.1,
        "weight_averaging": 0.0,
        "kernel_size": 0,
        "learning_rate_decay": 0.98,
    }
    assert json.loads(json.dumps(record.to_dict())) == {
        **raw,
        "config": config,
        "training_precision": "float32",
        "schema_version": 1,
    }


def test_a_version_1_run_is_listed_and_labelled(tmp_path, trained_store):
    _, result = trained_store
    raw = json.loads(RUN_V1.read_text(encoding="utf-8"))
    folder = tmp_path / "old-run"
    folder.mkdir()
    shutil.copy(RUN_V1, folder / "run.json")
    shutil.copy(result.run.path / "model.keras", folder / "model.keras")
    runs, damaged = RunStore(tmp_path).list_runs()
    assert damaged == [] and [run.run_id for run in runs] == ["old-run"]
    assert runs[0].test_accuracy == raw["test_metrics"]["accuracy"]
    assert runs[0].config.hidden_units == tuple(raw["config"]["hidden_units"])
    assert f"{raw['test_metrics']['accuracy']:.2%}" in runs[0].label


def test_missing_keys_get_defaults_and_unknown_keys_are_ignored():
    record = RunRecord.from_dict({"config": {"arch": "cnn", "from_the_future": 1}, "from_the_future": {}})
    assert record.config.arch == "cnn" and record.schema_version == 1
    assert record.history == () and record.best_epoch == 0 and record.test_metrics.accuracy is None
    assert record.data.source == "" and record.data.train is None and record.versions == {}
    newer = RunRecord.from_dict({**record.to_dict(), "schema_version": 3, "data": {"source": "keras", "new": 1}})
    assert newer.schema_version == 3 and newer.data.source == "keras"


def test_a_run_without_test_metrics_is_labelled_n_a(tmp_path, trained_store):
    _, result = trained_store
    run = RunStore(tmp_path).save(result.training.model, MLP_RECORD, name="no metrics")
    assert run.test_accuracy is None and "n/a" in run.label


def test_a_record_with_a_value_of_the_wrong_kind_is_listed_as_damaged(tmp_path, trained_store):
    _, result = trained_store
    store = RunStore(tmp_path)
    run = store.save(result.training.model, MLP_RECORD, name="bad history")
    record_path = run.path / "run.json"
    record_path.write_text(json.dumps({**json.loads(record_path.read_text()), "history": 5}))
    runs, damaged = store.list_runs()
    assert runs == [] and [item.run_id for item in damaged] == [run.run_id]
    assert "malformed" in damaged[0].reason
