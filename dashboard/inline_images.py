"""Digits as inline PNG data URIs, so the browser never fetches an image file from the server.

Streamlit serves an st.image file only while the script run that made it is current: an image
still loading when a visitor pages through the gallery or moves to another page answers 404
(a broken image, and an error in the console). A 28×28 PNG is a few hundred bytes, so inlining
costs less than the extra request it replaces. st.image passes a `data:` URL through untouched.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def png_data_uri(image: np.ndarray) -> str:
    """A float image in [0, 1] (clipped) or a uint8 image as an inline PNG."""
    pixels = image if image.dtype == np.uint8 else (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.squeeze(pixels)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
