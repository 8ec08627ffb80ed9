"""docs/benchmarks.md is written section by section: a benchmark run alone replaces only its own section."""

from __future__ import annotations

import re
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def replace_section(report: str, heading: str, section: list[str]) -> str:
    """`report` with the section that starts at `heading` replaced by `section`.

    A section runs from its heading line to the next "## " heading. A new numbered section goes before
    the first section with a higher number, so sections written in any order read in order; others are appended.
    """
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    body = "\n".join(section).splitlines()
    if start is None:
        later = _first_section_numbered_after(lines, _section_number(heading))
        if later is None:
            return report.rstrip("\n") + "\n\n" + "\n".join(body) + "\n"
        return "\n".join([*lines[:later], *body, "", *lines[later:]]).rstrip("\n") + "\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join([*lines[:start], *body, "", *lines[end:]]).rstrip("\n") + "\n"


def _section_number(heading: str) -> int | None:
    """The leading number of a "## 7. Title" or "## 7–8. Title" heading; None for an unnumbered one."""
    match = re.match(r"## (\d+)", heading)
    return int(match.group(1)) if match else None


def _first_section_numbered_after(lines: list[str], number: int | None) -> int | None:
    """Index of the first "## " line whose number is above `number`; None if there is none (or no number)."""
    if number is None:
        return None
    return next(
        (i for i, line in enumerate(lines) if line.startswith("## ") and (_section_number(line) or 0) > number),
        None,
    )


def sections_of(report: str) -> dict[str, str]:
    """Each "## " section's text by its heading line, in order; "" holds what comes before the first."""
    sections, heading, lines = {}, "", []
    for line in report.splitlines():
        if line.startswith("## "):
            sections[heading] = "\n".join(lines)
            heading, lines = line, []
        lines.append(line)
    sections[heading] = "\n".join(lines)
    return sections


def merge_sections(report: str, update: str) -> str:
    """`report` with every section of `update` replaced (or appended); its other sections are kept.

    `update`'s preamble (before its first "## " heading) replaces `report`'s, which starts with "# ".
    """
    for heading, text in sections_of(update).items():
        if not text.strip():
            continue
        key = heading or text.splitlines()[0]
        report = replace_section(report, key, text.splitlines()) if report else text + "\n"
    return report


def write_section(report_path: Path, heading: str, section: list[str]) -> None:
    """Replace (or add) one section of the report file, and regenerate the goals table from the result."""
    from benchmarks.goals import with_goals  # here, not above: goals reads the report with this module's helpers

    existing = report_path.read_text(encoding="utf-8") if report_path.exists() else "# Benchmarks\n"
    report_path.parent.mkdir(exist_ok=True)
    report_path.write_text(with_goals(replace_section(existing, heading, section)), encoding="utf-8")
