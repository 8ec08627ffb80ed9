"""docs/benchmarks.md is written section by section: a benchmark run alone replaces only its own section."""

from __future__ import annotations

from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def replace_section(report: str, heading: str, section: list[str]) -> str:
    """`report` with the section that starts at `heading` replaced by `section` (appended when absent).

    A section runs from its heading line to the next "## " heading.
    """
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    body = "\n".join(section).splitlines()
    if start is None:
        return report.rstrip("\n") + "\n\n" + "\n".join(body) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join([*lines[:start], *body, "", *lines[end:]]).rstrip("\n") + "\n"


def write_section(report_path: Path, heading: str, section: list[str]) -> None:
    """Replace (or add) one section of the report file."""
    existing = report_path.read_text(encoding="utf-8") if report_path.exists() else "# Benchmarks\n"
    report_path.parent.mkdir(exist_ok=True)
    report_path.write_text(replace_section(existing, heading, section), encoding="utf-8")
