"""Managing a saved run from several places at once: a store holding one run, and edits made in a loop.

Shared by the tests that edit from threads (tests/unit/) and from other processes (tests/process/).
"""

from __future__ import annotations

from pathlib import Path

from core.runs import RunInfo, RunStore
from tests.support.records import MLP_RECORD

EDITS_PER_WORKER = 15


def store_with_a_run(tmp_path: Path, trained_store) -> tuple[RunStore, RunInfo]:
    """A store of its own holding the session's tiny trained run, saved as "managed"."""
    _, result = trained_store
    store = RunStore(tmp_path)
    return store, store.save(result.training.model, MLP_RECORD, name="managed")


def edit_many(root: str, run_id: str, field: str, worker: int) -> None:
    """Write one field EDITS_PER_WORKER times (run in a thread or in another process)."""
    store = RunStore(root)
    for index in range(EDITS_PER_WORKER):
        value = f"{field} {worker}.{index}"
        store.annotate(run_id, **({"tags": [value]} if field == "tags" else {field: value}))
