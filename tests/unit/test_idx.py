"""The IDX reader on generated files: good ones, gzipped or plain, and each kind of malformed."""

import gzip

import numpy as np
import pytest

from core.data import load_from_folder
from core.errors import DataFormatError, DataSourceError
from core.idx import read_idx, write_idx
from tests.support.mnist_files import write_mnist_folder

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("gz", [False, True])
def test_round_trip_plain_and_gzip(tmp_path, gz):
    images = RNG.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    path = tmp_path / ("images.idx" + (".gz" if gz else ""))
    write_idx(path, images)
    np.testing.assert_array_equal(read_idx(path), images)


@pytest.mark.parametrize("gz", [False, True])
def test_folder_of_idx_files_loads(tmp_path, gz):
    arrays = write_mnist_folder(tmp_path, gz=gz)
    data = load_from_folder(tmp_path)
    np.testing.assert_array_equal(data.x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert data.source == "folder"
    assert data.counts() == {"train": 30, "test": 10}


def test_npz_folder_loads(tmp_path):
    x_train = RNG.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    y_train = RNG.integers(0, 10, 12, dtype=np.uint8)
    x_test, y_test = x_train[:4], y_train[:4]
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    data = load_from_folder(tmp_path)
    np.testing.assert_array_equal(data.x_train, x_train)
    assert data.counts() == {"train": 12, "test": 4}


def test_npz_with_pickled_objects_is_refused(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_train=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataFormatError, match="mnist.npz"):
        load_from_folder(tmp_path)


def _raw_file(tmp_path, payload: bytes, name="bad-idx1-ubyte"):
    path = tmp_path / name
    path.write_bytes(payload)
    return path


def _header(type_code, shape):
    return bytes([0, 0, type_code, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)


@pytest.mark.parametrize(
    "payload, message",
    [
        (_header(0x08, (3,))[:2], "too short"),
        (b"\x08\x03\x00\x00" + bytes(8), "wrong magic"),
        (_header(0x0D, (3,)) + bytes(12), "wrong magic"),  # float32 elements, not bytes
        (_header(0x08, (3, 28, 28))[:9], "header truncated"),
        (_header(0x08, (3, 28, 28)) + bytes(28 * 28 * 2), "truncated data"),
        (_header(0x08, (3,)) + bytes(5), "unexpected bytes"),
    ],
)
def test_malformed_files_raise_one_error_type_naming_the_file(tmp_path, payload, message):
    path = _raw_file(tmp_path, payload)
    with pytest.raises(DataFormatError, match=message) as error:
        read_idx(path)
    assert "bad-idx1-ubyte" in str(error.value)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = _raw_file(tmp_path, b"not gzip at all", name="train-labels-idx1-ubyte.gz")
    with pytest.raises(DataFormatError, match="train-labels-idx1-ubyte.gz"):
        read_idx(path)


def test_image_label_count_mismatch(tmp_path):
    write_mnist_folder(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(29, dtype=np.uint8))
    with pytest.raises(DataFormatError, match="30 images but .* 29 labels"):
        load_from_folder(tmp_path)


def test_label_outside_0_to_9(tmp_path):
    write_mnist_folder(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(10, 12, dtype=np.uint8))
    with pytest.raises(DataFormatError, match="t10k-labels-idx1-ubyte: label 12"):
        load_from_folder(tmp_path)


def test_images_of_wrong_size(tmp_path):
    write_mnist_folder(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((30, 32, 32), dtype=np.uint8))
    with pytest.raises(DataFormatError, match="train-images-idx3-ubyte: expected images of 28x28"):
        load_from_folder(tmp_path)


def test_missing_file_and_missing_folder_are_named(tmp_path):
    write_mnist_folder(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(DataSourceError, match="lacks t10k-images-idx3-ubyte"):
        load_from_folder(tmp_path)
    with pytest.raises(DataSourceError, match="does not exist"):
        load_from_folder(tmp_path / "nowhere")


def test_gzip_truncated_in_the_middle(tmp_path):
    good = gzip.compress(_header(0x08, (100,)) + bytes(100))
    path = _raw_file(tmp_path, good[: len(good) // 2], name="labels-idx1-ubyte.gz")
    with pytest.raises(DataFormatError, match="labels-idx1-ubyte.gz"):
        read_idx(path)
