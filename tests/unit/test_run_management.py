"""Managing saved runs: names, tags and notes written atomically, concurrent edits from threads, deletion,
sorting, filtering.

Concurrent edits from separate processes are tested in tests/process/test_run_management.py.
"""

import json
import threading
from dataclasses import replace

import pytest

from core.config import TrainConfig
from core.errors import RunStoreError
from core.record import SCHEMA_VERSION, Annotations, RunRecord, TestMetrics
from core.run_catalog import RunFilter, all_tags, filter_runs, sort_runs
from core.runs import MODEL_FILE, RECORD_FILE, RunInfo, RunStore
from tests.support.records import RUN_V1
from tests.support.run_management import EDITS_PER_WORKER, edit_many, store_with_a_run


@pytest.fixture
def store_with_run(tmp_path, trained_store):
    return store_with_a_run(tmp_path, trained_store)


def test_a_run_can_be_renamed_tagged_and_annotated(store_with_run):
    store, run = store_with_run
    updated = store.annotate(run.run_id, name="  My   best\nmodel ", tags=["keep", "baseline, Keep"], note=" good ")
    assert updated.annotations == Annotations(name="My best model", tags=("keep", "baseline"), note="good")
    assert store.get(run.run_id).annotations == updated.annotations
    assert updated.run_id == run.run_id and "“My best model”" in updated.label and run.run_id in updated.label
    store.annotate(run.run_id, note="")  # one field at a time; the others stay
    assert store.get(run.run_id).annotations == Annotations(name="My best model", tags=("keep", "baseline"))
    raw = json.loads((run.path / RECORD_FILE).read_text())
    assert raw["annotations"] == {"name": "My best model", "tags": ["keep", "baseline"], "note": ""}
    assert raw["schema_version"] == SCHEMA_VERSION
    assert [p.name for p in run.path.iterdir() if p.name.endswith(".tmp")] == []


def test_annotating_keeps_keys_from_a_newer_version_and_old_records_still_load(tmp_path, store_with_run):
    store, run = store_with_run
    record_path = run.path / RECORD_FILE
    raw = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**raw, "from_the_future": {"x": 1}, "schema_version": 9}))
    store.annotate(run.run_id, tags=["a"])
    raw = json.loads(record_path.read_text())
    assert raw["from_the_future"] == {"x": 1} and raw["schema_version"] == 9
    # A record without annotations (any version before 4) reads as empty ones and writes none back.
    old = RunRecord.from_dict(json.loads(RUN_V1.read_text(encoding="utf-8")))
    assert old.annotations == Annotations() and "annotations" not in old.to_dict()


def test_an_unknown_or_deleted_run_cannot_be_annotated(store_with_run):
    store, run = store_with_run
    store.delete(run.run_id)
    with pytest.raises(RunStoreError, match="no run"):
        store.annotate(run.run_id, name="gone")
    with pytest.raises(RunStoreError, match="not a valid run id"):
        store.annotate("../outside", name="x")


