"""The tiny runs the tests share: each training config named once here, trained once per session on first use.

A run takes seconds to train; the dashboard's tests alone asked for two dozen of them, most of them the
same few configs under other names. tests/conftest.py's `tiny_runs` fixture trains each name below the first
time a test asks for it, into one store that no test writes to (one for all pytest-xdist workers); a module gets
a store of its own holding copies of the runs it names (`TinyRuns.store_with`), by the names its tests use.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.analysis.handwriting import DRAW_RECIPE
from core.config import TrainConfig
from core.data import MnistData
from core.experiment import run_experiment
from core.runs import RunStore
from tests.support.shared import locked

# One epoch on 600 of the sample's 4,000 training images (60 held out for validation): seconds each,
# and scored on the sample's 1,000 test images. Every key is also the run's name (its id ends with it).
TINY_CONFIGS: dict[str, TrainConfig] = {
    "alpha": TrainConfig.for_arch("mlp", epochs=1, hidden_units=(16,), train_limit=600),
    "alpha-seed-1": TrainConfig.for_arch("mlp", epochs=1, hidden_units=(16,), train_limit=600, seed=1),
    "alpha-2-epochs": TrainConfig.for_arch("mlp", epochs=2, hidden_units=(16,), train_limit=600),
    "beta": TrainConfig.for_arch("mlp", epochs=1, hidden_units=(24,), train_limit=600),
    "gamma": TrainConfig.for_arch("cnn", epochs=1, batch_size=64, train_limit=600),
    "tiny-draw": TrainConfig.for_arch(DRAW_RECIPE, epochs=1, filters=(4, 8, 8), train_limit=600),
}


class TinyRuns:
    """The session's catalogue of tiny runs: trained on first use into `root`, which only this class writes.

    Under pytest-xdist every worker is handed the same `root` (tests/support/shared.py): the first worker to ask
    for a run trains it while holding that run's lock, and the others wait for it and read its id.
    """

    def __init__(self, root: Path, data: MnistData):
        self._store = RunStore(root)
        self._data = data
        self._ids: dict[str, str] = {}

    def run_id(self, name: str) -> str:
        """The id of the named run (a key of TINY_CONFIGS), trained now if no test asked for it before."""
        if name not in self._ids:
            id_file = self._store.root / f".{name}.id"  # a dot file: never taken for a run folder
            with locked(self._store.root / f".{name}.lock"):
                if not id_file.exists():
                    config = TINY_CONFIGS[name].with_changes(name=name)
                    id_file.write_text(run_experiment(config, self._data, self._store).run.run_id, encoding="utf-8")
            self._ids[name] = id_file.read_text(encoding="utf-8")
        return self._ids[name]

    def store_with(self, root: Path, **runs: str) -> tuple[Path, dict[str, str]]:
        """A store of its own at `root` holding copies of the named runs; their ids by the caller's names.

        `store_with(root, mlp="beta", cnn="gamma")` gives `(root, {"mlp": <beta's id>, "cnn": <gamma's id>})`.
        """
        root.mkdir(parents=True, exist_ok=True)
        ids = {}
        for local_name, name in runs.items():
            ids[local_name] = self.run_id(name)
            shutil.copytree(self._store.root / ids[local_name], root / ids[local_name])
        return root, ids


def private_copy(runs: tuple[Path, dict[str, str]], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A private, writable copy of a module's store (for tests that add to it, edit or delete)."""
    root, ids = runs
    copy = tmp_path / "runs"
    shutil.copytree(root, copy)
    return copy, ids
