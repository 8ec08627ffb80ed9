"""Where MNIST comes from (source order, offline fallback) and how it is split and scaled."""

import json
import socket
import time

import numpy as np
import pytest

from core import data as data_module
from core.data import load_from_folder, load_mnist, mnist_name, normalize, split_validation
from core.errors import ConfigError, DataSourceError
from tests.test_idx import write_mnist_folder


def fail_download(*args, **kwargs):
    raise Exception("URL fetch failure: no network")  # what Keras raises offline


def test_mnist_dir_is_used_first(tmp_path, monkeypatch):
    write_mnist_folder(tmp_path, n_train=20, n_test=7)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    monkeypatch.setattr("keras.datasets.mnist.load_data", fail_download)
    data = load_mnist()
    assert data.source == "folder"
    assert data.counts() == {"train": 20, "test": 7}
    assert data.location == str(tmp_path)


@pytest.mark.parametrize("layout", ["idx", "npz"])
def test_the_data_is_named_by_what_it_is_not_by_its_folder(tmp_path, layout):
    arrays = write_mnist_folder(tmp_path, n_train=20, n_test=7)
    if layout == "npz":
        (tmp_path / "keras").mkdir()
        images, labels = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
        np.savez(tmp_path / "keras" / "mnist.npz", x_train=images, y_train=labels, x_test=images, y_test=labels)
    folder = tmp_path if layout == "idx" else tmp_path / "keras"
    data = load_from_folder(folder)
    expected = {"idx": "MNIST subset from IDX files", "npz": "MNIST subset from mnist.npz"}[layout]
    assert data.description == expected
    assert data.location == str(folder)
    # What a run records (run.json) and what the docs print name no folder of this machine.
    assert str(tmp_path) not in json.dumps(data.summary())


def test_only_the_60000_10000_split_is_called_full_mnist():
    assert mnist_name(60_000, 10_000) == "full MNIST"
    assert mnist_name(20, 7) == mnist_name(60_000, 9_999) == "MNIST subset"


def test_folder_argument_beats_environment(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    write_mnist_folder(tmp_path / "a", n_train=20, n_test=5)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "missing"))
    assert load_mnist(folder=tmp_path / "a").counts()["test"] == 5


def test_broken_mnist_dir_is_reported_not_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "missing"))
    with pytest.raises(DataSourceError, match="missing"):
        load_mnist()


def test_failed_download_falls_back_to_the_sample_within_seconds(monkeypatch):
    monkeypatch.setattr("keras.datasets.mnist.load_data", fail_download)
    started = time.perf_counter()
    data = load_mnist()
    elapsed = time.perf_counter() - started
    assert data.source == "sample" and data.is_sample
    assert data.counts() == {"train": 4000, "test": 1000}
    assert "offline sample" in data.description
    assert elapsed < 30, f"fallback took {elapsed:.1f} s"


def test_download_runs_under_a_socket_timeout(monkeypatch):
    seen = {}

    def record_timeout():
        seen["timeout"] = socket.getdefaulttimeout()
        raise Exception("offline")

    monkeypatch.setattr("keras.datasets.mnist.load_data", record_timeout)
    with pytest.raises(DataSourceError, match="Keras could not load MNIST"):
        load_mnist("keras")
    assert seen["timeout"] == data_module.DOWNLOAD_TIMEOUT_SECONDS
    assert socket.getdefaulttimeout() is None  # restored afterwards


def test_keras_source_when_available(monkeypatch):
    fake = (
        (np.zeros((6, 28, 28), np.uint8), np.arange(6) % 10),
        (np.zeros((2, 28, 28), np.uint8), np.arange(2)),
    )
    monkeypatch.setattr("keras.datasets.mnist.load_data", lambda: fake)
    data = load_mnist()
    assert data.source == "keras" and data.counts() == {"train": 6, "test": 2}


def test_source_can_be_forced_and_unknown_source_is_refused(monkeypatch, tmp_path):
    write_mnist_folder(tmp_path)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert load_mnist("sample").source == "sample"
    with pytest.raises(DataSourceError, match="unknown data source"):
        load_mnist("internet")


def test_sample_is_real_mnist_stratified(sample_data):
    assert sample_data.x_train.dtype == np.uint8 and sample_data.x_train.shape[1:] == (28, 28)
    assert np.bincount(sample_data.y_test, minlength=10).tolist() == [100] * 10
    assert np.bincount(sample_data.y_train, minlength=10).tolist() == [400] * 10


def test_validation_split_is_stratified_disjoint_and_reproducible(sample_data):
    images = np.arange(len(sample_data.y_train))  # stand-in "images": their own index
    labels = sample_data.y_train
    x_tr, y_tr, x_val, y_val = split_validation(images, labels, fraction=0.1, seed=3)
    assert len(x_val) == 400 and len(x_tr) == 3600
    assert not set(x_tr) & set(x_val)
    assert np.bincount(y_val, minlength=10).tolist() == [40] * 10
    again = split_validation(images, labels, fraction=0.1, seed=3)
    np.testing.assert_array_equal(again[2], x_val)
    other = split_validation(images, labels, fraction=0.1, seed=4)
    assert set(other[2]) != set(x_val)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_validation_split_refuses_a_fraction_outside_zero_one(sample_data, fraction):
    with pytest.raises(ConfigError, match="validation fraction"):
        split_validation(sample_data.x_train, sample_data.y_train, fraction=fraction)


def test_normalize_maps_uint8_to_unit_interval():
    scaled = normalize(np.array([0, 51, 255], dtype=np.uint8))
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [0.0, 0.2, 1.0])
