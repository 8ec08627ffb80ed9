"""Managing saved runs: edits from separate processes at once keep each other's fields, and never half a file."""

import json
import multiprocessing

import pytest

from core.runs import RECORD_FILE
from tests.support.run_management import EDITS_PER_WORKER, edit_many, store_with_a_run


@pytest.fixture
def store_with_run(tmp_path, trained_store):
    return store_with_a_run(tmp_path, trained_store)


def test_concurrent_edits_from_processes_keep_each_others_fields(store_with_run):
    store, run = store_with_run
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=edit_many, args=(str(store.root), run.run_id, f, i))
        for i, f in enumerate(("name", "note"))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    annotations = store.get(run.run_id).annotations
    last = EDITS_PER_WORKER - 1
    assert (annotations.name, annotations.note) == (f"name 0.{last}", f"note 1.{last}")
    assert json.loads((run.path / RECORD_FILE).read_text())  # never half a file
