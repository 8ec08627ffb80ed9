"""Steps and readers for driving the dashboard headless with Streamlit's AppTest.

Each step does what a visitor does (open the app, go to a page, press a button, load a run, upload a
model) and checks that the script ran without an exception; the readers return what a page shows
(texts, charts). Used by the AppTest tests (tests/app/) and the full-MNIST page test.
"""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

HOME = Path(__file__).resolve().parents[2] / "dashboard" / "Home.py"
TIMEOUT = 120
JOB_WAIT_SECONDS = 90


def start_app(monkeypatch, runs_dir: Path) -> AppTest:
    monkeypatch.setenv("RUNS_DIR", str(runs_dir))
    at = AppTest.from_file(str(HOME), default_timeout=TIMEOUT)
    at.run()
    assert_no_exception(at)
    return at


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"../pages/{page}.py").run()
    assert_no_exception(at)
    return at


def button(at: AppTest, label: str, area=None):
    matches = [b for b in (area or at).button if b.label == label]
    assert len(matches) == 1, f"expected one {label!r} button, found {[b.label for b in (area or at).button]}"
    return matches[0]


def press(at: AppTest, label: str) -> None:
    """Click the one button with this label and rerun the app."""
    button(at, label).click()
    at.run()
    assert_no_exception(at)


def load_run(at: AppTest, run_id: str) -> None:
    at.selectbox(key="run_picker").set_value(run_id)
    press(at, "Load run")


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def sidebar_success(at: AppTest) -> str:
    return " ".join(texts(at.sidebar.success))


def charts(at: AppTest, area=None) -> dict:
    """Plotly charts of the area (default: the main area) by key, as parsed figure specs."""
    return {chart.key: json.loads(chart.proto.spec) for chart in (area or at.main).get("plotly_chart")}


def vega_charts(at: AppTest, area=None) -> dict:
    """Altair charts of the area (default: the main area) by key, as (spec, the chart's data)."""
    return {
        chart.key: (json.loads(chart.proto.spec), convert_arrow_bytes_to_pandas_df(chart.proto.datasets[0].data.data))
        for chart in (area or at.main).get("vega_lite_chart")
    }


def plotly_array(value) -> np.ndarray:
    """A data array of a plotly spec: a plain list, or plotly's base64 typed-array encoding."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = [int(n) for n in str(value.get("shape", len(array))).split(",")]
        return array.reshape(shape)
    return np.asarray(value, dtype=float)


def captions(at: AppTest) -> list[str]:
    return texts(at.main.caption)


def wait_for_job(at: AppTest, done, seconds: float = JOB_WAIT_SECONDS) -> None:
    """Rerun the app until done(at) holds (the fragment polls in a browser; here we rerun)."""
    deadline = time.monotonic() + seconds
    while not done(at):
        assert time.monotonic() < deadline, "the training job did not finish in time"
        time.sleep(0.5)
        at.run()
        assert_no_exception(at)


def open_link(**query_params: str) -> AppTest:
    """A new session (another browser, or a reload) opening the app at a URL with these parameters."""
    at = AppTest.from_file(str(HOME), default_timeout=TIMEOUT)
    at.query_params.update(query_params)
    at.run()
    assert_no_exception(at)
    return at


def start_app_with_link(monkeypatch, runs_dir: Path, **params) -> AppTest:
    monkeypatch.setenv("RUNS_DIR", str(runs_dir))
    at = AppTest.from_file(str(HOME), default_timeout=TIMEOUT)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert_no_exception(at)
    return at


def upload(at, uploaded) -> None:
    """Upload the model's .keras file in the sidebar and make it the active model."""
    file = (uploaded.path.name, uploaded.path.read_bytes(), "application/octet-stream")
    at.file_uploader(key="model_upload").set_value(file)
    at.run()
    assert_no_exception(at)
    press(at, "Use uploaded model")


def png_bytes(image: np.ndarray) -> bytes:
    """An image as the bytes of a PNG file, as a visitor uploads it."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
