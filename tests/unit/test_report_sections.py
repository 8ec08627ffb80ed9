"""A benchmark run alone replaces only its own section of docs/benchmarks.md."""

from benchmarks.report_sections import replace_section

REPORT = "# Benchmarks\n\n## 1. Speed\n\nold speed\n\n## 2. Memory\n\nold memory\n\n## 3. Load\n\nload\n"


def test_a_section_is_replaced_in_place_and_the_others_kept():
    updated = replace_section(REPORT, "## 2. Memory", ["## 2. Memory", "", "new memory"])
    assert "old memory" not in updated
    assert updated.index("old speed") < updated.index("new memory") < updated.index("## 3. Load")
    assert updated.endswith("load\n")


def test_a_missing_section_is_appended():
    updated = replace_section(REPORT, "## 4. Analyses", ["## 4. Analyses", "figures"])
    assert updated.startswith(REPORT.rstrip("\n"))
    assert updated.endswith("## 4. Analyses\nfigures\n")


def test_a_missing_numbered_section_goes_before_the_higher_numbers():
    updated = replace_section(REPORT, "## 2–2b. Disk", ["## 2–2b. Disk", "", "disk"])
    updated = replace_section(updated, "## 0. Goals", ["## 0. Goals", "goals"])
    assert updated.index("old memory") < updated.index("disk") < updated.index("## 3. Load")
    assert updated.index("# Benchmarks") < updated.index("goals") < updated.index("## 1. Speed")


def test_an_unnumbered_section_is_appended():
    updated = replace_section(REPORT, "## Notes", ["## Notes", "notes"])
    assert updated.endswith("## Notes\nnotes\n")
