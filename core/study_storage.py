"""Where an Optuna study lives: a journal file on one machine, or a database (PostgreSQL) for many.

`python -m core tune --storage …` and the dashboard's Studies page both go through `parse_storage`:

- nothing given: STUDY_STORAGE when set, else the journal file `.studies/optuna-journal.log` in the run store
  (Optuna's JournalStorage + JournalFileBackend: several processes on one machine);
- `postgresql://…` (or any SQLAlchemy URL): Optuna's RDBStorage; `postgresql://` is read as
  `postgresql+psycopg://` (psycopg 3 is the driver installed);
- `sqlite:…` is refused for workers: Optuna's documentation advises against SQLite with parallel
  workers (its file lock serialises them and concurrent writes fail with "database is locked");
- anything else is a journal file path (`journal:` in front is optional).

Workers record a heartbeat while they run a trial. A trial whose heartbeat stopped for `grace` seconds
(its worker was killed, or its machine lost) is marked failed by the next worker that starts a trial,
and Optuna's `RetryHeartbeatStaleTrialCallback` (the successor of `RetryFailedTrialCallback`) queues a
copy of it with the same parameters for any worker to run. RDBStorage has heartbeats built in; for the
journal file, `HeartbeatJournalStorage` below gives JournalStorage the same `BaseHeartbeat` interface,
keeping the heartbeat as a system attribute of the trial, so the same Optuna machinery applies.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from core.errors import StudyStorageError

STORAGE_ENV = "STUDY_STORAGE"
# In a dot folder of the run store: listings of runs skip it, and the journal's lock files come and go
# there rather than in the store's own folder (whose changes make the dashboard reread the run listing).
JOURNAL_FILE = ".studies/optuna-journal.log"
JOURNAL_PREFIX = "journal:"
HEARTBEAT_ATTR = "digit_lab:heartbeat"  # seconds since the epoch, on a running trial of a journal study
DEFAULT_HEARTBEAT_SECONDS = 30
MAX_RETRIES = 2  # a trial whose worker died is run again at most this many times
SQLITE_REFUSED = (
    "SQLite cannot serve several workers at once (Optuna's documentation advises against it); "
    "use the default journal file on one machine, or a PostgreSQL URL for many"
)


@dataclass(frozen=True)
class StorageSpec:
    """A study storage as named by a user: a journal file or a database URL."""

    kind: str  # "journal" or "database"
    location: str  # the journal file's path, or the full SQLAlchemy URL

    @property
    def display(self) -> str:
        """How it is shown: the path, or the URL with its password hidden."""
        if self.kind == "journal":
            return self.location
        import sqlalchemy

        return sqlalchemy.engine.make_url(self.location).render_as_string(hide_password=True)

    @property
    def public_name(self) -> str:
        """How the dashboard names it to visitors: no folder of the server, no host, user or password."""
        if self.kind == "journal":
            return f"journal {Path(self.location).name}"
        import sqlalchemy

        url = sqlalchemy.engine.make_url(self.location)
        return f"{url.get_backend_name()} database {url.database}"

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "database" and self.location.startswith("sqlite")


def default_journal(store_root: str | os.PathLike) -> StorageSpec:
    return StorageSpec("journal", str(Path(store_root) / JOURNAL_FILE))


def parse_storage(text: str | None, store_root: str | os.PathLike) -> StorageSpec:
    """Read --storage (or STUDY_STORAGE): a database URL, a journal file path, or nothing (the store's journal)."""
    text = (text or os.environ.get(STORAGE_ENV) or "").strip()
    if not text:
        return default_journal(store_root)
    if text.startswith(JOURNAL_PREFIX):
        return StorageSpec("journal", str(Path(text.removeprefix(JOURNAL_PREFIX)).expanduser()))
    if "://" in text or text.startswith("sqlite:"):
        for plain in ("postgresql://", "postgres://"):
            if text.startswith(plain):
                text = "postgresql+psycopg://" + text.removeprefix(plain)
        return StorageSpec("database", text)
    return StorageSpec("journal", str(Path(text).expanduser()))


def open_storage(
    spec: StorageSpec,
    *,
    heartbeat: int | None = None,
    grace: int | None = None,
    max_retries: int = MAX_RETRIES,
    for_workers: bool = True,
) -> BaseStorage:
    """The Optuna storage; with `heartbeat` (seconds), trials of dead workers are failed and retried.

    Raises StudyStorageError for SQLite (when `for_workers`) and for a storage that cannot be opened.
    """
    if for_workers and spec.is_sqlite:
        raise StudyStorageError(SQLITE_REFUSED)
    with warnings.catch_warnings():  # the heartbeat API is flagged experimental on every worker start
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _open(spec, heartbeat, grace, max_retries)


def _open(spec: StorageSpec, heartbeat: int | None, grace: int | None, max_retries: int) -> BaseStorage:
    retry = RetryHeartbeatStaleTrialCallback(max_retry=max_retries) if heartbeat else None
    try:
        if spec.kind == "journal":
            Path(spec.location).parent.mkdir(parents=True, exist_ok=True)
            backend = JournalFileBackend(spec.location)
            if heartbeat:
                return HeartbeatJournalStorage(backend, heartbeat, grace, retry)
            return JournalStorage(backend)
        return RDBStorage(
            spec.location,
            heartbeat_interval=heartbeat,
            grace_period=grace,
            heartbeat_stale_trial_callback=retry,
            engine_kwargs={"pool_pre_ping": True},
        )
    except Exception as error:  # SQLAlchemy, the driver and the file system raise many types
        message = " ".join(str(error).split())[:300]
        raise StudyStorageError(f"cannot open the study storage {spec.display}: {message}") from error


def study_names(storage: BaseStorage) -> list[str]:
    """The studies in a storage, newest first."""
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    summaries.sort(key=lambda s: (s.datetime_start is not None, s.datetime_start or 0), reverse=True)
    return [summary.study_name for summary in summaries]


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """JournalStorage with Optuna's heartbeat interface (RDBStorage has it built in).

    The heartbeat is a system attribute of the running trial holding the wall-clock time: the journal
    file serves one machine, so every worker reads the same clock.
    """

    def __init__(self, backend, heartbeat_interval: int, grace_period: int | None, stale_trial_callback):
        super().__init__(backend)
        self._heartbeat_interval = heartbeat_interval
        self._grace_period = grace_period or 2 * heartbeat_interval
        self._stale_trial_callback = stale_trial_callback

    def record_heartbeat(self, trial_id: int) -> None:
        # A trial failed as stale meanwhile (a very slow worker) takes no more heartbeats: its retry runs elsewhere.
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        cutoff = time.time() - self._grace_period
        running = self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        return [
            trial._trial_id
            for trial in running
            if HEARTBEAT_ATTR in trial.system_attrs and trial.system_attrs[HEARTBEAT_ATTR] < cutoff
        ]

    def get_heartbeat_interval(self) -> int | None:
        return self._heartbeat_interval

    def get_heartbeat_stale_trial_callback(self):
        return self._stale_trial_callback
