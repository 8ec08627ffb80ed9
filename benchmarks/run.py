"""Run every benchmark on this machine, print the figures and write docs/benchmarks.md.

    MNIST_DIR=../shared/mnist .venv/bin/python -m benchmarks.run [--skip-dashboard]

Measures (never asserts): time-to-99 % of the fast recipe vs the Keras example convnet,
training throughput, single-image latency, batch evaluation, the best recipe on the offline sample, the dashboard
in a browser, and many browser sessions drawing and browsing at once (`benchmarks.draw_load`, also runnable
alone). It replaces the sections it measures and keeps the others (handwriting, tuning, accuracy, ...), then
regenerates the goals table (`benchmarks/goals.py`).
Each section yields its report lines as its measurements finish, so progress shows while it runs.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import keras
import tensorflow as tf

from benchmarks import model_speed, offline_sample
from benchmarks.goals import with_goals
from benchmarks.report_sections import REPORT, merge_sections, write_section
from core.config import TrainConfig
from core.data import MnistData, load_mnist
from core.precision import training_precision
from core.training import train

ARCHS = ("mlp", "cnn", "fast_cnn", "deep_cnn", "kernel_cnn")  # draw_cnn is deep_cnn's network
SPEED_RECIPE = "fast_cnn (speed recipe)"
FLOAT32_RECIPE = "fast_cnn in float32 (as on a CPU without native bfloat16)"
KERAS_EXAMPLE = "cnn (Keras example, 15 epochs)"
RECIPES = {
    SPEED_RECIPE: TrainConfig.for_arch("fast_cnn"),
    FLOAT32_RECIPE: TrainConfig.for_arch("fast_cnn", precision="float32"),
    KERAS_EXAMPLE: TrainConfig.for_arch("cnn", epochs=15, patience=15),
}
TIME_TO_99_HEADING = "## 1. Time to 99 % test accuracy"
# One run's time to 99 % varies by ±15 % on this shared host (the recipe: 7.1–9.4 s in a row, same code):
# the median of three runs taken in turns.
TIME_TO_99_RUNS = 3
THROUGHPUT_HEADING = "## 2. Training throughput"
LATENCY_HEADING = "## 3. Prediction latency"
LATENCY_MODEL = {"epochs": 1, "train_limit": 2000}  # latency does not depend on how well a model is trained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-dashboard", action="store_true", help="skip the browser measurements (sections 4–9)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(SECTIONS),
        help="measure only these sections and replace just those in the report (e.g. --only throughput latency)",
    )
    args = parser.parse_args(argv)
    data = load_mnist()
    if args.only:
        for name in args.only:
            heading, section = SECTIONS[name]
            lines = []
            for line in section(data):
                print(line, flush=True)
                lines.append(line)
            write_section(REPORT, heading, lines)
        print(f"\n{', '.join(args.only)} replaced in {REPORT}")
        return 0
    lines = []
    for line in report_lines(data, with_dashboard=not args.skip_dashboard):
        print(line, flush=True)
        lines.append(line)
    # Sections this run does not measure (handwriting, tuning, accuracy, ...) stay as they are.
    existing = REPORT.read_text(encoding="utf-8") if REPORT.exists() else ""
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(with_goals(merge_sections(existing, "\n".join(lines))), encoding="utf-8")
    print(f"\nwritten to {REPORT}")
    return 0


def report_lines(data: MnistData, with_dashboard: bool) -> Iterator[str]:
    """The whole report, section by section."""
    counts = data.counts()
    data_line = f"{data.description} ({counts['train']:,} train / {counts['test']:,} test)"
    yield f"# Benchmarks\n\nMachine: {machine_description()}  \nData: {data_line}\n"
    yield from time_to_99_section(data)
    yield from throughput_section(data)
    yield from latency_section(data)
    yield "\n"
    yield from offline_sample.run(load_mnist("sample"))
    if with_dashboard:
        from benchmarks import (  # need Playwright, which the other sections do not
            analysis_speed,
            dashboard_memory,
            dashboard_speed,
            draw_load,
        )

        yield "\n## 4–5. The dashboard in a real browser\n"
        yield from dashboard_speed.run()
        yield from dashboard_memory.run(data)
        yield f"\n{draw_load.SECTION_HEADING}\n"
        yield from draw_load.run(data)
        yield from analysis_speed.run(data)


def machine_description() -> str:
    """CPU model, its widest vector instructions (timings here differ about 2× between AVX2 and
    AVX-512 hosts), core count, load and software versions."""
    return (
        f"{cpu_description()}, {os.cpu_count()} cores, {load_description()}; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def cpu_description() -> str:
    """The CPU model and its widest vector instruction set, e.g. "AMD EPYC (AVX-512)"."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return f"{platform.processor() or 'unknown CPU'} (vector instructions unknown)"
    lines = cpuinfo.read_text().splitlines()
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    flags = next((set(line.split(":", 1)[1].split()) for line in lines if line.startswith("flags")), set())
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    if training_precision("auto", frozenset(flags)) == "mixed_bfloat16":
        vector += ", native bfloat16"
    return f"{names[0] if names else 'unknown CPU'} ({vector})"


