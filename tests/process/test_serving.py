"""The prediction API (`python -m core serve`, core/serving.py): a real server process called over HTTP.

One server serves the session's tiny MLP run (tests/conftest.py trained_store); another an ensemble.
Bad input of every kind must get a 4xx with a one-line JSON error, never a 500.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from PIL import Image

from core.analysis.calibration import apply_temperature
from core.analysis.inspection import predict_digit, predict_digits
from core.cli import main
from core.preprocessing import digit_from_upload
from core.runs import RunStore
from core.serving import MAX_UPLOAD_BYTES
from dashboard.server_process import (
    API_HEALTH,
    free_loopback_port,
    server_environment,
    start_api_server,
    stop_process_group,
    wait_for_health,
)
from tests.support.images import png_header_only
from tests.support.serving import TOLERANCE, store_of_two_runs


def start_server(tmp_path: Path, store: RunStore, serve_args: list[str]):
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    env = server_environment(store.root, tmp_path / "keras-home")
    process = start_api_server(port, env, log_path, [*serve_args, "--runs-dir", str(store.root)])
    try:
        wait_for_health(url, process, log_path, API_HEALTH)
    except BaseException:
        stop_process_group(process)
        raise
    return process, url


@pytest.fixture(scope="module")
def server(trained_store, tmp_path_factory):
    store, result = trained_store
    process, url = start_server(tmp_path_factory.mktemp("serve"), store, [result.run.run_id])
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
        yield SimpleNamespace(client=client, run=result.run, model=store.load_model(result.run.run_id))
    stop_process_group(process)


def png_of(digit: np.ndarray, size: int = 120, dark_on_light: bool = True) -> bytes:
    """A digit from the test set as a PNG photo would show it: larger, dark ink on white paper."""
    pixels = 255 - digit if dark_on_light else digit
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).resize((size, size), Image.Resampling.BILINEAR).save(buffer, "PNG")
    return buffer.getvalue()


def assert_error(response: httpx.Response, status: int, words: str) -> None:
    """A 4xx with exactly one key, `error`, holding one line that says `words`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    assert "\n" not in body["error"] and words.lower() in body["error"].lower()


# ---- the happy path ----------------------------------------------------------------------------


def test_health_model_and_docs(server):
    health = server.client.get("/health").json()
    assert health["status"] == "ok" and health["model"] == server.run.run_id and health["micro_batching"]
    info = server.client.get("/model").json()
    record = server.run.record
    assert info["run_id"] == server.run.run_id and info["kind"] == "run"
    assert info["architecture"] == "mlp"
    assert info["test_accuracy"] == pytest.approx(record.test_metrics.accuracy)
    assert info["data"]["source"] == "sample" and info["data"]["test"] == record.data.test
    assert info["temperature"] == pytest.approx(record.calibration.temperature)
    assert server.client.get("/docs").status_code == 200
    paths = server.client.get("/openapi.json").json()["paths"]
    assert {"/predict", "/predict/batch", "/model", "/health"} <= set(paths)
    assert "multipart/form-data" in paths["/predict"]["post"]["requestBody"]["content"]


def test_json_pixels_give_the_models_own_prediction(server, sample_data):
    image = sample_data.x_test[3]
    expected = predict_digit(server.model, image)
    answer = server.client.post("/predict", json={"pixels": (image / 255).tolist()}).json()
    assert answer["digit"] == int(expected.argmax())
    np.testing.assert_allclose(answer["probabilities"], expected, atol=TOLERANCE)
    assert answer["confidence"] == pytest.approx(float(expected.max()), abs=TOLERANCE)
    np.testing.assert_allclose(answer["image"], image / 255, atol=1e-6)
    temperature = server.run.record.calibration.temperature
    assert answer["temperature"] == pytest.approx(temperature)
    np.testing.assert_allclose(
        answer["calibrated_probabilities"], apply_temperature(expected, temperature), atol=TOLERANCE
    )
    on_255 = server.client.post("/predict", json={"pixels": image.tolist(), "scale": 255}).json()
    np.testing.assert_allclose(on_255["probabilities"], answer["probabilities"], atol=TOLERANCE)


def test_an_image_file_goes_through_the_draw_pages_preprocessing(server, sample_data):
    png = png_of(sample_data.x_test[5], size=300)
    seen = digit_from_upload(png)
    expected = predict_digit(server.model, seen)
    as_form = server.client.post("/predict", files={"file": ("digit.png", png, "image/png")})
    as_body = server.client.post("/predict", content=png, headers={"content-type": "image/png"})
    for response in (as_form, as_body):
        assert response.status_code == 200, response.text
        answer = response.json()
        np.testing.assert_allclose(answer["image"], seen, atol=1e-6)
        assert answer["digit"] == int(expected.argmax())
        np.testing.assert_allclose(answer["probabilities"], expected, atol=TOLERANCE)
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(jpeg, "JPEG", quality=95)
    from_jpeg = server.client.post("/predict", files={"file": ("digit.jpg", jpeg.getvalue(), "image/jpeg")})
    assert from_jpeg.status_code == 200 and len(from_jpeg.json()["image"]) == 28


