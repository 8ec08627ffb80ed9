"""The README's picture of the dashboard, docs/dashboard.png, taken in Chromium with a real model.

    MNIST_DIR=/path/to/mnist .venv/bin/python -m benchmarks.readme_screenshot --runs-dir runs [--run RUN_ID]

Starts the dashboard on full MNIST with the given run store (its default model, or --run), opens
the Per-class metrics page (metrics and the clickable confusion matrix) and saves the viewport as
a palette PNG of at most 300 KB. Not a benchmark; it lives here beside the other Chromium drivers.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

from dashboard.browser_steps import go_to_page, open_app, wait_for_app
from dashboard.server_process import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO_ROOT,
    free_loopback_port,
    server_environment,
    start_streamlit,
    stop_process_group,
    wait_for_health,
)

OUTPUT = REPO_ROOT / "docs" / "dashboard.png"
PAGE = "Per-class metrics"
VIEWPORT = {"width": 1400, "height": 1450}
MAX_BYTES = 300 * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", required=True, help="the run store holding the model to show")
    parser.add_argument("--run", help="the run to show (default: the dashboard's default model)")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    mnist_dir = os.environ.get("MNIST_DIR")
    if not mnist_dir:
        print("error: set MNIST_DIR to the full MNIST, so the picture shows a real model", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        keras_home, log_path = Path(scratch) / "keras", Path(scratch) / "streamlit.log"
        keras_home.mkdir()
        port = free_loopback_port()
        url = f"http://127.0.0.1:{port}"
        process = start_streamlit(port, server_environment(Path(args.runs_dir), keras_home, Path(mnist_dir)), log_path)
        try:
            wait_for_health(url, process, log_path)
            png = capture(url + (f"/?run={args.run}" if args.run else "/"))
        finally:
            stop_process_group(process)
    size = save_small(png, Path(args.output))
    print(f"wrote {args.output} ({size / 1024:.0f} KB)")
    return 0


def capture(url: str) -> bytes:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=VIEWPORT).new_page()
            open_app(page, url)
            go_to_page(page, PAGE)
            page.locator('[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]').first.wait_for()
            wait_for_app(page)
            page.wait_for_timeout(1500)  # charts finish their entry transition
            return page.screenshot()
        finally:
            browser.close()


def save_small(png: bytes, output: Path) -> int:
    """The PNG as it is when small enough, else in 256 colours, scaled down until it is at most MAX_BYTES."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    while buffer.tell() > MAX_BYTES:
        buffer = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= MAX_BYTES or image.width < 700:
            break
        image = image.resize((int(image.width * 0.85), int(image.height * 0.85)), Image.Resampling.LANCZOS)
    output.write_bytes(buffer.getvalue())
    return buffer.tell()


if __name__ == "__main__":
    sys.exit(main())
