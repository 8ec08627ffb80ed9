"""Background training jobs owned by the server process, polled by any number of pages.

A job id is a capability, not a label: whoever presents it may watch and cancel the job (the
dashboard keeps it in its owner's session and URL only). So ids are 128 random bits, never a counter
or a clock that another visitor could guess, and no code shows one session another's job id.
"""

from __future__ import annotations

import secrets
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.background import BackgroundTask, TaskTiming
from core.config import TrainConfig
from core.data import MnistData
from core.errors import DigitLabError
from core.runs import RunStore
from core.tf_startup import start_tensorflow

if TYPE_CHECKING:  # the job's thread imports TensorFlow: a server can list and poll jobs without it
    from core.training import ProgressEvent

JOB_ID_PREFIX = "job-"
JOB_TOKEN_BYTES = 16  # 128 bits: token_urlsafe makes 22 URL-safe characters of them


def new_job_id() -> str:
    """An unguessable job id, e.g. job-Xq3v0c8n2JmUu8Yx1bqZ3A."""
    return JOB_ID_PREFIX + secrets.token_urlsafe(JOB_TOKEN_BYTES)


@dataclass(frozen=True)
class JobStatus(TaskTiming):
    """A consistent snapshot of a job, safe to read from any thread."""

    job_id: str
    config: TrainConfig
    state: str  # queued, running, done, cancelled, failed
    fraction_done: float = 0.0
    epoch: int = 0
    epochs: int = 0
    history: tuple[dict, ...] = ()
    last_batch_metrics: dict = field(default_factory=dict)
    run_id: str | None = None
    test_accuracy: float | None = None
    error: str | None = None
    started: float = 0.0
    finished: float | None = None


class TrainingJob(BackgroundTask[JobStatus]):
    """Trains, evaluates and saves one run in a daemon thread; cancel() asks it to stop."""

    def __init__(self, job_id: str, config: TrainConfig, data: MnistData, store: RunStore):
        # The thread's name shows in logs and stack dumps: not the id, which is a secret.
        status = JobStatus(job_id, config, "queued", epochs=config.epochs, started=time.time())
        super().__init__(status, thread_name=f"training-{config.arch}")
        self._data = data
        self._store = store

    @property
    def job_id(self) -> str:
        return self._status.job_id

    def _on_progress(self, event: ProgressEvent) -> None:
        changes = {"state": "running", "fraction_done": event.fraction_done, "epoch": event.epoch}
        if event.kind == "batch":
            changes["last_batch_metrics"] = event.metrics
        if event.kind == "epoch":
            changes["history"] = (*self.status().history, event.metrics)
        self._update(**changes)

    def _run(self) -> None:
        try:
            start_tensorflow()  # quietly, here in the job's thread: the page that started the job goes on
            from core.experiment import run_experiment

            result = run_experiment(self._status.config, self._data, self._store, self._on_progress, self._cancel)
        except DigitLabError as error:
            self._update(state="failed", error=str(error), finished=time.time())
            return
        except Exception as error:  # keep the server alive and tell the user what happened
            traceback.print_exc()
            self._update(state="failed", error=f"{type(error).__name__}: {error}", finished=time.time())
            return
        if result is None:
            self._update(state="cancelled", finished=time.time())
        else:
            self._update(
                state="done",
                fraction_done=1.0,
                run_id=result.run.run_id,
                test_accuracy=result.evaluation.accuracy,
                finished=time.time(),
            )


class JobManager:
    """All training jobs of this server, by id.

    statuses() and active() carry every job's id, for this server's own bookkeeping (counts);
    only the starter of a job may be given its id.
    """

    def __init__(self, job_factory: Callable[..., TrainingJob] = TrainingJob):
        self._jobs: dict[str, TrainingJob] = {}
        self._lock = threading.Lock()
        self._job_factory = job_factory

    def start(self, config: TrainConfig, data: MnistData, store: RunStore) -> TrainingJob:
        """Start a job; the caller alone holds its id (the capability to watch and cancel it)."""
        with self._lock:
            job_id = new_job_id()
            job = self._job_factory(job_id, config, data, store)
            self._jobs[job_id] = job
        job.start()
        return job

    def get(self, job_id: str) -> TrainingJob | None:
        """The job with exactly this id; None for an unknown, mistyped, guessed or pre-restart id."""
        with self._lock:
            return self._jobs.get(job_id)

    def statuses(self) -> list[JobStatus]:
        """Every job's status, newest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        return sorted((job.status() for job in jobs), key=lambda s: s.started, reverse=True)

    def active(self) -> list[JobStatus]:
        return [status for status in self.statuses() if status.is_active]
