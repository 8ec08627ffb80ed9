"""The runs behind section 14 (accuracy at the top) as recipes: train the ones a run store lacks.

    MNIST_DIR=/path/to/mnist .venv/bin/python -m benchmarks.ensemble_runs --runs-dir DIR [--only NAME ...]
    MNIST_DIR=/path/to/mnist .venv/bin/python -m benchmarks.accuracy --runs-dir DIR \\
        $(.venv/bin/python -m benchmarks.ensemble_runs --runs-dir DIR --ids)

Section 14's figures come from runs that take 8–12 hours to train on two cores, far longer than one sitting, and
a fresh machine has none of them. This rebuilds them: a recipe whose run is already in the store (found by its
name) is skipped, and one stopped part-way resumes from its last finished epoch. So training can stop and start
again, or be split across machines with `--only` (each into its own store; then copy the run folders into one).
Each run is trained exactly as `python -m core train` would.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from core.config import TrainConfig

BACKUPS_FOLDER = ".unfinished"
_NARROW = {"arch": "deep_cnn", "filters": (32, 64, 128)}
_WIDE = {"arch": "deep_cnn", "filters": (48, 96, 160)}

# name → the run's settings (TrainConfig.for_arch fills in the rest from the architecture's defaults).
ENSEMBLE_RECIPES: dict[str, dict] = {
    "item2-bf16-30ep-s0": {**_NARROW, "epochs": 30, "seed": 0},
    "item2-bf16-30ep-s1": {**_NARROW, "epochs": 30, "seed": 1},
    "item2-bf16-30ep-s2": {**_NARROW, "epochs": 30, "seed": 2},
    "item2-gelu-20ep-s3": {**_NARROW, "epochs": 20, "activation": ("gelu",), "seed": 3},
    "item2-relu-20ep-s4": {**_NARROW, "epochs": 20, "seed": 4},
    "item2-drop3-20ep-s5": {**_NARROW, "epochs": 20, "dropout": 0.3, "seed": 5},
    "item2-wide-20ep-s6": {**_WIDE, "epochs": 20, "seed": 6},
    "item2-wide-20ep-s7": {**_WIDE, "epochs": 20, "seed": 7},
    "item2-wide-20ep-s8": {**_WIDE, "epochs": 20, "seed": 8},
    "item2-wide-drop3-20ep-s9": {**_WIDE, "epochs": 20, "dropout": 0.3, "seed": 9},
    "item2-wide-30ep-s10": {**_WIDE, "epochs": 30, "seed": 10},
    "item2-wide-30ep-s11": {**_WIDE, "epochs": 30, "seed": 11},
    "item2-wide-30ep-s12": {**_WIDE, "epochs": 30, "seed": 12},
    "item2-k5-30ep-s20": {"arch": "kernel_cnn", "kernel_size": 5, "epochs": 30, "dropout": 0.0, "seed": 20},
    "item2-k7-30ep-s21": {"arch": "kernel_cnn", "kernel_size": 7, "epochs": 30, "seed": 21},
    "item2-k5-30ep-s22": {"arch": "kernel_cnn", "kernel_size": 5, "epochs": 30, "seed": 22},
    "item2-k7-30ep-s23": {"arch": "kernel_cnn", "kernel_size": 7, "epochs": 30, "seed": 23},
}


def recipe_config(name: str) -> TrainConfig:
    """The TrainConfig of one named recipe, in bfloat16 where the CPU has it (as the runs were trained)."""
    settings = dict(ENSEMBLE_RECIPES[name])
    return TrainConfig.for_arch(settings.pop("arch"), precision="auto", name=name, **settings).validated()


def runs_by_recipe(store) -> dict[str, str]:
    """recipe name → the id of a run in `store` trained from it (the newest, if several)."""
    runs, _damaged = store.list_runs()
    found = {}
    for run in sorted(runs, key=lambda run: run.run_id):
        if run.config.name in ENSEMBLE_RECIPES:
            found[run.config.name] = run.run_id
    return found


def backup_dir_of(store, name: str) -> Path:
    """Where a recipe's unfinished run keeps its state, inside the store (its run list skips dot-folders)."""
    return Path(store.root) / BACKUPS_FOLDER / name


def train_missing(
    store, data, names: list[str], adjust: Callable[[TrainConfig], TrainConfig] = lambda config: config
) -> list[str]:
    """Train and save each named recipe the store lacks, in order; returns the ids of the new runs.

    A recipe stopped part-way (the process killed, the machine's turn over) carries on from its last finished
    epoch, from the state kept under the store's `.unfinished/` folder (core/checkpoints.py).

    `adjust` changes each config before training (the tests shrink the runs with it)."""
    from core.checkpoints import backed_up_epochs  # these import TensorFlow
    from core.cli.train import print_epoch
    from core.experiment import run_experiment

    trained = []
    for name in names:
        if name in runs_by_recipe(store):
            print(f"{name}: already in the store, skipped", flush=True)
            continue
        backup_dir = backup_dir_of(store, name)
        resuming = backed_up_epochs(backup_dir) > 0
        print(f"{name}: {'resuming from its last finished epoch' if resuming else 'training'}", flush=True)
        result = run_experiment(adjust(recipe_config(name)), data, store, listener=print_epoch, backup_dir=backup_dir)
        print(f"{name}: saved as {result.run.run_id}, test accuracy {result.evaluation.accuracy:.2%}", flush=True)
        trained.append(result.run.run_id)
    return trained


def recipe_status(store) -> dict[str, str]:
    """recipe name → where it stands in `store`: its saved run, the epochs an unfinished one has done, or nothing."""
    from core.checkpoints import backed_up_epochs

    saved = runs_by_recipe(store)
    status = {}
    for name in ENSEMBLE_RECIPES:
        done = backed_up_epochs(backup_dir_of(store, name))
        if name in saved:
            record = store.get(saved[name]).record
            status[name] = f"saved as {saved[name]}, test accuracy {record.test_metrics.accuracy:.2%}"
        elif done:
            status[name] = f"unfinished: {done} of {recipe_config(name).epochs} epochs done"
        else:
            status[name] = "not started"
    return status


def main(argv: list[str] | None = None) -> int:
    from core.runs import RunStore

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", required=True, help="the run store to fill")
    parser.add_argument("--only", nargs="+", choices=list(ENSEMBLE_RECIPES), help="train only these recipes")
    parser.add_argument("--ids", action="store_true", help="print the ids of the recipes' runs in the store and stop")
    parser.add_argument("--status", action="store_true", help="print where each recipe stands in the store and stop")
    args = parser.parse_args(argv)
    store = RunStore(args.runs_dir)
    if args.ids:
        print(*runs_by_recipe(store).values())
        return 0
    if args.status:
        for name, status in recipe_status(store).items():
            print(f"{name}: {status}")
        return 0
    from core.data import load_mnist

    train_missing(store, load_mnist(), args.only or list(ENSEMBLE_RECIPES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
