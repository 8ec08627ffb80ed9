"""The dashboard's server-wide run listing (dashboard/state.py), in process: read once, read again after a change."""

from __future__ import annotations

import shutil

from core.runs import RunStore

# ---- the sidebar ---------------------------------------------------------------------------------


def test_run_listing_is_read_once_and_follows_saves_and_deletes(monkeypatch, tiny_runs, tmp_path):
    """Every page visit lists the runs; the store is read again only when a run was saved or deleted."""
    from dashboard import state

    root, ids = tiny_runs.store_with(tmp_path / "runs", alpha="alpha", beta="beta", gamma="gamma")
    monkeypatch.setenv("RUNS_DIR", str(root))
    reads = []
    read_runs = RunStore.list_runs
    monkeypatch.setattr(RunStore, "list_runs", lambda store: reads.append(store.root) or read_runs(store))

    def listed() -> set[str]:
        runs, damaged = state.run_listing()
        assert not damaged
        return {run.run_id for run in runs}

    assert listed() == set(ids.values())
    assert listed() == set(ids.values()) and len(reads) == 1  # nothing changed: the cached listing

    RunStore(root).delete(ids["beta"])
    assert listed() == {ids["alpha"], ids["gamma"]} and len(reads) == 2

    staging = root / ".saving-copy"  # a save publishes a complete folder by renaming it into the store
    shutil.copytree(root / ids["alpha"], staging)
    staging.rename(root / "20991231-000000-copy")
    assert listed() == {ids["alpha"], ids["gamma"], "20991231-000000-copy"} and len(reads) == 3
