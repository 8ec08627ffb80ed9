"""Digits as inline PNG data URIs: the dashboard's pages and the self-contained HTML report embed them.

A 28×28 PNG is a few hundred bytes, so inlining costs less than a request for an image file, and a
report file keeps its images wherever it is opened.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def png_bytes(image: np.ndarray) -> bytes:
    """A float image in [0, 1] (clipped) or a uint8 image (grey, or H×W×3/4 colour) as PNG bytes."""
    pixels = image if image.dtype == np.uint8 else (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.squeeze(pixels)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    """A float image in [0, 1] (clipped) or a uint8 image as an inline PNG."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")
