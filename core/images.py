"""Digits as inline PNG data URIs: the dashboard's pages and the self-contained HTML report embed them.

A 28×28 PNG is a few hundred bytes, so inlining costs less than a request for an image file, and a
report file keeps its images wherever it is opened.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

# Saliency overlays (the dashboard's and docs/results.md's): red speaks for the class, blue against it.
FOR_COLOUR = np.array([214, 39, 40], dtype=np.float32)  # red: speaks for the class
AGAINST_COLOUR = np.array([31, 119, 180], dtype=np.float32)  # blue: speaks against it
MAX_OPACITY = 0.85
DIGIT_BRIGHTNESS = 0.6  # the digit is dimmed under the colours so that they stand out
UPSCALE = 8  # 28 px → 224 px, each pixel a crisp square


def png_bytes(image: np.ndarray) -> bytes:
    """A float image in [0, 1] (clipped) or a uint8 image (grey, or H×W×3/4 colour) as PNG bytes."""
    pixels = image if image.dtype == np.uint8 else (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.squeeze(pixels)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    """A float image in [0, 1] (clipped) or a uint8 image as an inline PNG."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def colour_limit(attributions: np.ndarray) -> float:
    """The attribution that gets full colour: the largest in magnitude (1 for an all-zero map)."""
    return float(np.abs(attributions).max()) or 1.0


def overlay_rgba(image: np.ndarray, attributions: np.ndarray, upscale: int = UPSCALE) -> np.ndarray:
    """(28·upscale, 28·upscale, 4) uint8: the dimmed digit, red and blue blended over it by attribution."""
    grey = np.asarray(image, dtype=np.float32).reshape(28, 28)
    grey = grey / 255.0 if np.asarray(image).dtype == np.uint8 else np.clip(grey, 0.0, 1.0)
    base = np.repeat((grey * DIGIT_BRIGHTNESS * 255)[:, :, None], 3, axis=2)
    strength = np.clip(attributions / colour_limit(attributions), -1.0, 1.0)
    alpha = (np.abs(strength) * MAX_OPACITY)[:, :, None]
    colour = np.where(strength[:, :, None] >= 0, FOR_COLOUR, AGAINST_COLOUR)
    rgb = (1 - alpha) * base + alpha * colour
    rgba = np.concatenate([rgb, np.full((28, 28, 1), 255.0)], axis=2).round().astype(np.uint8)
    return np.kron(rgba, np.ones((upscale, upscale, 1), dtype=np.uint8))