def test_batch_answers_each_image_in_order(server, sample_data):
    images = sample_data.x_test[:6]
    expected = predict_digits(server.model, images)
    answer = server.client.post("/predict/batch", json={"images": images.tolist(), "scale": 255}).json()
    assert [p["digit"] for p in answer["predictions"]] == expected.argmax(axis=1).tolist()
    np.testing.assert_allclose([p["probabilities"] for p in answer["predictions"]], expected, atol=TOLERANCE)
    files = [("files", (f"{n}.png", png_of(image), "image/png")) for n, image in enumerate(images[:3])]
    from_files = server.client.post("/predict/batch", files=files).json()["predictions"]
    for image, predicted in zip(images[:3], from_files, strict=True):
        np.testing.assert_allclose(predicted["image"], digit_from_upload(png_of(image)), atol=1e-6)


def test_concurrent_requests_get_the_same_answers_as_sequential_ones(server, sample_data):
    images = sample_data.x_test[:48]
    bodies = [{"pixels": image.tolist(), "scale": 255} for image in images]
    sequential = [server.client.post("/predict", json=body).json() for body in bodies]
    local = threading.local()  # one connection per thread, as 16 separate programs would have

    def ask(body: dict) -> dict:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=str(server.client.base_url), timeout=60, trust_env=False)
        return local.client.post("/predict", json=body).json()

    with ThreadPoolExecutor(max_workers=16) as pool:
        concurrent = list(pool.map(ask, bodies))
    for alone, together in zip(sequential, concurrent, strict=True):
        assert together["digit"] == alone["digit"]
        np.testing.assert_allclose(together["probabilities"], alone["probabilities"], atol=TOLERANCE)
        assert together["image"] == alone["image"]
    health = server.client.get("/health").json()
    assert health["batched_images"] >= 2 * len(images)  # every single-image answer came from the batcher


# ---- bad input ---------------------------------------------------------------------------------


def pixels(shape=(28, 28), value=0.5) -> list:
    return np.full(shape, value).tolist()


