"""One piece of work in a daemon thread: a status snapshot any thread may read, and a cancel flag.

Training jobs, training-set label issues and t-SNE maps all run this way: a page polls status()
on every rerun, and the worker thread never touches Streamlit. Statuses are frozen dataclasses,
replaced whole under a lock, so a reader never sees half an update.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Generic, TypeVar

Status = TypeVar("Status")

ACTIVE_STATES = ("queued", "running")


class TaskTiming:
    """What every status dataclass derives from its `state`, `started` and `finished` fields."""

    state: str  # queued, running, done, cancelled, failed
    started: float
    finished: float | None

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def elapsed(self) -> float:
        """Seconds since the start: until now while it runs, until the end once it has ended."""
        return (self.finished or time.time()) - self.started


class BackgroundTask(Generic[Status]):
    """Subclasses implement _run(), reporting through _update() and checking `cancelled`."""

    def __init__(self, status: Status, thread_name: str):
        self._status = status
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop at its next check; it ends in its own time."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> Status:
        """The status once the thread has ended (or `timeout` seconds have passed)."""
        self._thread.join(timeout)
        return self.status()

    def status(self) -> Status:
        with self._lock:
            return self._status

    def _update(self, **changes) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)

    def _run(self) -> None:
        raise NotImplementedError
