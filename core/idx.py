"""Reader for LeCun's IDX files (the format MNIST is distributed in), plain or gzipped."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from core.errors import DataFormatError

# The third byte of the magic number gives the element type; MNIST uses unsigned bytes only.
UBYTE_TYPE_CODE = 0x08
IMAGE_DIMENSIONS = 3
LABEL_DIMENSIONS = 1


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file of unsigned bytes into an array of the shape its header gives."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataFormatError(f"{path.name}: file too short to hold an IDX header")
    zero1, zero2, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0 or type_code != UBYTE_TYPE_CODE or ndim == 0:
        raise DataFormatError(
            f"{path.name}: wrong magic number 0x{raw[:4].hex()} (expected 0x000008NN, unsigned bytes)"
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataFormatError(f"{path.name}: header truncated ({len(raw)} bytes)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape, dtype=np.int64))
    body = len(raw) - header_size
    if body < expected:
        raise DataFormatError(f"{path.name}: truncated data: header says {shape} ({expected} bytes), found {body}")
    if body > expected:
        raise DataFormatError(f"{path.name}: {body - expected} unexpected bytes after the data of shape {shape}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def read_images_and_labels(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a matching pair of MNIST image and label files and check that they agree."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != IMAGE_DIMENSIONS or images.shape[1:] != (28, 28):
        raise DataFormatError(f"{images_path.name}: expected images of 28x28, got shape {images.shape}")
    if labels.ndim != LABEL_DIMENSIONS:
        raise DataFormatError(f"{labels_path.name}: expected a 1-D label file, got shape {labels.shape}")
    if len(images) != len(labels):
        raise DataFormatError(
            f"{images_path.name} holds {len(images)} images but {labels_path.name} holds {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise DataFormatError(f"{labels_path.name}: label {int(labels.max())} is outside 0-9")
    return images, labels


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write an unsigned-byte array as an IDX file (gzipped when the name ends in .gz)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, UBYTE_TYPE_CODE, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as handle:
        handle.write(header + array.tobytes())


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except FileNotFoundError as error:
        raise DataFormatError(f"{path.name}: file not found in {path.parent}") from error
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataFormatError(f"{path.name}: cannot be read ({error})") from error