def load_description() -> str:
    """The load average: on a shared machine, other work slows every figure alike (ratios hold better)."""
    if not hasattr(os, "getloadavg"):
        return "load unknown"
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min)"


# ---- sections ------------------------------------------------------------------------------------


def time_to_99_section(data: MnistData, runs: int = TIME_TO_99_RUNS) -> Iterator[str]:
    yield f"{TIME_TO_99_HEADING}\n"
    yield (
        f"The recipes side by side in this run on {cpu_description()}, {os.cpu_count()} cores, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {load_description()} at the start. Each recipe trained {runs} "
        "times, taking turns; each row is its median run. The clock runs from each "
        "epoch's start to its end (validation included, the test-set probe not). images/s: training images per "
        "second of that clock.\n"
    )
    yield from table_header(
        "recipe",
        "trained in",
        "epochs",
        "training s",
        "images/s",
        "test accuracy (final)",
        "epoch reaching 99 %",
        "s to 99 %",
        "s to 99 %, each run",
    )
    results: dict[str, list[dict]] = {label: [] for label in RECIPES}
    for _ in range(runs):
        for label, config in RECIPES.items():
            results[label].append(model_speed.time_to_99(data, config))
    medians = {label: median_run(label_runs) for label, label_runs in results.items()}
    for label, label_runs in results.items():
        yield time_to_99_row(label, medians[label], label_runs)
    example = medians[KERAS_EXAMPLE]
    if medians[SPEED_RECIPE]["seconds_to_99"] and example["seconds_to_99"]:
        yield speed_up_line(medians[SPEED_RECIPE], example)
    if medians[FLOAT32_RECIPE]["seconds_to_99"] and example["seconds_to_99"]:
        yield float32_speed_up_line(medians[FLOAT32_RECIPE], example)


