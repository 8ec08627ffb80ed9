"""The disputed-label list applies to the standard MNIST test set only."""

import numpy as np

from core.data import MnistData
from core.disputed_labels import DISPUTED_TEST_INDICES, disputed_test_indices


def data_with(test_count: int, source: str) -> MnistData:
    images = np.zeros((test_count, 28, 28), dtype=np.uint8)
    labels = np.zeros(test_count, dtype=np.uint8)
    return MnistData(images[:1], labels[:1], images, labels, source, "made up")


def test_the_standard_test_set_has_the_fifteen_disputed_images():
    assert disputed_test_indices(data_with(10_000, "folder")) == frozenset(DISPUTED_TEST_INDICES)
    assert len(DISPUTED_TEST_INDICES) == 15


def test_other_test_sets_have_none():
    assert disputed_test_indices(data_with(1_000, "sample")) == frozenset()
    assert disputed_test_indices(data_with(9_000, "folder")) == frozenset()
