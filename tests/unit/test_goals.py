"""docs/benchmarks.md's goals table is read from the sections the benchmarks wrote, and kept in step with them."""

from benchmarks.goals import HEADING, goal_lines, with_goals
from benchmarks.report_sections import merge_sections, write_section

PREAMBLE = "# Benchmarks\n\nMachine: AMD EPYC (AVX-512), 2 cores; 2026-11-26 19:05 UTC\n"
SPEED = (
    "## 1. Time to 99 % test accuracy\n\nBoth recipes on Intel Xeon (AVX2), 2 cores, 2026-12-01 10:00 UTC.\n\n"
    "**Speed-up to 99 %: {ratio}×** (Keras example 80 s / fast recipe 6.5 s)\n"
)
LATENCY = (
    "## 3. Prediction latency\n\n| model | `predict_digit` p50 ms | p95 ms | eager |\n| --- | --- | --- | --- |\n"
    "| mlp | 0.71 | 0.77 | 1.59 |\n| deep_cnn | 1.14 | {worst} | 8.53 |\n"
)
ACCURACY = (
    "## 14. Accuracy at the top: single runs and their ensemble\n\n"
    "**Single model, mean over 3 runs: 99.62%** (range 99.58%–99.65%)  \n"
    "**Ensemble of all 6 runs: 99.77%** (23 errors)\n"
)


def row(report: str, goal_start: str) -> str:
    return next(line for line in goal_lines(report) if line.startswith(f"| {goal_start}"))


def test_a_goal_reached_and_one_missed_read_from_their_sections():
    report = PREAMBLE + SPEED.format(ratio="12.4") + LATENCY.format(worst="3.40")
    assert "| 12.4× | yes | 1, Intel Xeon (AVX2), 2026-12-01 |" in row(report, "Speed recipe")
    assert "| 3.40 ms (worst: deep_cnn) | **no** |" in row(report, "Single-image prediction")


def test_a_section_without_a_date_or_host_takes_the_reports():
    report = PREAMBLE + LATENCY.format(worst="1.31")
    assert row(report, "Single-image prediction").endswith("| yes | 3, AMD EPYC (AVX-512), 2026-11-26 |")


def test_the_accuracy_goals_compare_the_mean_and_the_ensemble_with_their_own_targets():
    report = PREAMBLE + ACCURACY
    assert "| 99.62 % (mean of 3) | **no** |" in row(report, "Best single-model")
    assert "| 99.77 % (6 runs) | yes |" in row(report, "Ensemble")


def test_goals_without_a_section_say_so():
    assert "| not measured yet | — | 15 |" in row(PREAMBLE, "Offline sample")


def test_the_goals_section_goes_first_and_is_replaced_not_repeated():
    report = with_goals(with_goals(PREAMBLE + SPEED.format(ratio="11.5")))
    assert report.count(HEADING) == 1
    assert report.index(HEADING) < report.index("## 1. Time to 99 %")


def test_writing_a_section_updates_the_goals_table(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(with_goals(PREAMBLE + SPEED.format(ratio="11.5")), encoding="utf-8")
    write_section(path, "## 1. Time to 99 %", SPEED.format(ratio="12.6").splitlines())
    report = path.read_text(encoding="utf-8")
    assert "11.5" not in report
    assert "| 12.6× | yes |" in row(report, "Speed recipe")


def test_a_full_run_keeps_the_sections_it_did_not_measure():
    report = with_goals(PREAMBLE + SPEED.format(ratio="11.5") + ACCURACY)
    merged = with_goals(merge_sections(report, "# Benchmarks\n\nMachine: new host\n\n" + SPEED.format(ratio="12.1")))
    assert "Machine: new host" in merged and "Machine: AMD EPYC" not in merged
    assert "12.1×" in merged and "11.5×" not in merged
    assert "Ensemble of all 6 runs: 99.77%" in merged
