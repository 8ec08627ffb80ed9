"""Start and stop a dashboard server process (`streamlit run dashboard/Home.py`) and the Chromium that visits it,
or the prediction API (`python -m core serve`).

Used by the browser tests (tests/browser/), the API's tests (tests/process/test_serving.py) and the benchmarks
(benchmarks/dashboard_speed.py, benchmarks/serve_load.py).
It lives here, beside the app it launches, so that neither of them imports the other: benchmarks
must not depend on tests, nor tests on benchmarks, and the top-level folders are fixed. It is not
UI code and the app never imports it; it needs only the standard library.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}
HEALTH_TIMEOUT_SECONDS = 90


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(runs_dir: Path, keras_home: Path, mnist_dir: Path | None = None) -> dict[str, str]:
    """The server's environment: its own run store, and the offline sample unless `mnist_dir` is given."""
    env = dict(os.environ)
    env.pop("MNIST_DIR", None)  # no full MNIST: the loader falls back to the offline sample
    if mnist_dir is not None:
        env["MNIST_DIR"] = str(mnist_dir)
    env.update(
        RUNS_DIR=str(runs_dir),
        # Keras' MNIST cache lives in KERAS_HOME: an empty one, and a proxy that refuses every
        # connection, make "Keras' dataset module" fail at once even on a machine that is online
        # or has ~/.keras/datasets/mnist.npz, so the server always uses the 5,000-digit sample.
        KERAS_HOME=str(keras_home),
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    return env


STREAMLIT_HEALTH = "/_stcore/health"
API_HEALTH = "/health"


def wait_for_health(url: str, process: subprocess.Popen, log_path: Path, health_path: str = STREAMLIT_HEALTH) -> None:
    """Wait until the server answers ok (Streamlit's "ok", or the API's {"status": "ok"}) on `health_path`."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited with code {process.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(f"{url}{health_path}", timeout=2) as response:
                if answered_ok(response.read().decode()):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"the server did not answer ok on {health_path} within {HEALTH_TIMEOUT_SECONDS} s:\n"
        + log_path.read_text(errors="replace")
    )


def answered_ok(body: str) -> bool:
    if body.strip() == "ok":
        return True
    try:
        return json.loads(body).get("status") == "ok"
    except (ValueError, AttributeError):
        return False


def stop_process_group(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def start_streamlit(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start the dashboard on 127.0.0.1:`port` in its own process group, logging to `log_path`."""
    command = [
        sys.executable, "-m", "streamlit", "run", "dashboard/Home.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # Source edits during a test run must not put a "Source file changed" prompt on the
        # page (it would hold the status widget open); the tests exercise the code as started.
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log_path.open("ab") as log:  # append: a restarted server keeps the earlier log
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown stops all its children
        )


def start_api_server(
    port: int, env: dict[str, str], log_path: Path, serve_args: list[str], cpus: str | None = None
) -> subprocess.Popen:
    """Start `python -m core serve` on 127.0.0.1:`port` in its own process group, logging to `log_path`.

    `serve_args` names the run (or `--ensemble …`) and any other option; `cpus` ("0") pins the
    server to those cores with `taskset`.
    """
    command = [sys.executable, "-m", "core", "serve", *serve_args, "--host", "127.0.0.1", "--port", str(port)]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
