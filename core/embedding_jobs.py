"""t-SNE maps computed in background threads, one per (model, data, sample size), shared server-wide.

A t-SNE of 2,000 points takes seconds: it runs in a daemon thread that pages poll, so the visitor
sees its progress and can cancel, and a second visit (any session) finds the finished map. The
thread runs numpy and openTSNE only: the penultimate features are computed before it starts.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from core.analysis.embedding import EmbeddingCancelled, EmbeddingMap, EmbeddingSample, tsne_map
from core.background import BackgroundTask, TaskTiming

KEPT_MAPS = 8  # finished maps kept (least recently asked for go first); running jobs are always kept


@dataclass(frozen=True, eq=False)
class TsneStatus(TaskTiming):
    """A snapshot of one t-SNE job, safe to read from any thread."""

    state: str  # running, done, cancelled, failed
    iteration: int = 0
    iterations: int = 0
    result: EmbeddingMap | None = None
    error: str | None = None
    started: float = 0.0
    finished: float | None = None

    @property
    def fraction_done(self) -> float:
        return self.iteration / self.iterations if self.iterations else 0.0


class TsneJob(BackgroundTask[TsneStatus]):
    """One t-SNE of a sample in a daemon thread; cancel() asks it to stop at the next report."""

    def __init__(self, sample: EmbeddingSample):
        super().__init__(TsneStatus("running", started=time.time()), thread_name="tsne-map")
        self._sample = sample

    def _progress(self, done: int, total: int) -> None:
        self._update(iteration=done, iterations=total)

    def _run(self) -> None:
        try:
            result = tsne_map(self._sample, progress=self._progress, cancel=lambda: self.cancelled)
        except EmbeddingCancelled:
            self._update(state="cancelled", finished=time.time())
        except Exception as error:  # the page shows it; the thread must not die silently
            traceback.print_exc()
            self._update(state="failed", error=f"{type(error).__name__}: {error}", finished=time.time())
        else:
            self._update(state="done", result=result, finished=time.time())


class TsneJobs:
    """The server's t-SNE jobs by key: at most one per key, finished maps kept for later visits."""

    def __init__(self, kept: int = KEPT_MAPS):
        self._jobs: OrderedDict[Hashable, TsneJob] = OrderedDict()
        self._lock = threading.Lock()
        self._kept = kept

    def get(self, key: Hashable) -> TsneJob | None:
        with self._lock:
            job = self._jobs.get(key)
            if job is not None:
                self._jobs.move_to_end(key)
            return job

    def start(self, key: Hashable, sample: EmbeddingSample) -> TsneJob:
        """The key's running or finished job, or a new one (after a cancelled or failed one)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.status().state in ("running", "done"):
                return job
            job = TsneJob(sample)
            self._jobs[key] = job
            self._jobs.move_to_end(key)
            self._forget_old()
        job.start()
        return job

    def cancel(self, key: Hashable) -> None:
        job = self.get(key)
        if job is not None:
            job.cancel()

    def _forget_old(self) -> None:
        finished = [key for key, job in self._jobs.items() if not job.status().is_active]
        for key in finished[: max(0, len(finished) - self._kept)]:
            del self._jobs[key]
