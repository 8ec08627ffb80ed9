"""A hyperparameter study as read from its storage: its trials, best-so-far against time, parameter importances.

Pure functions over Optuna's frozen trials (the Studies page and tests call them); nothing here
writes to the storage.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import optuna
from optuna.trial import FrozenTrial, TrialState

from core.tuning import RUN_ATTR, WORKER_ATTR

MIN_TRIALS_FOR_IMPORTANCE = 3


@dataclass(frozen=True)
class TrialRow:
    """One trial as the Studies page lists it."""

    number: int
    state: str  # complete, pruned, fail, running, waiting
    value: float | None  # validation accuracy of a complete trial
    params: dict
    started: datetime | None
    completed: datetime | None
    seconds: float | None  # from start to end (None while running or waiting)
    worker: str  # host:pid of the worker that ran it
    run_id: str | None  # the saved run of a complete trial
    retry_of: int | None  # the trial this one re-runs (its worker died), if any
    retried: bool  # this trial's worker died and a retry was queued


def best_first(rows: Iterable[TrialRow], best_number: int | None) -> list[int]:
    """Trial numbers by score, highest first; among equal scores the study's best trial (the first to reach the
    score) leads, so a list's first entry is always the best trial, however the workers finished."""
    ordered = sorted(rows, key=lambda row: (row.value or 0, row.number == best_number), reverse=True)
    return [row.number for row in ordered]


@dataclass(frozen=True)
class Completion:
    """A complete trial in order of completion, with the best value up to it."""

    number: int
    completed: datetime
    value: float
    best_so_far: float


@dataclass(frozen=True)
class StudyOverview:
    name: str
    rows: tuple[TrialRow, ...]
    counts: dict  # state -> number of trials
    completions: tuple[Completion, ...]
    best_number: int | None
    best_value: float | None
    workers: tuple[str, ...]

    @property
    def best_row(self) -> TrialRow | None:
        return next((row for row in self.rows if row.number == self.best_number), None)


@dataclass(frozen=True)
class Importances:
    """Each parameter's share of the variation in validation accuracy (sums to 1), most important first."""

    values: tuple[tuple[str, float], ...] = ()
    reason: str = ""  # why there are none, when there are none


def study_overview(name: str, trials: Sequence[FrozenTrial]) -> StudyOverview:
    """The rows, counts and best-so-far series of a study (direction: maximise validation accuracy)."""
    retried = {number for trial in trials for number in trial.system_attrs.get("retry_history", ())}
    rows = tuple(_row(trial, retried) for trial in sorted(trials, key=lambda t: t.number))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    complete = sorted(
        (t for t in trials if t.state == TrialState.COMPLETE and t.value is not None and t.datetime_complete),
        key=lambda t: (t.datetime_complete, t.number),
    )
    completions, best, best_number = [], None, None
    for trial in complete:
        if best is None or trial.value > best:
            best, best_number = trial.value, trial.number
        completions.append(Completion(trial.number, trial.datetime_complete, trial.value, best))
    workers = tuple(sorted({row.worker for row in rows if row.worker}))
    return StudyOverview(name, rows, counts, tuple(completions), best_number, best, workers)


def _row(trial: FrozenTrial, retried: set[int]) -> TrialRow:
    seconds = None
    if trial.datetime_start and trial.datetime_complete:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
    return TrialRow(
        number=trial.number,
        state=trial.state.name.lower(),
        value=trial.value if trial.state == TrialState.COMPLETE else None,
        params=dict(trial.params),
        started=trial.datetime_start,
        completed=trial.datetime_complete,
        seconds=seconds,
        worker=str(trial.user_attrs.get(WORKER_ATTR, "")),
        run_id=trial.user_attrs.get(RUN_ATTR) if trial.state == TrialState.COMPLETE else None,
        retry_of=trial.system_attrs.get("failed_trial"),
        retried=trial.number in retried,
    )


def parameter_importances(study: optuna.Study) -> Importances:
    """optuna.importance.get_param_importances (PED-ANOVA by default) over the complete trials.

    Parameters that only some trials have (an MLP's width, a convnet's width scale) are left out
    by Optuna when the complete trials do not all share them.
    """
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
        needed = MIN_TRIALS_FOR_IMPORTANCE
        return Importances(reason=f"needs at least {needed} complete trials ({len(complete)} so far)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importances = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError, ZeroDivisionError) as error:
        return Importances(reason=f"Optuna could not compute them yet ({error})")
    if not importances:
        return Importances(reason="no parameter varies across the complete trials")
    ordered = sorted(importances.items(), key=lambda item: item[1], reverse=True)
    return Importances(values=tuple((name, float(value)) for name, value in ordered))