def median_run(runs: list[dict]) -> dict:
    """The run with the median time to 99 % (one that never reached it counts as the slowest)."""
    ordered = sorted(runs, key=lambda run: run["seconds_to_99"] or math.inf)
    return ordered[(len(ordered) - 1) // 2]


def throughput_section(data: MnistData, rounds: int = 2) -> Iterator[str]:
    """Each architecture's training images/s, the best of `rounds` interleaved runs (a shared machine's other
    work slows a run; the best is the least disturbed)."""
    yield f"{THROUGHPUT_HEADING} (images/s, second epoch, 10,800 images)\n"
    yield f"Best of {rounds} interleaved runs on {cpu_description()}; {load_description()} at the start.\n"
    yield from table_header("architecture", "images/s", "× the Keras example cnn")
    best = dict.fromkeys(ARCHS, 0.0)
    for _ in range(rounds):
        for arch in ARCHS:
            best[arch] = max(best[arch], model_speed.training_throughput(data, arch))
    for arch in ARCHS:
        yield f"| {arch} | {best[arch]:,.0f} | {best[arch] / best['cnn']:.2f} |"
    yield f"\n{load_description()} at the end.\n"


def latency_section(data: MnistData) -> Iterator[str]:
    yield f"\n{LATENCY_HEADING}\n"
    yield (
        "Single image from the Draw page's canvas (280×280 RGBA → preprocessing → model), after warm-up. "
        "The Draw page and the HTTP API use `predict_digit`: the model converted once to a LiteRT program "
        "(core/litert_forward.py). *XLA* is TensorFlow's pass it falls back to for a model LiteRT cannot run "
        "(`model(x)` traced and XLA-compiled once as a `tf.function`). "
        f"{cpu_description()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {load_description()} at the start.\n"
    )
    yield from table_header(
        "model",
        "`predict_digit` p50 ms",
        "p95 ms",
        "XLA p50 ms",
        "p95 ms",
        "eager `model(x)` p50 ms",
        "p95 ms",
        "`model.predict` p50 ms",
        "p95 ms",
        "test set (10,000) batch s",
        "LiteRT conversion s",
    )
    canvas = model_speed.canvas_with_a_digit(data)
    for arch in ARCHS:
        model = train(TrainConfig.for_arch(arch, **LATENCY_MODEL), data).model
        latency = model_speed.single_image_latency(model, canvas)
        batch_seconds = model_speed.batch_evaluation_seconds(model, data)
        yield latency_row(arch, latency, batch_seconds, model_speed.litert_conversion_seconds(model))


# The sections `--only` can measure alone: (heading in the report, section).
SECTIONS = {
    "time-to-99": (TIME_TO_99_HEADING, time_to_99_section),
    "throughput": (THROUGHPUT_HEADING, throughput_section),
    "latency": (LATENCY_HEADING, latency_section),
}


# ---- formatting ----------------------------------------------------------------------------------


def table_header(*columns: str) -> list[str]:
    """A markdown table's header row and separator."""
    return ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]


def time_to_99_row(label: str, result: dict, runs: list[dict]) -> str:
    def reached(run: dict) -> str:
        return f"{run['seconds_to_99']:.1f}" if run["seconds_to_99"] else "not reached"

    return (
        f"| {label} | {result['precision']} | {result['epochs']} | {result['training_seconds']:.1f} "
        f"| {result['images_per_second']:,.0f} "
        f"| {result['final_accuracy']:.4f} | {result['epoch_to_99'] or '-'} | {reached(result)} "
        f"| {', '.join(reached(run) for run in runs)} |"
    )


def speed_up_line(fast: dict, example: dict) -> str:
    return (
        f"\n**Speed-up to 99 %: {example['seconds_to_99'] / fast['seconds_to_99']:.1f}×** "
        f"(Keras example {example['seconds_to_99']:.1f} s / fast recipe {fast['seconds_to_99']:.1f} s, "
        f"medians of the same run, {cpu_description()}; {load_description()} at the end)\n"
    )


def float32_speed_up_line(float32: dict, example: dict) -> str:
    """The recipe where bfloat16 is not native: the goal holds on every host only if it holds here too."""
    ratio = example["seconds_to_99"] / float32["seconds_to_99"]
    return (
        f"In float32, as it trains on a CPU without native bfloat16: {ratio:.1f}× "
        f"(fast recipe in float32 {float32['seconds_to_99']:.1f} s, same run)\n"
    )


def latency_row(arch: str, latency: dict, batch_seconds: float, conversion_seconds: float) -> str:
    return (
        f"| {arch} | {latency['predict_digit_p50_ms']:.2f} | {latency['predict_digit_p95_ms']:.2f} "
        f"| {latency['xla_p50_ms']:.2f} | {latency['xla_p95_ms']:.2f} "
        f"| {latency['eager_p50_ms']:.2f} | {latency['eager_p95_ms']:.2f} "
        f"| {latency['predict_p50_ms']:.1f} | {latency['predict_p95_ms']:.1f} "
        f"| {batch_seconds:.2f} | {conversion_seconds:.2f} |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
