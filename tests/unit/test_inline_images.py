"""Inline digit images decode back to the same pixels."""

import base64
import io

import numpy as np
from PIL import Image

from dashboard.inline_images import png_data_uri


def decode(uri: str) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri[len(prefix) :]))))


def test_a_float_image_round_trips_to_uint8_pixels():
    image = np.linspace(0.0, 1.0, 28 * 28, dtype=np.float32).reshape(28, 28)
    np.testing.assert_array_equal(decode(png_data_uri(image)), (image * 255).round().astype(np.uint8))


def test_values_outside_the_unit_range_are_clipped_and_a_channel_axis_is_dropped():
    image = np.full((28, 28, 1), 2.0, dtype=np.float32)
    image[0, 0, 0] = -1.0
    pixels = decode(png_data_uri(image))
    assert pixels.shape == (28, 28)
    assert pixels[0, 0] == 0 and pixels[1, 1] == 255


def test_uint8_images_are_kept_as_they_are():
    image = np.arange(28 * 28, dtype=np.uint32).reshape(28, 28).astype(np.uint8)
    np.testing.assert_array_equal(decode(png_data_uri(image)), image)
