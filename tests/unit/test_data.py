"""Where MNIST comes from (source order, offline fallback) and how it is split and scaled."""

import hashlib
import io
import json
import sys
import time
import urllib.error

import numpy as np
import pytest

from core import data as data_module
from core.data import load_from_folder, load_mnist, mnist_name, normalize, split_validation
from core.errors import ConfigError, DataSourceError
from tests.support.mnist_files import write_mnist_folder


def fail_download(*args, **kwargs):
    raise urllib.error.URLError("no network")  # what urllib raises offline


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache, and no MNIST_DIR: the "keras" step of the order is the one that runs."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.delenv("MNIST_DIR", raising=False)
    return tmp_path / "keras-home"


def small_npz(train: int = 6, test: int = 2) -> bytes:
    """A Keras-layout mnist.npz of blank digits, as bytes."""
    buffer = io.BytesIO()
    np.savez(
        buffer,
        x_train=np.zeros((train, 28, 28), np.uint8),
        y_train=(np.arange(train) % 10).astype(np.uint8),
        x_test=np.zeros((test, 28, 28), np.uint8),
        y_test=(np.arange(test) % 10).astype(np.uint8),
    )
    return buffer.getvalue()


def serve_download(monkeypatch, payload: bytes) -> list[dict]:
    """urlopen answers `payload`, which is taken as Keras' file (its checksum); returns the calls made."""
    calls = []

    def urlopen(url, timeout=None):
        calls.append({"url": url, "timeout": timeout})
        return io.BytesIO(payload)

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    monkeypatch.setattr(data_module, "KERAS_MNIST_SHA256", hashlib.sha256(payload).hexdigest())
    return calls


def test_mnist_dir_is_used_first(tmp_path, monkeypatch):
    write_mnist_folder(tmp_path, n_train=20, n_test=7)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    monkeypatch.setattr("urllib.request.urlopen", fail_download)
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


def test_failed_download_falls_back_to_the_sample_within_seconds(keras_home, monkeypatch):
    monkeypatch.setattr("urllib.request.urlopen", fail_download)
    started = time.perf_counter()
    data = load_mnist()
    elapsed = time.perf_counter() - started
    assert data.source == "sample" and data.is_sample
    assert data.counts() == {"train": 4000, "test": 1000}
    assert "offline sample" in data.description
    assert elapsed < 30, f"fallback took {elapsed:.1f} s"
    assert not list(keras_home.rglob("*.part")), "a failed download left a partial file"


def test_the_download_has_a_timeout_and_is_cached_where_keras_keeps_it(keras_home, monkeypatch):
    calls = serve_download(monkeypatch, small_npz())
    first = load_mnist()
    assert first.source == "keras" and first.counts() == {"train": 6, "test": 2}
    assert calls == [{"url": data_module.KERAS_MNIST_URL, "timeout": data_module.DOWNLOAD_TIMEOUT_SECONDS}]
    assert (keras_home / "datasets" / "mnist.npz").is_file()
    assert load_mnist("keras").counts() == first.counts()
    assert len(calls) == 1, "the cached file was downloaded again"


def test_a_download_that_fails_its_checksum_is_refused_and_not_kept(keras_home, monkeypatch):
    serve_download(monkeypatch, small_npz())
    monkeypatch.setattr(data_module, "KERAS_MNIST_SHA256", "0" * 64)
    with pytest.raises(DataSourceError, match="checksum"):
        load_mnist("keras")
    assert not list(keras_home.rglob("mnist.npz*"))
    assert load_mnist().source == "sample"


def test_a_cache_keras_wrote_is_read_without_downloading(keras_home, monkeypatch):
    payload = small_npz(train=10, test=3)
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "mnist.npz").write_bytes(payload)
    monkeypatch.setattr(data_module, "KERAS_MNIST_SHA256", hashlib.sha256(payload).hexdigest())
    monkeypatch.setattr("urllib.request.urlopen", fail_download)
    assert load_mnist().counts() == {"train": 10, "test": 3}


def test_keras_mnist_loads_without_importing_tensorflow(keras_home, monkeypatch):
    """Home shows the data before TensorFlow loads (seconds), so fetching Keras' file must not import it."""
    serve_download(monkeypatch, small_npz())
    for name in [name for name in sys.modules if name.split(".")[0] in ("keras", "tensorflow")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr("builtins.__import__", refuse_tensorflow(__import__))
    assert load_mnist().source == "keras"


def refuse_tensorflow(real_import):
    def guarded(name, *args, **kwargs):
        if name.split(".")[0] in ("keras", "tensorflow"):
            raise AssertionError(f"loading MNIST imported {name}")
        return real_import(name, *args, **kwargs)

    return guarded


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