BAD_REQUESTS = {
    "not an image": (dict(files={"file": ("a.png", b"hello, not a picture", "image/png")}), 422, "not an image"),
    "not an image, raw": (dict(content=b"GIF89a-broken", headers={"content-type": "image/gif"}), 422, "image"),
    "empty file": (dict(files={"file": ("a.png", b"", "image/png")}), 422, "empty"),
    "empty body": (dict(content=b"", headers={"content-type": "image/png"}), 400, "no body"),
    "blank image": (dict(content=png_of(np.zeros((28, 28))), headers={"content-type": "image/png"}), 422, "blank"),
    "too many bytes": (
        dict(content=b"\x89PNG" + b"\0" * (MAX_UPLOAD_BYTES + 1), headers={"content-type": "image/png"}),
        413,
        "limit",
    ),
    "too many bytes in a form": (
        dict(files={"file": ("big.png", b"\0" * (MAX_UPLOAD_BYTES + 1), "image/png")}),
        413,
        "limit",
    ),
    "too many pixels": (
        dict(content=png_header_only(10_000, 10_000), headers={"content-type": "image/png"}),
        413,
        "too large",
    ),
    "form without a file": (dict(files={"note": (None, "hi")}), 422, "no file"),
    "urlencoded form": (dict(data={"note": "hi"}), 415, "not accepted"),
    "unsupported type": (dict(content=b"7", headers={"content-type": "text/plain"}), 415, "not accepted"),
    "malformed JSON": (dict(content=b'{"pixels": [', headers={"content-type": "application/json"}), 400, "JSON"),
    "JSON not an object": (dict(json=[1, 2, 3]), 400, "object"),
    "JSON without pixels": (dict(json={"image": pixels()}), 422, "pixels"),
    "wrong shape": (dict(json={"pixels": pixels((28, 27))}), 422, "28×27"),
    "flat array": (dict(json={"pixels": pixels((784,))}), 422, "784"),
    "ragged rows": (dict(json={"pixels": [[0.0] * 28] * 27 + [[0.0] * 5]}), 422, "28×28"),
    "one number": (dict(json={"pixels": 0.5}), 422, "single number"),
    "values above 1": (dict(json={"pixels": pixels(value=3.0)}), 422, "[0, 1]"),
    "negative values": (dict(json={"pixels": pixels(value=-0.1)}), 422, "[0, 1]"),
    "values above 255": (dict(json={"pixels": pixels(value=256), "scale": 255}), 422, "[0, 255]"),
    "strings": (dict(json={"pixels": [["0.5"] * 28] * 28}), 422, "numbers"),
    "nulls": (dict(json={"pixels": [[None] * 28] * 28}), 422, "numbers"),
    "booleans": (dict(json={"pixels": [[True] * 28] * 28}), 422, "numbers"),
    "NaN": (dict(content=b'{"pixels": [[NaN]]}', headers={"content-type": "application/json"}), 400, "JSON"),
    "infinity": (dict(content=b'{"pixels": [[1e999]]}', headers={"content-type": "application/json"}), 400, "JSON"),
    "huge integers": (dict(json={"pixels": [[2**70] * 28] * 28}), 422, "[0, 1]"),
    "bad scale": (dict(json={"pixels": pixels(), "scale": 100}), 422, "scale"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_input_gets_a_one_line_4xx(server, case):
    request, status, words = BAD_REQUESTS[case]
    assert_error(server.client.post("/predict", **request), status, words)


def test_bad_batches_and_unknown_runs_and_paths(server, sample_data):
    client = server.client
    assert_error(client.post("/predict/batch", json={"images": []}), 422, "no image")
    assert_error(client.post("/predict/batch", json={"images": [pixels()] * 65}), 413, "65 images")
    assert_error(client.post("/predict/batch", json={"pixels": pixels()}), 422, "images")
    second_wrong = {"images": [pixels(), pixels((3, 3))]}
    assert_error(client.post("/predict/batch", json=second_wrong), 422, "image 2")
    files = [("files", ("a.png", png_of(sample_data.x_test[0]), "image/png")), ("files", ("b.png", b"x", "image/png"))]
    assert_error(client.post("/predict/batch", files=files), 422, "file 2")
    assert_error(client.post("/predict/batch", content=b"x", headers={"content-type": "image/png"}), 415, "multipart")
    assert_error(client.post("/predict?run=no-such-run", json={"pixels": pixels()}), 404, "no-such-run")
    assert client.post(f"/predict?run={server.run.run_id}", json={"pixels": pixels()}).status_code == 200
    assert_error(client.get("/no/such/path"), 404, "not found")
    assert_error(client.get("/predict"), 405, "method")
    assert client.get("/health").json()["status"] == "ok"  # still serving after all that


# ---- an ensemble, the command line -------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(trained_store, tiny_runs, tmp_path_factory) -> tuple[RunStore, list[str]]:
    """A store of its own (the shared ones stay read-only): the session's run and a second, smaller MLP."""
    return store_of_two_runs(trained_store, tiny_runs, tmp_path_factory.mktemp("two-runs"))


def test_an_ensemble_is_served_as_one_model(two_runs, sample_data, tmp_path):
    store, ids = two_runs
    process, url = start_server(tmp_path, store, ["--ensemble", *ids, "--no-micro-batching"])
    try:
        with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
            info = client.get("/model").json()
            assert info["kind"] == "ensemble" and [m["run_id"] for m in info["members"]] == ids
            assert info["temperature"] is None
            image = sample_data.x_test[7]
            answer = client.post("/predict", json={"pixels": image.tolist(), "scale": 255}).json()
            mean = np.mean([predict_digit(store.load_model(run_id), image) for run_id in ids], axis=0)
            np.testing.assert_allclose(answer["probabilities"], mean, atol=TOLERANCE)
            assert answer["calibrated_probabilities"] is None
            assert client.get("/health").json()["micro_batching"] is False
    finally:
        stop_process_group(process)


def test_command_errors_are_one_line_and_exit_code_2(trained_store, capsys):
    store, result = trained_store
    assert main(["serve", "no-such-run", "--runs-dir", str(store.root), "--port", str(free_loopback_port())]) == 2
    assert capsys.readouterr().err.strip().startswith("error: no run 'no-such-run'")
    with socket.socket() as taken:  # a port already in use
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = main(["serve", result.run.run_id, "--runs-dir", str(store.root), "--port", str(port)])
    assert code == 2
    assert capsys.readouterr().err.strip().startswith(f"error: cannot listen on 127.0.0.1:{port}")


def test_serve_help_lists_its_options():
    command = [sys.executable, "-m", "core", "serve", "--help"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert all(option in done.stdout for option in ("--ensemble", "--host", "--port", "--no-micro-batching"))
