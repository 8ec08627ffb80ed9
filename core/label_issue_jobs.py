"""Training-set label issues as background jobs, one per (data, budget), shared by the whole server.

The K-fold probabilities come from the fast recipe, not from any visitor's model, so two visitors
asking for the same budget on the same data ask for the same thing: the first starts it, everyone
sees its progress and result. A page polls status(); the worker thread never touches Streamlit.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass

from core.analysis.label_issues import LabelIssues, rank_label_issues
from core.analysis.out_of_sample import Budget, FoldProgress, Trainer, out_of_sample_probabilities
from core.background import ACTIVE_STATES, BackgroundTask, TaskTiming
from core.data import MnistData
from core.errors import DigitLabError

KEEP_FINISHED = 6  # finished results kept (a full-MNIST result holds ~5 MB of probabilities)


@dataclass(frozen=True)
class OutOfSampleStatus(TaskTiming):
    """A consistent snapshot of one job, safe to read from any thread."""

    budget: Budget
    state: str  # queued, running, done, cancelled, failed
    fold: int = 0
    fraction_done: float = 0.0
    issues: LabelIssues | None = None  # of the budget's training images, when done
    error: str | None = None
    started: float = 0.0
    finished: float | None = None


class OutOfSampleJob(BackgroundTask[OutOfSampleStatus]):
    """K-fold probabilities then cleanlab's ranking of the first `budget.images` training images, in a thread."""

    def __init__(self, data: MnistData, budget: Budget, trainer: Trainer | None = None):
        super().__init__(OutOfSampleStatus(budget, "queued", started=time.time()), thread_name="out-of-sample")
        self._images = data.x_train[: budget.images]
        self._labels = data.y_train[: budget.images]
        self._trainer = trainer

    def _on_progress(self, progress: FoldProgress) -> None:
        self._update(state="running", fold=progress.fold, fraction_done=progress.fraction_done)

    def _run(self) -> None:
        budget = self._status.budget
        try:
            probabilities = out_of_sample_probabilities(
                self._images, self._labels, budget, self._trainer, self._on_progress, self._cancel
            )
            issues = None if probabilities is None else rank_label_issues(self._labels, probabilities)
        except DigitLabError as error:
            self._update(state="failed", error=str(error), finished=time.time())
            return
        except Exception as error:  # keep the server alive and tell the user what happened
            traceback.print_exc()
            self._update(state="failed", error=f"{type(error).__name__}: {error}", finished=time.time())
            return
        if issues is None:
            self._update(state="cancelled", finished=time.time())
        else:
            self._update(state="done", fraction_done=1.0, issues=issues, finished=time.time())


class OutOfSampleJobs:
    """The server's jobs by (data description, budget): at most one per pair, its result kept."""

    def __init__(self, trainer: Trainer | None = None):
        self._jobs: dict[tuple[str, Budget], OutOfSampleJob] = {}
        self._lock = threading.Lock()
        self._trainer = trainer

    def start(self, data: MnistData, budget: Budget) -> OutOfSampleJob:
        """The running or finished job for this budget, or a new one (after a cancel or failure)."""
        budget = budget.validated(len(data.y_train))
        key = (data.description, budget)
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.status().state in (*ACTIVE_STATES, "done"):
                return job
            job = OutOfSampleJob(data, budget, self._trainer)
            self._jobs[key] = job
            self._forget_old_results()
        job.start()
        return job

    def get(self, data: MnistData, budget: Budget) -> OutOfSampleJob | None:
        with self._lock:
            return self._jobs.get((data.description, budget))

    def _forget_old_results(self) -> None:
        statuses = {key: job.status() for key, job in self._jobs.items()}
        finished = sorted(
            (key for key, status in statuses.items() if not status.is_active),
            key=lambda key: statuses[key].finished or 0.0,
        )
        for key in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[key]
