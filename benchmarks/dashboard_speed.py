"""The dashboard in a real browser: cold start, page render times, server memory over rounds.

    MNIST_DIR=<folder with full MNIST> .venv/bin/python -m benchmarks.dashboard_speed [--cold-starts N]

Run alone it replaces its section of docs/benchmarks.md. Cold start runs from the server's process
start to Home rendered in Chromium (already running, as a visitor's browser is); the first model page is then clicked at
once, so its figure includes whatever TensorFlow, the model and the test-set evaluation still need.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from core.config import TrainConfig
from core.data import load_mnist
from core.experiment import run_experiment
from core.runs import RunStore
from dashboard.browser_steps import APP_TIMEOUT_MS, MAIN, go_to_page, open_app
from dashboard.page_registry import ANALYSIS_PAGES
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
FIRST_MODEL_PAGE = ANALYSIS_PAGES[0].title  # the first page that needs the model: Training curves
SECTION_HEADING = "## 4–5. The dashboard in a real browser"


@dataclass(frozen=True)
class ColdStart:
    """Seconds from the server's process start."""

    to_home: float  # Home rendered in the browser
    to_model_page: float  # the first model page rendered, clicked the moment Home showed
    server_cpu_to_home: float  # the server's CPU seconds (user + system) until Home rendered: less load-bound


def resident_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process in KiB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(cold_starts: int = 1) -> list[str]:
    """Measure and return the report lines (markdown); `cold_starts` fresh servers time the cold start."""
    if not CHROMIUM.exists():
        return [f"skipped: {CHROMIUM} is missing"]
    with tempfile.TemporaryDirectory() as folder:
        runs_dir = Path(folder) / "runs"
        config = TrainConfig.for_arch("mlp", epochs=2, name="benchmark mlp")
        run_info = run_experiment(config, load_mnist(), RunStore(runs_dir)).run
        extra = [cold_start(runs_dir, run_info.run_id) for _ in range(cold_starts - 1)]
        return measure(runs_dir, run_info.run_id, extra)


@contextmanager
def dashboard_in_browser(runs_dir: Path) -> Iterator[tuple[Page, int, str, float]]:
    """A Chromium page, then a fresh server on `runs_dir`: (page, server pid, url, perf_counter at process start).

    The browser is up before the server starts, as a visitor's is: its own launch is not the dashboard's start.
    """
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    log_path = Path(runs_dir).parent / f"streamlit-{port}.log"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(120_000)
        started = time.perf_counter()
        process = start_streamlit(port, {**os.environ, "RUNS_DIR": str(runs_dir)}, log_path)
        try:
            wait_for_health(url, process, log_path)
            yield page, process.pid, url, started
        finally:
            stop_process_group(process)
            browser.close()


def open_home(page: Page, url: str) -> None:
    """Home rendered, not sketched: Streamlit fetches each kind of element's script when it first shows one,
    drawing a placeholder meanwhile, so its page links and button count too."""
    open_app(page, url)
    expect(page.locator(f'{MAIN} [data-testid="stPageLink-NavLink"]').last).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Train a quick model")).to_be_visible(timeout=APP_TIMEOUT_MS)


def open_home_then_model_page(page: Page, pid: int, url: str, run_id: str, started: float) -> ColdStart:
    open_home(page, f"{url}/?run={run_id}")
    to_home, cpu = time.perf_counter() - started, cpu_seconds(pid)
    go_to_page(page, FIRST_MODEL_PAGE)
    return ColdStart(to_home, time.perf_counter() - started, cpu)


def cold_start(runs_dir: Path, run_id: str) -> ColdStart:
    """One fresh server: Home, then the first model page at once."""
    with dashboard_in_browser(runs_dir) as (page, pid, url, started):
        return open_home_then_model_page(page, pid, url, run_id, started)


def measure(runs_dir: Path, run_id: str, extra_cold_starts: list[ColdStart] = ()) -> list[str]:
    """Start the dashboard on `runs_dir`, open `run_id` in Chromium, then time every page and watch memory."""
    with dashboard_in_browser(runs_dir) as (page, pid, url, started):
        start = open_home_then_model_page(page, pid, url, run_id, started)
        first_visit = {FIRST_MODEL_PAGE: start.to_model_page - start.to_home}
        first_visit |= visit_every_page(page, [title for title in PAGES if title != FIRST_MODEL_PAGE])
        rounds, memory = [], []
        for _ in range(ROUNDS):
            rounds.append(visit_every_page(page))
            memory.append(resident_kib(pid))
    return [
        *cold_start_lines([*extra_cold_starts, start]),
        *page_times_table(first_visit, rounds),
        *memory_lines(memory),
    ]


def visit_every_page(page: Page, titles: list[str] = PAGES) -> dict[str, float]:
    """Seconds to open each page, by title."""
    seconds = {}
    for title in titles:
        begun = time.perf_counter()
        go_to_page(page, title)
        seconds[title] = time.perf_counter() - begun
    return seconds


def cold_start_lines(starts: list[ColdStart]) -> list[str]:
    """The cold start's figures: the median of fresh servers, each one listed when there are several."""

    def figure(values: list[float]) -> str:
        each = f" (median of {len(values)}: " + ", ".join(f"{v:.1f}" for v in values) + ")" if len(values) > 1 else ""
        return f"**{statistics.median(values):.1f} s**{each}"

    return [
        "Cold start (process start → Home rendered in Chromium, already open as a visitor's browser is): "
        f"{figure([s.to_home for s in starts])}; "
        f"the server's CPU time meanwhile {figure([s.server_cpu_to_home for s in starts])}  ",
        f"Process start → {FIRST_MODEL_PAGE} rendered, clicked the moment Home showed (TensorFlow, the model "
        f"and the test-set evaluation load meanwhile): {figure([s.to_model_page for s in starts])}\n",
    ]


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


def main(argv: list[str] | None = None) -> int:
    from benchmarks.report_sections import REPORT, write_section
    from benchmarks.run import machine_description

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-starts", type=int, default=3, help="fresh servers timed for the cold start")
    parser.add_argument("--cold-start-only", action="store_true", help="print the cold start; skip the page rounds")
    args = parser.parse_args(argv)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if args.cold_start_only:
        with tempfile.TemporaryDirectory() as folder:
            runs_dir = Path(folder) / "runs"
            config = TrainConfig.for_arch("mlp", epochs=1, train_limit=2000, name="benchmark mlp")
            run_id = run_experiment(config, load_mnist(), RunStore(runs_dir)).run.run_id
            starts = [cold_start(runs_dir, run_id) for _ in range(args.cold_starts)]
        print("\n".join(cold_start_lines(starts)))
        print(f"{machine_description()}; load average (1, 5, 15 min) {load} before")
        return 0
    section = [
        f"{SECTION_HEADING}\n",
        *run(args.cold_starts),
        f"\nMeasured alone (`python -m benchmarks.dashboard_speed`): {machine_description()}; "
        f"load average (1, 5, 15 min) {load} before",
    ]
    print("\n".join(section))
    write_section(REPORT, SECTION_HEADING, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
