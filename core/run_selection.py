"""Which saved run a visitor starts with when the link names none."""

from __future__ import annotations

from core.data import MnistData
from core.runs import RunInfo


def trained_on(run: RunInfo, data: MnistData) -> bool:
    """True when the run was trained and tested on data of the same kind and size as `data`."""
    recorded = run.record.data
    counts = data.counts()
    return recorded.source == data.source and (recorded.train, recorded.test) == (counts["train"], counts["test"])


def default_run(runs: list[RunInfo], data: MnistData, pinned: str | None = None) -> RunInfo | None:
    """The pinned run if it is in `runs`; else the best by validation accuracy among the runs on this data.

    Validation, not test, accuracy: the test set is for reporting, never for choosing. Runs
    without a validation score (uploads) and runs made on other data are not candidates.
    """
    by_id = {run.run_id: run for run in runs}
    if pinned in by_id:
        return by_id[pinned]
    scored = [
        (run.record.validation_accuracy, run.record.created, run)
        for run in runs
        if trained_on(run, data) and run.record.validation_accuracy is not None
    ]
    if not scored:
        return None
    return max(scored, key=lambda entry: (entry[0], entry[1]))[2]
