"""The prediction API's parts in process (core/serving.py, core/cli/serve.py): the micro-batcher and its threads,
the run served by default, the upload limit.

The API itself, a real server process called over HTTP, is tested in tests/process/test_serving.py.
"""

from __future__ import annotations

import tomllib
from types import SimpleNamespace

import numpy as np
import pytest

from core.analysis.inspection import predict_digits
from core.cli.serve import chosen_runs
from core.config import TrainConfig
from core.errors import ConfigError, RunStoreError
from core.litert_forward import litert_forward
from core.models import build_model
from core.runs import RunStore
from core.serving import MAX_UPLOAD_BYTES, MicroBatcher, predict_waiting
from dashboard.server_process import (
    REPO_ROOT,
)
from tests.support.serving import TOLERANCE, store_of_two_runs

# ---- bad input ---------------------------------------------------------------------------------


def test_the_upload_limit_is_the_dashboards():
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES


# ---- an ensemble, the command line -------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(trained_store, tiny_runs, tmp_path_factory) -> tuple[RunStore, list[str]]:
    """A store of its own (the shared ones stay read-only): the session's run and a second, smaller MLP."""
    return store_of_two_runs(trained_store, tiny_runs, tmp_path_factory.mktemp("two-runs"))


def test_no_run_named_serves_the_stores_default_run(two_runs, tmp_path):
    store, _ = two_runs
    args = SimpleNamespace(run_id=None, ensemble=None, source="sample", data_dir=None)
    best = max(
        (info for info in store.list_runs()[0]), key=lambda info: (info.record.validation_accuracy, info.record.created)
    )
    assert chosen_runs(args, store) == [best.run_id]
    with pytest.raises(RunStoreError, match="no saved run"):
        chosen_runs(args, RunStore(tmp_path / "empty"))
    with pytest.raises(ConfigError, match="not both"):
        chosen_runs(SimpleNamespace(run_id="a", ensemble=["b", "c"]), store)
    with pytest.raises(ConfigError, match="two different"):
        chosen_runs(SimpleNamespace(run_id=None, ensemble=["b", "b"]), store)


# ---- threads, in process -----------------------------------------------------------------------


def test_a_lone_waiting_request_takes_the_one_image_pass_and_several_share_a_batch(sample_data):
    model = build_model(TrainConfig.for_arch("cnn"))
    images = sample_data.x_test[:3].astype(np.float32) / 255
    lone = predict_waiting(model, images[:1])
    assert lone.shape == (1, 10) and litert_forward(model).calls == 1
    np.testing.assert_allclose(lone, predict_digits(model, images[:1]), atol=TOLERANCE)
    np.testing.assert_allclose(predict_waiting(model, images), predict_digits(model, images), atol=TOLERANCE)
    assert litert_forward(model).calls == 1


def test_the_micro_batcher_answers_each_caller_and_survives_failures(sample_data):
    model = build_model(TrainConfig.for_arch("mlp"))
    calls: list[int] = []

    def predict(images: np.ndarray) -> np.ndarray:
        calls.append(len(images))
        if (images < 0).any():
            raise ValueError("a negative pixel")
        return predict_digits(model, images)

    batcher = MicroBatcher(predict, max_batch=8)
    images = sample_data.x_test[:40].astype(np.float32) / 255
    futures = [batcher.submit(image) for image in images]  # queued before the thread starts: batches of 8
    cancelled = batcher.submit(images[0])
    cancelled.cancel()
    batcher.start()
    try:
        results = [future.result(timeout=30) for future in futures]
        np.testing.assert_allclose(results, predict_digits(model, images), atol=TOLERANCE)
        assert calls[:5] == [8, 8, 8, 8, 8]
        failing = batcher.submit(np.full((28, 28), -1.0, dtype=np.float32))
        with pytest.raises(ValueError, match="negative"):
            failing.result(timeout=30)
        assert batcher.submit(images[1]).result(timeout=30).argmax() == results[1].argmax()
    finally:
        batcher.stop()
    assert batcher.stats.images == 41 and batcher.stats.largest == 8
