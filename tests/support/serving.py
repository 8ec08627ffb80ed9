"""What the prediction API's tests share, in process and against a server: the tolerance and a store of two runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.runs import RunStore
from tests.support.tiny_runs import TinyRuns

TOLERANCE = 1e-5  # a batched pass may sum in another order than a single-image one


def store_of_two_runs(trained_store, tiny_runs: TinyRuns, root: Path) -> tuple[RunStore, list[str]]:
    """A store of its own (the shared ones stay read-only): the session's run and a second, smaller MLP."""
    _, result = trained_store
    _, ids = tiny_runs.store_with(root, second="beta")
    shutil.copytree(result.run.path, root / result.run.run_id)
    return RunStore(root), [result.run.run_id, ids["second"]]
