"""Reliability: reproducible runs, robust parsers, security settings.

A save killed half-way is tested with a real process in tests/process/test_reliability.py.
"""

import tomllib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import TrainConfig
from core.errors import DataFormatError
from core.experiment import run_experiment
from core.idx import read_idx
from core.runs import RunStore
from tests.support.paths import REPO_ROOT as REPO


@pytest.mark.parametrize("arch", ["mlp", "fast_cnn"])
def test_same_config_and_seed_give_the_same_test_metrics(arch, small_data, tmp_path):
    config = TrainConfig.for_arch(arch, epochs=2, seed=11, train_limit=800, batch_size=64)
    first = run_experiment(config, small_data, RunStore(tmp_path / "a"))
    second = run_experiment(config, small_data, RunStore(tmp_path / "b"))
    np.testing.assert_array_equal(first.evaluation.probabilities, second.evaluation.probabilities)
    assert first.evaluation.summary() == second.evaluation.summary()
    other = run_experiment(config.with_changes(seed=12), small_data, RunStore(tmp_path / "c"))
    assert not np.array_equal(first.evaluation.probabilities, other.evaluation.probabilities)


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
