"""The project's speed and accuracy goals against the figures the benchmarks last wrote, as a section of the report.

Each benchmark writes only its own section of docs/benchmarks.md, at different times and possibly on different
hosts. This module reads the figures back out of those sections (the bold summary lines and tables the benchmarks
themselves write) and regenerates the goals table after every write (`report_sections.write_section`), so the
table never disagrees with the sections. Pure text: no TensorFlow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.report_sections import replace_section, sections_of

HEADING = "## Goals against the latest figures"
CPU = re.compile(r"((?:AMD|Intel|Apple|ARM|Arm)[\w .-]*\([^)]*\))")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Figure:
    text: str  # as the table shows it
    met: bool


@dataclass(frozen=True)
class Goal:
    name: str
    target: str
    section: str  # the start of the heading of the section holding the figure
    read: Callable[[str], Figure | None]  # the section's text → its figure (None: not there)


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def _speed_up(section: str) -> Figure | None:
    found = re.search(r"\*\*Speed-up to 99 %: ([\d.]+)×", section)
    return found and Figure(f"{found[1]}×", _number(found[1]) >= 12)


def _single_model(section: str) -> Figure | None:
    found = re.search(r"\*\*Single model, mean over (\d+) runs: ([\d.]+)%", section)
    return found and Figure(f"{found[2]} % (mean of {found[1]})", _number(found[2]) >= 99.7)


def _ensemble(section: str) -> Figure | None:
    found = re.search(r"\*\*Ensemble of all (\d+) runs: ([\d.]+)%", section)
    return found and Figure(f"{found[2]} % ({found[1]} runs)", _number(found[2]) >= 99.75)


def _cold_start(section: str) -> Figure | None:
    found = re.search(r"Cold start \(process start → Home rendered[^*]*\*\*([\d.]+) s\*\*", section)
    return found and Figure(f"{found[1]} s", _number(found[1]) <= 3)


def _offline_sample(section: str) -> Figure | None:
    found = re.search(
        r"\*\*Offline sample, best recipe: ([\d.]+)%–([\d.]+)% test accuracy \(mean [\d.]+%\) in (\d+)–(\d+) s",
        section,
    )
    if not found:
        return None
    lowest, slowest = _number(found[1]), _number(found[4])
    return Figure(f"{found[1]}–{found[2]} % in {found[3]}–{found[4]} s", lowest >= 97 and slowest <= 60)


def _latency(section: str) -> Figure | None:
    """The worst `predict_digit` p95 over the architectures (third column of the latency table)."""
    worst = None
    for row in re.findall(r"^\| (\w+) \| ([\d.]+) \| ([\d.]+) \|", section, flags=re.MULTILINE):
        arch, p95 = row[0], _number(row[2])
        if worst is None or p95 > worst[1]:
            worst = (arch, p95)
    return worst and Figure(f"{worst[1]:.2f} ms (worst: {worst[0]})", worst[1] <= 3)


def _memory_growth(section: str) -> Figure | None:
    found = re.search(r"growth from round 2 to round 10: \*\*([+\-−]?[\d.]+)%\*\*", section)
    return found and Figure(f"{found[1]} %", _number(found[1]) < 10)


GOALS = (
    Goal("Speed recipe vs the Keras example convnet, time to 99 % test accuracy", "≥ 12×", "## 1.", _speed_up),
    Goal("Best single-model recipe, mean test accuracy over seeds", "≥ 99.70 %", "## 14.", _single_model),
    Goal("Ensemble of saved runs, test accuracy", "≥ 99.75 %", "## 14.", _ensemble),
    Goal("Process start → Home rendered in the browser", "≤ 3 s", "## 4–5.", _cold_start),
    Goal("Offline sample: best recipe's test accuracy, training time", "≥ 97 % within 60 s", "## 15.", _offline_sample),
    Goal("Single-image prediction p95, every architecture", "≤ 3 ms", "## 3.", _latency),
    Goal("Server memory growth over ten rounds of every page", "< 10 %", "## 4–5.", _memory_growth),
)


def goal_lines(report: str) -> list[str]:
    """The goals section for `report`: each goal, its figure, whether it is met, and where and on what host."""
    sections = sections_of(report)
    preamble = sections.get("", "")
    lines = [
        f"{HEADING}\n",
        "Regenerated from the sections below whenever a benchmark rewrites its section (`benchmarks/goals.py`). "
        "Sections are measured at different times; each row names the host and date of its own section.\n",
        "| goal | target | latest figure | met | section, host, date |",
        "| --- | --- | --- | --- | --- |",
    ]
    for goal in GOALS:
        heading = next((name for name in sections if name.startswith(goal.section)), None)
        figure = goal.read(sections[heading]) if heading else None
        if figure is None:
            lines.append(f"| {goal.name} | {goal.target} | not measured yet | — | {goal.section[3:].rstrip('.')} |")
            continue
        text = sections[heading]
        cpu = CPU.search(text) or CPU.search(preamble)
        date = DATE.search(text) or DATE.search(preamble)
        where = ", ".join(part for part in (goal.section[3:].rstrip("."), cpu and cpu[1], date and date[0]) if part)
        lines.append(f"| {goal.name} | {goal.target} | {figure.text} | {'yes' if figure.met else '**no**'} | {where} |")
    return lines


def with_goals(report: str) -> str:
    """`report` with its goals section regenerated, placed before the first numbered section when new."""
    section = goal_lines(report)
    lines = report.splitlines()
    if any(line.startswith(HEADING) for line in lines):
        return replace_section(report, HEADING, section)
    first = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
    return "\n".join([*lines[:first], *"\n".join(section).splitlines(), "", *lines[first:]]).rstrip("\n") + "\n"