def test_concurrent_edits_from_threads_keep_each_others_fields(store_with_run):
    store, run = store_with_run
    fields = ("name", "tags", "note")
    threads = [threading.Thread(target=edit_many, args=(store.root, run.run_id, f, i)) for i, f in enumerate(fields)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    last = EDITS_PER_WORKER - 1
    annotations = store.get(run.run_id).annotations
    assert annotations == Annotations(name=f"name 0.{last}", tags=(f"tags 1.{last}",), note=f"note 2.{last}")


def test_deleting_while_another_session_edits_never_leaves_half_a_run(store_with_run):
    store, run = store_with_run
    errors = []

    def edit() -> None:
        for index in range(EDITS_PER_WORKER):
            try:
                store.annotate(run.run_id, note=str(index))
            except RunStoreError as error:
                errors.append(str(error))

    thread = threading.Thread(target=edit)
    thread.start()
    store.delete(run.run_id)
    thread.join()
    assert store.list_runs() == ([], [])
    assert all("no run" in error for error in errors)
    assert not (store.root / run.run_id).exists()


def test_an_edit_reads_its_record_back_before_a_deletion_moves_the_run_away(store_with_run, monkeypatch):
    """The edit's own read-back happens under the store's lock: a deletion started meanwhile waits for it.

    Without that, the folder could be renamed away between the edit's check and its read, and the editing
    session was told "run.json is missing", as if the run were damaged (seen once in the test above).
    """
    store, run = store_with_run
    reading, deleted = threading.Event(), threading.Event()
    read = RunStore._read

    def read_slowly(self, path):
        reading.set()
        deleted.wait(timeout=0.5)  # a deletion that does not wait for the lock would land here
        return read(self, path)

    monkeypatch.setattr(RunStore, "_read", read_slowly)

    def delete_once_reading() -> None:
        reading.wait()
        store.delete(run.run_id)
        deleted.set()

    deleter = threading.Thread(target=delete_once_reading)
    deleter.start()
    updated = store.annotate(run.run_id, note="last words")
    deleter.join()
    assert updated.annotations.note == "last words"
    assert not (store.root / run.run_id).exists()


def test_a_runs_model_file_can_be_downloaded(store_with_run):
    store, run = store_with_run
    assert store.model_bytes(run.run_id) == (run.path / MODEL_FILE).read_bytes()
    store.delete(run.run_id)
    with pytest.raises(RunStoreError, match="no model"):
        store.model_bytes(run.run_id)


# ---- sorting and filtering ---------------------------------------------------------------------------


def listed(run_id: str, arch: str, accuracy: float | None, created: str, study=None, tags=(), name="", note=""):
    config = TrainConfig(arch=arch, tags={"study": study} if study else {})
    record = RunRecord(
        config=config,
        test_metrics=TestMetrics(accuracy=accuracy),
        created=created,
        annotations=Annotations(name=name, tags=tuple(tags), note=note),
    )
    return RunInfo(run_id, None, replace(record, run_id=run_id))


CATALOG = [
    listed("a", "mlp", 0.91, "2024-01-03", tags=("keep",), name="Alpha"),
    listed("b", "cnn", 0.98, "2024-01-01", study="s1", note="the best one"),
    listed("c", "mlp", None, "2024-01-04", tags=("Keep", "upload")),
    listed("d", "deep_cnn", 0.95, "2024-01-02", study="s1"),
]


def ids(runs) -> list[str]:
    return [run.run_id for run in runs]


def test_runs_sort_by_date_accuracy_architecture_and_study():
    assert ids(sort_runs(CATALOG, "date")) == ["c", "a", "d", "b"]
    assert ids(sort_runs(CATALOG, "date", descending=False)) == ["b", "d", "a", "c"]
    assert ids(sort_runs(CATALOG, "accuracy")) == ["b", "d", "a", "c"]  # no accuracy: last
    assert ids(sort_runs(CATALOG, "accuracy", descending=False)) == ["a", "d", "b", "c"]
    assert ids(sort_runs(CATALOG, "architecture", descending=False)) == ["b", "d", "c", "a"]  # ties newest first
    assert ids(sort_runs(CATALOG, "study", descending=False)) == ["d", "b", "c", "a"]
    with pytest.raises(ValueError):
        sort_runs(CATALOG, "colour")


def test_runs_filter_by_architecture_study_tag_accuracy_and_text():
    assert ids(filter_runs(CATALOG, RunFilter())) == ["a", "b", "c", "d"]
    assert ids(filter_runs(CATALOG, RunFilter(archs=("mlp",)))) == ["a", "c"]
    assert ids(filter_runs(CATALOG, RunFilter(study="s1"))) == ["b", "d"]
    assert ids(filter_runs(CATALOG, RunFilter(tag="keep"))) == ["a", "c"]
    assert ids(filter_runs(CATALOG, RunFilter(min_accuracy=0.95))) == ["b", "d"]
    assert ids(filter_runs(CATALOG, RunFilter(text="BEST"))) == ["b"]
    assert ids(filter_runs(CATALOG, RunFilter(text="alpha", archs=("mlp",)))) == ["a"]
    assert all_tags(CATALOG) == ["keep", "upload"]
