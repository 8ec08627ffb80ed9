"""What the pytest-xdist workers of one test run share: a folder they all see, and a lock to build in it once.

`make check` runs the unit and app tiers on two workers (two processes, each with its own session fixtures).
Session fixtures that train (the catalogue of tiny runs, the uploaded models) build into a shared folder under
a lock, so the second worker reads what the first trained instead of training it again on the same two cores.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest


def shared_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder of this test run that every xdist worker sees (the workers' own folders' parent), made if missing.

    Without xdist it is a folder of the session's own temporary folder, like `mktemp(name)`.
    """
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    folder.mkdir(exist_ok=True)
    return folder


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing): other workers wait for it at the same line."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
