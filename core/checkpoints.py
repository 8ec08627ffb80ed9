"""Training that survives being stopped: a run killed part-way carries on from its last finished epoch.

The accuracy recipes take 20–75 minutes each on two cores (docs/benchmarks.md, section 14), so a batch of them
outlives a sitting or a machine's turn. Keras' BackupAndRestore saves the weights and the optimizer after every
epoch (the optimizer's step count drives the one-cycle schedule) and loads them when `fit` starts again. This
module adds what Keras does not keep: the epochs' history, the seconds already spent, early stopping's best
epoch and weights, and the divergence guard's limit. A resumed run shuffles its remaining epochs afresh, so it
matches an uninterrupted one in distribution, not digit for digit.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np

KERAS_BACKUP = "keras"  # BackupAndRestore's own folder: it deletes it when training ends
STATE_FILE = "training_state.json"
BEST_WEIGHTS_FILE = "best_weights.npz"


class TrainingStateBackup(keras.callbacks.Callback):
    """Saves, after every epoch, the state of training() that Keras' backup leaves out; restores it on a resume.

    `progress`, `early_stopping` and `guard` are the callbacks of the same fit (core/training.py).
    """

    def __init__(self, directory: Path, progress, early_stopping: keras.callbacks.EarlyStopping, guard):
        super().__init__()
        self.directory = Path(directory)
        self.progress = progress
        self.early_stopping = early_stopping
        self.guard = guard
        self.seconds_before = 0.0  # spent by earlier attempts at this run
        self.resumed_from_epoch = 0  # 0: a fresh start
        self._started = 0.0
        self._restored = False

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        # Here, not at on_train_begin: by now every callback has reset itself and Keras has chosen the epoch
        # to resume at from its own backup, which the history is cut back to.
        if not self._restored:
            self._restored = True
            self._restore(completed_epochs=epoch)

    def on_epoch_end(self, epoch, logs=None):
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.early_stopping.best_weights is not None:
            _atomic_savez(self.directory / BEST_WEIGHTS_FILE, self.early_stopping.best_weights)
        state = {
            "history": self.progress.history,
            "seconds": self.seconds(),
            "early_stopping": {
                "best": _plain(self.early_stopping.best),
                "best_epoch": self.early_stopping.best_epoch,
                "wait": self.early_stopping.wait,
            },
            "divergence_limit": self.guard.limit,
        }
        _atomic_write_text(self.directory / STATE_FILE, json.dumps(state))

    def seconds(self) -> float:
        """Training seconds of this run so far, earlier attempts included."""
        return self.seconds_before + time.perf_counter() - self._started

    def _restore(self, completed_epochs: int) -> None:
        path = self.directory / STATE_FILE
        if completed_epochs == 0 or not path.is_file():
            return
        state = json.loads(path.read_text())
        self.resumed_from_epoch = completed_epochs
        self.progress.history[:] = [row for row in state["history"] if row["epoch"] <= completed_epochs]
        self.seconds_before = state["seconds"]
        self.early_stopping.best = state["early_stopping"]["best"]
        self.early_stopping.best_epoch = state["early_stopping"]["best_epoch"]
        self.early_stopping.wait = state["early_stopping"]["wait"]
        weights_path = self.directory / BEST_WEIGHTS_FILE
        if weights_path.is_file():
            with np.load(weights_path) as saved:
                self.early_stopping.best_weights = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        self.guard.limit = state["divergence_limit"]


def backed_up_epochs(directory: Path | None) -> int:
    """How many finished epochs a backup in `directory` holds (0: none, so a run there starts afresh)."""
    path = Path(directory) / STATE_FILE if directory is not None else None
    if path is None or not path.is_file():
        return 0
    return len(json.loads(path.read_text())["history"])


def backup_callbacks(directory: Path, progress, early_stopping, guard) -> tuple[list, TrainingStateBackup]:
    """The callbacks that make one fit resumable from `directory`, in the order fit must call them."""
    state = TrainingStateBackup(directory, progress, early_stopping, guard)
    # Keras' backup last: after an epoch the state above is written first, so a kill between the two writes
    # leaves a history one epoch ahead of the weights, which the restore cuts back, never one behind.
    return [state, keras.callbacks.BackupAndRestore(str(Path(directory) / KERAS_BACKUP))], state


def discard_backup(directory: Path | None) -> None:
    """Remove a finished run's backup (a no-op when there is none)."""
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def _plain(value):
    """A JSON-ready float from early stopping's best score (a numpy or Python number, or None before epoch 1)."""
    return None if value is None else float(value)


def _atomic_write_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def _atomic_savez(path: Path, arrays: list[np.ndarray]) -> None:
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, *arrays)
    os.replace(partial, path)
