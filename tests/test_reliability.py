"""Reliability: reproducible runs, crash-safe saves, robust parsers, security settings."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import TrainConfig
from core.errors import DataFormatError
from core.experiment import run_experiment
from core.idx import read_idx
from core.record import RunRecord
from core.runs import STAGING_PREFIX, RunStore

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("arch", ["mlp", "fast_cnn"])
def test_same_config_and_seed_give_the_same_test_metrics(arch, small_data, tmp_path):
    config = TrainConfig.for_arch(arch, epochs=2, seed=11, train_limit=800, batch_size=64)
    first = run_experiment(config, small_data, RunStore(tmp_path / "a"))
    second = run_experiment(config, small_data, RunStore(tmp_path / "b"))
    np.testing.assert_array_equal(first.evaluation.probabilities, second.evaluation.probabilities)
    assert first.evaluation.summary() == second.evaluation.summary()
    other = run_experiment(config.with_changes(seed=12), small_data, RunStore(tmp_path / "c"))
    assert not np.array_equal(first.evaluation.probabilities, other.evaluation.probabilities)


SLOW_SAVE = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {repo!r})
    import keras
    from core.config import TrainConfig
    from core.record import RunRecord
    from core.runs import RunStore
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
    original_save = keras.Model.save
    def slow_save(self, path, *args, **kwargs):
        original_save(self, path, *args, **kwargs)
        print("model written", flush=True)
        time.sleep(60)  # killed here, between the model file and run.json
    keras.Model.save = slow_save
    RunStore({store!r}).save(model, RunRecord(config=TrainConfig()), name="killed")
    """
)


def test_killing_the_process_mid_save_leaves_no_run(tmp_path, trained_store):
    store_path = tmp_path / "store"
    _, result = trained_store
    complete = RunStore(store_path).save(result.training.model, RunRecord(config=TrainConfig()), name="complete")
    script = SLOW_SAVE.format(repo=str(REPO), store=str(store_path))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "model written"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    runs, damaged = RunStore(store_path).list_runs()
    assert [run.run_id for run in runs] == [complete.run_id] and damaged == []
    leftovers = list(store_path.glob(f"{STAGING_PREFIX}*"))
    assert len(leftovers) == 1  # crash debris, hidden from listings
    old = time.time() - 7200
    os.utime(leftovers[0], (old, old))
    RunStore(store_path).save(result.training.model, RunRecord(config=TrainConfig()), name="next")
    assert not list(store_path.glob(f"{STAGING_PREFIX}*"))  # stale debris cleaned on the next save


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(max_size=300))
def test_idx_reader_raises_only_its_own_error_on_any_bytes(tmp_path, payload):
    path = tmp_path / "fuzz-idx1-ubyte"
    path.write_bytes(payload)
    try:
        array = read_idx(path)
    except DataFormatError as error:
        assert "fuzz-idx1-ubyte" in str(error)
    else:
        assert array.dtype == np.uint8 and array.size == len(payload) - 4 - 4 * array.ndim


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(0, 6), min_size=1, max_size=3), cut=st.integers(0, 40))
def test_idx_reader_on_valid_headers_with_cut_bodies(tmp_path, shape, cut):
    size = int(np.prod(shape))
    payload = bytes([0, 0, 8, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape) + bytes(size)
    path = tmp_path / "cut-idx3-ubyte"
    path.write_bytes(payload[: max(0, len(payload) - cut)])
    if cut == 0:
        assert read_idx(path).shape == tuple(shape)
    else:
        with pytest.raises(DataFormatError):
            read_idx(path)


def test_streamlit_security_settings():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert 0 < config["server"]["maxUploadSize"] <= 50


def test_no_pickle_loading_or_shell_commands_in_product_code():
    sources = [p for folder in ("core", "dashboard", "pages") for p in (REPO / folder).rglob("*.py")]
    assert sources
    for path in sources:
        text = path.read_text()
        for forbidden in ("allow_pickle=True", "import pickle", "shell=True", "os.system(", "safe_mode=False"):
            assert forbidden not in text, f"{path.name} contains {forbidden}"
