"""Perturbations of digit images: the What-if sliders and the robustness curves share them.

Each transform takes a batch (N×28×28 floats in [0, 1], or uint8) and one severity in its own
unit (degrees, pixels, …) and returns floats in [0, 1]. Severity 0 is the identity. The random
ones (noise, elastic) are deterministic given a seed. MNIST-C (Mu & Gilmer 2019) is the reference
for the kinds and levels; its code needs ImageMagick and breaks on numpy 2, so these are written
with scipy.ndimage and numpy, batched: one call transforms the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.data import as_model_input

ELASTIC_SMOOTHING = 4.0  # σ (pixels) of the Gaussian that smooths the random displacement field (Simard 2003)


@dataclass(frozen=True)
class Perturbation:
    """One kind of perturbation: its slider range (What-if) and its severity levels (robustness curves)."""

    name: str
    label: str
    unit: str
    slider: tuple[float, float, float]  # min, max, step
    levels: tuple[float, ...]  # the severities a robustness curve measures, besides 0
    apply: Callable[[np.ndarray, float, int], np.ndarray]  # (images, severity, seed) → images

    def __call__(self, images: np.ndarray, severity: float, seed: int = 0) -> np.ndarray:
        x = as_model_input(np.asarray(images)).reshape(-1, 28, 28)
        if severity == 0:
            return x.copy()
        return np.clip(self.apply(x, float(severity), seed), 0.0, 1.0).astype(np.float32)


# ---- the transforms: (images N×28×28 floats, severity, seed) → images ---------------------------------
# Each imports scipy.ndimage itself: its ~0.3 s import stays off the dashboard's start (Home lists
# these perturbations' names through core.figures).


def rotate(images: np.ndarray, degrees: float, seed: int = 0) -> np.ndarray:
    """Rotate about the image centre, counter-clockwise (linear interpolation, black outside)."""
    from scipy import ndimage

    return ndimage.rotate(images, degrees, axes=(2, 1), reshape=False, order=1, mode="constant")


def shift_x(images: np.ndarray, pixels: float, seed: int = 0) -> np.ndarray:
    """Move right by `pixels` (left if negative)."""
    from scipy import ndimage

    return ndimage.shift(images, (0, 0, pixels), order=1, mode="constant")


def shift_y(images: np.ndarray, pixels: float, seed: int = 0) -> np.ndarray:
    """Move down by `pixels` (up if negative)."""
    from scipy import ndimage

    return ndimage.shift(images, (0, pixels, 0), order=1, mode="constant")


def scale(images: np.ndarray, percent: float, seed: int = 0) -> np.ndarray:
    """Zoom about the centre: +50 makes the digit 1.5× as large, −50 half as large."""
    from scipy import ndimage

    factor = 1.0 + percent / 100.0
    centre = (np.array(images.shape[1:]) - 1) / 2
    matrix = np.diag([1.0, 1.0 / factor, 1.0 / factor])  # output → input coordinates
    offset = np.concatenate([[0.0], centre - centre / factor])
    return ndimage.affine_transform(images, matrix, offset=offset, order=1, mode="constant")


def thickness(images: np.ndarray, pixels: float, seed: int = 0) -> np.ndarray:
    """Thicker strokes (grey dilation by a disk of radius `pixels`) or thinner ones (erosion, negative)."""
    from scipy import ndimage

    radius = int(round(abs(pixels)))
    if radius == 0:
        return images
    grid = np.arange(-radius, radius + 1)
    disk = (grid[:, None] ** 2 + grid[None, :] ** 2) <= radius**2 + 0.5
    morph = ndimage.grey_dilation if pixels > 0 else ndimage.grey_erosion
    return morph(images, footprint=disk[None])


def blur(images: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Gaussian blur of standard deviation `sigma` pixels (the MNIST-C kinds blur with a few pixels)."""
    from scipy import ndimage

    return ndimage.gaussian_filter(images, sigma=(0, sigma, sigma), mode="constant")


def noise(images: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    """Gaussian noise of standard deviation `std` (in units of full brightness), clipped to [0, 1]."""
    return images + np.random.default_rng(seed).normal(0.0, std, images.shape).astype(np.float32)


def elastic(images: np.ndarray, pixels: float, seed: int = 0) -> np.ndarray:
    """Elastic distortion (Simard et al. 2003): a smooth random displacement field, RMS `pixels` long."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    field = rng.uniform(-1.0, 1.0, (2, *images.shape))
    field = ndimage.gaussian_filter(field, sigma=(0, 0, ELASTIC_SMOOTHING, ELASTIC_SMOOTHING), mode="constant")
    rms = np.sqrt(np.mean(field**2, axis=(0, 2, 3), keepdims=True))
    field *= pixels / np.maximum(rms, 1e-12)
    n, rows, columns = np.meshgrid(*(np.arange(size) for size in images.shape), indexing="ij")
    coordinates = np.stack([n, rows + field[0], columns + field[1]])
    return ndimage.map_coordinates(images, coordinates, order=1, mode="constant")


PERTURBATIONS: tuple[Perturbation, ...] = (
    Perturbation("rotation", "rotation", "°", (-90, 90, 5), (15, 30, 45, 60, 75), rotate),
    Perturbation("shift_x", "shift x", "px", (-10, 10, 1), (2, 4, 6, 8), shift_x),
    Perturbation("shift_y", "shift y", "px", (-10, 10, 1), (2, 4, 6, 8), shift_y),
    Perturbation("scale", "scale", "%", (-60, 60, 5), (-10, -20, -30, -40, -50), scale),
    Perturbation("thickness", "stroke thickness", "px", (-2, 3, 1), (-1, 1, 2, 3), thickness),
    Perturbation("blur", "blur", "σ px", (0.0, 3.0, 0.25), (0.5, 1.0, 1.5, 2.0, 3.0), blur),
    Perturbation("noise", "noise", "σ", (0.0, 1.0, 0.05), (0.1, 0.2, 0.3, 0.5, 0.7), noise),
    Perturbation("elastic", "elastic distortion", "px", (0.0, 6.0, 0.5), (1, 2, 3, 4, 5), elastic),
)
BY_NAME: dict[str, Perturbation] = {perturbation.name: perturbation for perturbation in PERTURBATIONS}
# The What-if page composes them in this order: shape first, then position, then blur and noise.
COMPOSITION_ORDER = ("thickness", "scale", "rotation", "elastic", "shift_x", "shift_y", "blur", "noise")


def perturb(images: np.ndarray, severities: dict[str, float], seed: int = 0) -> np.ndarray:
    """Several perturbations at once, in COMPOSITION_ORDER; a name missing or at 0 is skipped."""
    x = as_model_input(np.asarray(images)).reshape(-1, 28, 28)
    unknown = set(severities) - set(BY_NAME)
    if unknown:
        raise ValueError(f"unknown perturbation(s): {', '.join(sorted(unknown))}")
    for name in COMPOSITION_ORDER:
        if severities.get(name, 0):
            x = BY_NAME[name](x, severities[name], seed)
    return x
