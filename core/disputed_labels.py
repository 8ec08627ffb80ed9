"""The MNIST test images whose labels human raters disputed, with where that finding comes from.

Northcutt, Athalye & Mueller (2021), "Pervasive Label Errors in Test Sets Destabilize Machine
Learning Benchmarks", NeurIPS Datasets and Benchmarks track (arXiv:2103.14749). Candidates found
by confident learning were checked by five Mechanical Turk raters each; these 15 test images are
those a majority judged mislabelled. Data: labelerrors.com and the public repository
cleanlab/label-errors. Indices are positions in the standard 10,000-image MNIST test set, so they
mean nothing on any other test set (the offline sample's test images come from the training set).
"""

from __future__ import annotations

from core.data import FULL_MNIST_COUNTS, MnistData

DISPUTED_TEST_INDICES: tuple[int, ...] = (
    947, 1621, 1901, 2130, 2462, 2597, 2654, 3520, 3558, 5937, 6651, 6783, 8527, 9679, 9729,
)  # fmt: skip
CITATION = (
    "Northcutt, Athalye & Mueller (2021), “Pervasive Label Errors in Test Sets Destabilize Machine "
    "Learning Benchmarks”, NeurIPS Datasets and Benchmarks; labelerrors.com"
)
DISPUTED_NOTE = "label disputed"  # the mark shown beside such an image


def disputed_test_indices(data: MnistData) -> frozenset[int]:
    """The disputed indices when `data`'s test set is the standard MNIST test set, else none."""
    if data.is_sample or len(data.y_test) != FULL_MNIST_COUNTS[1]:
        return frozenset()
    return frozenset(DISPUTED_TEST_INDICES)
