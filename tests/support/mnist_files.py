"""Tiny MNIST-layout folders (IDX files, plain or gzipped) with random images and labels."""

import numpy as np

from core.idx import write_idx

RNG = np.random.default_rng(0)


def write_mnist_folder(folder, n_train=30, n_test=10, gz=False):
    """A tiny MNIST-layout folder with random images and labels; returns the arrays."""
    arrays = {
        "train-images-idx3-ubyte": RNG.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": RNG.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": RNG.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": RNG.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        write_idx(folder / (name + (".gz" if gz else "")), array)
    return arrays
