"""The dashboard in a real browser: cold start, page render times, server memory over rounds."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from core.config import TrainConfig
from core.data import load_mnist
from core.experiment import run_experiment
from core.runs import RunStore
from dashboard.browser_steps import go_to_page, open_app
from dashboard.page_registry import PAGES as REGISTERED_PAGES
from dashboard.server_process import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    free_loopback_port,
    start_streamlit,
    stop_process_group,
    wait_for_health,
)

ROUNDS = 10
PAGES = [page.title for page in REGISTERED_PAGES]


def resident_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process in KiB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def run() -> list[str]:
    """Measure and return the report lines (markdown)."""
    if not CHROMIUM.exists():
        return [f"skipped: {CHROMIUM} is missing"]
    with tempfile.TemporaryDirectory() as folder:
        runs_dir = Path(folder) / "runs"
        config = TrainConfig.for_arch("mlp", epochs=2, name="benchmark mlp")
        run_info = run_experiment(config, load_mnist(), RunStore(runs_dir)).run
        return measure(runs_dir, run_info.run_id)


def measure(runs_dir: Path, run_id: str) -> list[str]:
    """Start the dashboard on `runs_dir`, open `run_id` in Chromium, then time every page and watch memory."""
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    log_path = Path(runs_dir).parent / "streamlit.log"
    started = time.perf_counter()
    process = start_streamlit(port, {**os.environ, "RUNS_DIR": str(runs_dir)}, log_path)
    try:
        wait_for_health(url, process, log_path)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(120_000)
            open_app(page, f"{url}/?run={run_id}")
            cold_start = time.perf_counter() - started
            first_visit = visit_every_page(page)
            rounds, memory = [], []
            for _ in range(ROUNDS):
                rounds.append(visit_every_page(page))
                memory.append(resident_kib(process.pid))
            browser.close()
    finally:
        stop_process_group(process)
    return [cold_start_line(cold_start), *page_times_table(first_visit, rounds), *memory_lines(memory)]


def visit_every_page(page: Page) -> dict[str, float]:
    """Seconds to open each page, by title."""
    seconds = {}
    for title in PAGES:
        begun = time.perf_counter()
        go_to_page(page, title)
        seconds[title] = time.perf_counter() - begun
    return seconds


def cold_start_line(seconds: float) -> str:
    return f"Cold start (process start → Home rendered in the browser): **{seconds:.1f} s**\n"


def page_times_table(first_visit: dict[str, float], rounds: list[dict[str, float]]) -> list[str]:
    lines = [
        f"| page | first visit s (model load, evaluation) | median of the next {ROUNDS} visits s |",
        "| --- | --- | --- |",
    ]
    for title in PAGES:
        median = statistics.median(r[title] for r in rounds)
        lines.append(f"| {title} | {first_visit[title]:.2f} | {median:.2f} |")
    return lines


def memory_lines(memory: list[tuple[int, int]]) -> list[str]:
    """Resident memory after each round, the peak, and the growth once the caches are warm (round 2 on)."""
    rss = [current for current, _ in memory]
    growth = (rss[-1] - rss[1]) / rss[1]
    return [
        f"\nServer memory after each of {ROUNDS} rounds over every page (MiB): "
        + ", ".join(f"{kib / 1024:.0f}" for kib in rss),
        f"\nPeak resident memory: **{memory[-1][1] / 1024:.0f} MiB**; growth from round 2 to "
        f"round {ROUNDS}: **{growth:+.1%}** (target < 10 %)",
    ]
