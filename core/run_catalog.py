"""Sorting and filtering the store's runs for the Runs page: with ten runs, finding one is the problem."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.runs import RunInfo

SORT_KEYS = ("date", "accuracy", "architecture", "study", "name")


@dataclass(frozen=True)
class RunFilter:
    """What the listing keeps: every criterion left empty keeps every run."""

    archs: tuple[str, ...] = ()
    study: str | None = None
    tag: str | None = None
    min_accuracy: float | None = None
    text: str = ""  # in the id, the name or the note, case-insensitive

    def keeps(self, run: RunInfo) -> bool:
        annotations = run.annotations
        if self.archs and run.config.arch not in self.archs:
            return False
        if self.study is not None and run.study != self.study:
            return False
        if self.tag is not None and self.tag.lower() not in {tag.lower() for tag in annotations.tags}:
            return False
        if self.min_accuracy is not None and (run.test_accuracy is None or run.test_accuracy < self.min_accuracy):
            return False
        haystack = f"{run.run_id} {annotations.name} {annotations.note}".lower()
        return self.text.strip().lower() in haystack


def filter_runs(runs: Iterable[RunInfo], run_filter: RunFilter) -> list[RunInfo]:
    return [run for run in runs if run_filter.keeps(run)]


def sort_runs(runs: Iterable[RunInfo], by: str = "date", descending: bool = True) -> list[RunInfo]:
    """Runs sorted by one key; runs without a value for it (no accuracy, no study) always come last."""
    if by not in SORT_KEYS:
        raise ValueError(f"unknown sort key {by!r}; choose one of {', '.join(SORT_KEYS)}")
    runs = list(runs)

    def value(run: RunInfo):
        return {
            "date": run.record.created,
            "accuracy": run.test_accuracy,
            "architecture": run.config.arch,
            "study": run.study,
            "name": (run.annotations.name or run.run_id).lower(),
        }[by]

    # Ties keep newest first whatever the direction: sort by date, then stably by the key.
    runs.sort(key=lambda run: (run.record.created, run.run_id), reverse=True)
    present = [run for run in runs if value(run) is not None]
    missing = [run for run in runs if value(run) is None]
    present.sort(key=value, reverse=descending)
    return present + missing


def all_tags(runs: Sequence[RunInfo]) -> list[str]:
    """Every tag used by some run, sorted case-insensitively, each once."""
    seen: dict[str, str] = {}
    for run in runs:
        for tag in run.annotations.tags:
            seen.setdefault(tag.lower(), tag)
    return sorted(seen.values(), key=str.lower)
