"""Run every benchmark on this machine, print the figures and write docs/benchmarks.md.

    MNIST_DIR=../shared/mnist .venv/bin/python -m benchmarks.run [--skip-dashboard]

Measures (never asserts): time-to-99 % of the fast recipe vs the Keras example convnet,
training throughput, single-image latency, batch evaluation, and the dashboard in a browser.
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import keras
import tensorflow as tf

from benchmarks import model_speed
from core.config import TrainConfig
from core.data import load_mnist
from core.training import train

REPORT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def machine_description() -> str:
    """CPU model, its widest vector instructions (timings here differ about 2× between AVX2 and
    AVX-512 hosts), core count and software versions."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = cpuinfo.read_text().splitlines()
        names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
        flags = next((set(line.split(":", 1)[1].split()) for line in lines if line.startswith("flags")), set())
        vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
        cpu = f"{names[0] if names else cpu} ({vector})"
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-dashboard", action="store_true", help="skip the browser measurements")
    args = parser.parse_args(argv)
    data = load_mnist()
    counts = data.counts()
    data_line = f"{data.description} ({counts['train']:,} train / {counts['test']:,} test)"
    lines = [f"# Benchmarks\n\nMachine: {machine_description()}  \nData: {data_line}\n"]

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    emit("## 1. Time to 99 % test accuracy\n")
    emit("| recipe | epochs | training s | test accuracy (final) | epoch reaching 99 % | s to 99 % |")
    emit("| --- | --- | --- | --- | --- | --- |")
    recipes = {
        "fast_cnn (speed recipe)": TrainConfig.for_arch("fast_cnn"),
        "cnn (Keras example, 15 epochs)": TrainConfig.for_arch("cnn", epochs=15, patience=15),
    }
    results = {}
    for label, config in recipes.items():
        r = model_speed.time_to_99(data, config)
        results[label] = r
        reached = f"{r['seconds_to_99']:.1f}" if r["seconds_to_99"] else "not reached"
        emit(
            f"| {label} | {r['epochs']} | {r['training_seconds']:.1f} | {r['final_accuracy']:.4f} | "
            f"{r['epoch_to_99'] or '-'} | {reached} |"
        )
    fast, example = results.values()
    if fast["seconds_to_99"] and example["seconds_to_99"]:
        emit(
            f"\n**Speed-up to 99 %: {example['seconds_to_99'] / fast['seconds_to_99']:.1f}×** "
            "(Keras example seconds / fast recipe seconds)\n"
        )

    emit("## 2. Training throughput (images/s, second epoch, 10,800 images)\n")
    emit("| architecture | images/s |")
    emit("| --- | --- |")
    for arch in ("mlp", "cnn", "fast_cnn", "deep_cnn"):
        emit(f"| {arch} | {model_speed.training_throughput(data, arch):,.0f} |")

    emit("\n## 3. Prediction latency\n")
    emit(
        "Single image from the Draw page's canvas (280×280 RGBA → preprocessing → model), after warm-up. "
        "The Draw page uses the compiled pass (`predict_digit`: `model(x)` traced once as a `tf.function`).\n"
    )
    emit(
        "| model | compiled p50 ms | p95 ms | eager `model(x)` p50 ms | p95 ms "
        "| `model.predict` p50 ms | p95 ms | test set (10,000) batch s |"
    )
    emit("| --- | --- | --- | --- | --- | --- | --- | --- |")
    canvas = model_speed.canvas_with_a_digit(data)
    for arch in ("mlp", "cnn", "fast_cnn", "deep_cnn"):
        model = train(TrainConfig.for_arch(arch, epochs=1, train_limit=2000), data).model
        lat = model_speed.single_image_latency(model, canvas)
        batch = model_speed.batch_evaluation_seconds(model, data)
        emit(
            f"| {arch} | {lat['compiled_p50_ms']:.2f} | {lat['compiled_p95_ms']:.2f} "
            f"| {lat['eager_p50_ms']:.2f} | {lat['eager_p95_ms']:.2f} "
            f"| {lat['predict_p50_ms']:.1f} | {lat['predict_p95_ms']:.1f} | {batch:.2f} |"
        )

    if not args.skip_dashboard:
        from benchmarks import dashboard_speed

        emit("\n## 4–5. The dashboard in a real browser\n")
        for line in dashboard_speed.run():
            emit(line)

    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"\nwritten to {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
