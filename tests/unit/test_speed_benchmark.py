"""The time-to-99 benchmark reports each recipe's median run, so one slow run on a shared host does not decide."""

from benchmarks import run as benchmark
from benchmarks.run import float32_speed_up_line, median_run, time_to_99_row


def run(seconds):
    return {
        "precision": "float32",
        "epochs": 1,
        "training_seconds": 10.0,
        "images_per_second": 5000.0,
        "final_accuracy": 0.99,
        "epoch_to_99": 1 if seconds else None,
        "seconds_to_99": seconds,
    }


def test_the_median_run_is_the_middle_time_to_99():
    assert median_run([run(9.4), run(7.1), run(7.6)])["seconds_to_99"] == 7.6


def test_a_run_that_never_reached_99_counts_as_the_slowest():
    assert median_run([run(None), run(7.1), run(8.0)])["seconds_to_99"] == 8.0
    assert median_run([run(None), run(None), run(8.0)])["seconds_to_99"] is None


def test_the_row_lists_every_run():
    row = time_to_99_row("fast", run(7.6), [run(9.4), run(7.1), run(7.6)])
    assert row.endswith("| 7.6 | 9.4, 7.1, 7.6 |")


def test_the_float32_line_gives_the_ratio_where_bfloat16_is_not_native():
    line = float32_speed_up_line(run(8.0), run(96.0))
    assert "12.0×" in line and "8.0 s" in line
    assert "Speed-up to 99 %" not in line  # the goals table reads the speed recipe's line only


def test_only_replaces_the_sections_asked_for_and_keeps_the_others(tmp_path, monkeypatch):
    report = tmp_path / "benchmarks.md"
    report.write_text(
        "# Benchmarks\n\n## 2. Training throughput\n\nold throughput\n\n## 3. Prediction latency\n\nold\n"
    )
    monkeypatch.setattr(benchmark, "REPORT", report)
    monkeypatch.setattr(benchmark, "load_mnist", lambda: None)
    fresh = {
        "latency": (benchmark.LATENCY_HEADING, lambda data: iter([f"\n{benchmark.LATENCY_HEADING}\n", "new latency"]))
    }
    monkeypatch.setattr(benchmark, "SECTIONS", {**benchmark.SECTIONS, **fresh})
    assert benchmark.main(["--only", "latency"]) == 0
    text = report.read_text()
    assert "new latency" in text and "old throughput" in text and "\nold\n" not in text
