"""`make dashboard` starts without a terminal: under nohup, from a service, in a container."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from dashboard.server_process import REPO_ROOT, free_loopback_port, stop_process_group, wait_for_health

URL_WAIT_SECONDS = 30


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_dashboard_serves_without_a_terminal_or_streamlit_credentials(tmp_path):
    home, log_path = tmp_path / "home", tmp_path / "dashboard.log"
    home.mkdir()  # a fresh HOME: no ~/.streamlit/credentials.toml, as on a new machine or in a container
    port = free_loopback_port()
    env = {
        **os.environ,
        "HOME": str(home),
        # Streamlit reads every option from STREAMLIT_<SECTION>_<OPTION> too: the Makefile's command stays as is.
        "STREAMLIT_SERVER_PORT": str(port),
        "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",
    }
    # The Makefile's own recipe, with this interpreter; -o: never (re)install into the virtualenv from a test.
    command = ["make", "-o", ".venv/.runtime-installed", "dashboard", f"PYTHON={sys.executable}"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,  # no terminal
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make, the shell and streamlit stop together
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, process, log_path)  # fails with the log if the server exits (as it did with 255)
        deadline = time.monotonic() + URL_WAIT_SECONDS  # the banner follows the server's start by a moment
        while url not in log_path.read_text(errors="replace"):
            assert time.monotonic() < deadline, f"no {url} in the output:\n{log_path.read_text(errors='replace')}"
            time.sleep(0.2)
    finally:
        stop_process_group(process)
