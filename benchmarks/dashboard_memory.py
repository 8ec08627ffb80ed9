"""Server memory per page visit, for every recipe and an ensemble of three deep_cnn runs.

Each model gets a fresh server, opened through a link (`?run=` or `?ensemble=`), so every figure
belongs to one model: the peak resident memory (VmHWM) the server gains on each page's first
visit, then the resident memory after more rounds over every page (a leak would show as growth).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.dashboard_speed import resident_kib
from core.analysis.evaluation import EVALUATION_BATCH_SIZE
from core.analysis.inspection import INSPECTION_BATCH_SIZE
from core.config import TrainConfig
from core.data import MnistData, load_mnist
from core.experiment import run_experiment
from core.runs import RunStore
from dashboard import server_process
from dashboard.browser_steps import go_to_page, open_app
from dashboard.page_registry import ANALYSIS_PAGES

RECIPES = ("mlp", "cnn", "fast_cnn", "deep_cnn")
ENSEMBLE_SEEDS = (0, 1, 2)
ROUNDS = 3
SECTION_HEADING = "## 6. Server memory per page, per model"


def resident_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MiB."""
    current, peak = resident_kib(pid)
    return current / 1024, peak / 1024


def run(data: MnistData | None = None) -> list[str]:
    """Train one short run per recipe (the shapes matter, not the accuracy), then measure each model."""
    if not server_process.CHROMIUM.exists():
        return [f"skipped: {server_process.CHROMIUM} is missing"]
    data = data or load_mnist()
    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(Path(folder) / "runs")
        links = {}
        for arch in RECIPES:
            run_info = run_experiment(TrainConfig.for_arch(arch, epochs=1, train_limit=2000), data, store).run
            links[arch] = f"run={run_info.run_id}"
        members = [links["deep_cnn"].removeprefix("run=")]
        for seed in ENSEMBLE_SEEDS[1:]:
            config = TrainConfig.for_arch("deep_cnn", epochs=1, train_limit=2000, seed=seed)
            members.append(run_experiment(config, data, store).run.run_id)
        links["ensemble of 3 deep_cnn"] = f"ensemble={','.join(members)}"
        results = {label: measure(store.root, link) for label, link in links.items()}
    return report(results)


def measure(runs_dir: Path, link: str) -> dict:
    """A fresh server; the model opened through `link`; peak memory gained per first page visit."""
    port = server_process.free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    log_path = Path(runs_dir).parent / f"streamlit-{port}.log"
    process = server_process.start_streamlit(port, {**os.environ, "RUNS_DIR": str(runs_dir)}, log_path)
    try:
        server_process.wait_for_health(url, process, log_path)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(server_process.CHROMIUM), headless=True, args=server_process.CHROMIUM_ARGS
            )
            page = browser.new_page(viewport=server_process.VIEWPORT)
            page.set_default_timeout(180_000)
            open_app(page, f"{url}/?{link}")
            home_rss = resident_mib(process.pid)[0]
            peak_gain = {}
            for spec in ANALYSIS_PAGES:
                before = resident_mib(process.pid)[1]
                go_to_page(page, spec.title)
                peak_gain[spec.title] = resident_mib(process.pid)[1] - before
            after_rounds = []
            for _ in range(ROUNDS):
                for spec in ANALYSIS_PAGES:
                    go_to_page(page, spec.title)
                after_rounds.append(resident_mib(process.pid)[0])
            peak = resident_mib(process.pid)[1]
            browser.close()
            alive = process.poll() is None
    finally:
        server_process.stop_process_group(process)
    return {
        "home": home_rss,
        "gain": peak_gain,
        "peak": peak,
        "rounds": after_rounds,
        "alive": alive,
    }


def report(results: dict[str, dict]) -> list[str]:
    titles = [spec.title for spec in ANALYSIS_PAGES]
    lines = [
        f"\n{SECTION_HEADING}\n",
        f"Every pass over many images runs in batches (evaluation {EVALUATION_BATCH_SIZE} images, inspection "
        f"{INSPECTION_BATCH_SIZE}), so a page's memory is bounded by the model, not by the number of images. "
        "A fresh server per model, opened by a link; MiB of peak resident memory gained on each page's first "
        f"visit (model load and test-set evaluation land on the first page), then resident memory after "
        f"{ROUNDS} more rounds over every page.\n",
        "| model | Home MiB | "
        + " | ".join(f"+{title}" for title in titles)
        + " | peak MiB | after rounds MiB | alive |",
        "| --- " * (len(titles) + 5) + "|",
    ]
    for label, r in results.items():
        gains = " | ".join(f"{r['gain'][title]:+.0f}" for title in titles)
        rounds = ", ".join(f"{mib:.0f}" for mib in r["rounds"])
        alive = "yes" if r["alive"] else "NO"
        lines.append(f"| {label} | {r['home']:.0f} | {gains} | {r['peak']:.0f} | {rounds} | {alive} |")
    return lines


if __name__ == "__main__":
    from benchmarks.report_sections import REPORT, write_section
    from benchmarks.run import machine_description

    section = [*run(), f"\nMeasured alone (`python -m benchmarks.dashboard_memory`): {machine_description()}"]
    print("\n".join(section))
    write_section(REPORT, SECTION_HEADING, section)
