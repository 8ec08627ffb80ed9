"""Trials per hour of `python -m core tune` with one worker and with two, on the journal storage, on this machine.

Each round starts its workers as separate processes (`python -m core tune`, the command a user runs),
on a fresh run store and journal file, all on one study: `mlp`, one epoch, no pruning (every trial
does its full work), on the data at hand (full MNIST with MNIST_DIR, else the offline sample). The
rate is each worker's complete trials between its first trial's start and its last one's end, read
from the study itself and summed over the workers, so their start-up (importing TensorFlow, loading
the data, one after the other) is left out.

Run alone with `python -m benchmarks.tuning_scale`; it rewrites its own section of docs/benchmarks.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from core.study_storage import StorageSpec, open_storage
from core.tuning import WORKER_ATTR

SECTION_HEADING = "## 11. Tuning on one and two workers (trials per hour)"
REPO_ROOT = Path(__file__).resolve().parents[1]
TRIALS_PER_WORKER = 8
TRAIN_LIMIT = 3000


def round_rate(workers: int) -> tuple[float, int, float]:
    """(complete trials per hour, complete trials, the longest worker's seconds from first start to last end)."""
    with tempfile.TemporaryDirectory() as folder:
        journal, runs_dir = Path(folder) / "study.journal", Path(folder) / "runs"
        env = {key: value for key, value in os.environ.items() if key != "STUDY_STORAGE"}
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
        command = [
            sys.executable, "-m", "core", "tune", "--archs", "mlp", "--epochs", "1", "--no-pruning",
            "--train-limit", str(TRAIN_LIMIT), "--trials", str(TRIALS_PER_WORKER * workers),
            "--study", "bench", "--storage", str(journal), "--runs-dir", str(runs_dir),
        ]  # fmt: skip
        processes = [
            subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(workers)
        ]
        for process in processes:
            if process.wait() != 0:
                raise RuntimeError(f"a worker failed with exit code {process.returncode}")
        storage = open_storage(StorageSpec("journal", str(journal)), for_workers=False)
        trials = optuna.load_study(study_name="bench", storage=storage).get_trials(states=(TrialState.COMPLETE,))
    by_worker: dict[str, list] = {}
    for trial in trials:
        by_worker.setdefault(trial.user_attrs[WORKER_ATTR], []).append(trial)
    # Each worker's own rate between its first trial's start and its last one's end, summed: the workers
    # start (import TensorFlow) one after the other, and the study's overall span would count that stagger.
    rate = sum(len(mine) * 3600 / _span(mine) for mine in by_worker.values())
    return rate, len(trials), max(_span(mine) for mine in by_worker.values())


def _span(trials: list) -> float:
    return (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()


def run() -> list[str]:
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    one = round_rate(1)
    two = round_rate(2)
    load_after = os.getloadavg()[0]
    data = "full MNIST" if os.environ.get("MNIST_DIR") else "the offline sample"
    return [
        f"\n{SECTION_HEADING}\n",
        f"`python -m core tune --archs mlp --epochs 1 --no-pruning --train-limit {TRAIN_LIMIT}` on {data}, "
        f"{TRIALS_PER_WORKER} trials per worker, journal storage; each worker a separate process on this machine.\n",
        "| workers | complete trials | seconds (a worker's first start to its last end, longest) | trials per hour |",
        "| --- | --- | --- | --- |",
        f"| 1 | {one[1]} | {one[2]:.1f} | {one[0]:,.0f} |",
        f"| 2 | {two[1]} | {two[2]:.1f} | {two[0]:,.0f} |",
        "",
        f"**Two workers against one: {two[0] / one[0]:.2f}× the trials per hour** (both rounds measured in one run, "
        f"{time.perf_counter() - started:.0f} s in all; load average {load_before:.1f} before, {load_after:.1f} "
        "after, on 2 cores shared with other jobs). Trials differ in cost (the sampled batch size and width), "
        "so the ratio carries that noise too. More workers help only while the machine has idle cores: "
        "beyond them, add machines (docs/scale-out.md).",
    ]


if __name__ == "__main__":
    from benchmarks.report_sections import REPORT, write_section
    from benchmarks.run import machine_description

    section = [*run(), f"\nMeasured alone (`python -m benchmarks.tuning_scale`): {machine_description()}"]
    print("\n".join(section))
    write_section(REPORT, SECTION_HEADING, section)
