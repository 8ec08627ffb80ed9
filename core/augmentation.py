"""Training-time augmentation: small rotations, shifts and zooms; and, for the Draw recipe, handwriting renderings.

The renderings imitate at 28×28 what the app's preprocessing makes of people's drawings and photos
(core/analysis/handwriting.py measures them full size): low resolution enlarged back with nearest,
bilinear or bicubic interpolation, thicker and thinner strokes, blur, hard edges. They are cheap
TensorFlow ops on a whole batch, so they cost little beside the convolutions.
"""

from __future__ import annotations

import keras
import tensorflow as tf

MAX_ROTATION_DEGREES = 10
MAX_SHIFT_FRACTION = 0.1
MAX_ZOOM_FRACTION = 0.1

# ---- affine augmentation ---------------------------------------------------------------------------------


def make_augmenter(seed: int) -> keras.Sequential:
    """Random small rotation, shift and zoom of (batch, 28, 28, 1) images, filling with black."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(MAX_ROTATION_DEGREES / 360, fill_mode="constant", seed=seed),
            keras.layers.RandomTranslation(MAX_SHIFT_FRACTION, MAX_SHIFT_FRACTION, fill_mode="constant", seed=seed + 1),
            keras.layers.RandomZoom(MAX_ZOOM_FRACTION, fill_mode="constant", seed=seed + 2),
        ],
        name="augmentation",
    )


def augment_batch(augmenter: keras.Sequential):
    """A tf.data map function applying `augmenter` to a batch of (images, labels)."""

    def apply(images, labels):
        with_channel = tf.expand_dims(images, -1)
        augmented = augmenter(with_channel, training=True)
        return tf.squeeze(augmented, -1), labels

    return apply


# ---- handwriting renderings (the Draw recipe) --------------------------------------------------------------

LOW_RESOLUTIONS = (8, 10, 12, 14, 16)  # the pixel-art and small-photo sizes the digit is shrunk to
ENLARGE_METHODS = ("nearest", "bilinear", "bicubic")
RENDERED_FRACTION = 0.6  # the rest of each batch stays clean, which keeps clean accuracy
BLUR_SIGMAS = (0.8, 1.4)  # pixels at 28×28


def _low_resolution(x: tf.Tensor, size: int, method: str) -> tf.Tensor:
    small = tf.image.resize(x, (size, size), method="area")
    return tf.image.resize(small, (28, 28), method=method)


def _stroke_width(x: tf.Tensor, half_pixels: int) -> tf.Tensor:
    """Thicker (half_pixels > 0) or thinner strokes: grey dilation or erosion by half pixels, at 56×56."""
    big = tf.image.resize(x, (56, 56), method="bilinear")
    window = 2 * abs(half_pixels) + 1
    if half_pixels > 0:
        big = tf.nn.max_pool2d(big, window, 1, "SAME")
    else:
        big = -tf.nn.max_pool2d(-big, window, 1, "SAME")
    return tf.image.resize(big, (28, 28), method="area")


def _blur(x: tf.Tensor, sigma: float) -> tf.Tensor:
    radius = int(3 * sigma + 0.5)
    grid = tf.range(-radius, radius + 1, dtype=tf.float32)
    kernel = tf.exp(-(grid**2) / (2 * sigma**2))
    kernel /= tf.reduce_sum(kernel)
    x = tf.nn.conv2d(x, tf.reshape(kernel, (-1, 1, 1, 1)), 1, "SAME")
    return tf.nn.conv2d(x, tf.reshape(kernel, (1, -1, 1, 1)), 1, "SAME")


def handwriting_variants(x: tf.Tensor) -> list[tf.Tensor]:
    """Every rendering of a (batch, 28, 28, 1) batch, each rescaled to a brightest pixel of 1 as the app does."""
    variants = [_low_resolution(x, size, method) for size in LOW_RESOLUTIONS for method in ENLARGE_METHODS]
    variants += [_stroke_width(x, 2), _stroke_width(x, 4), _stroke_width(x, -1)]
    variants += [_blur(x, sigma) for sigma in BLUR_SIGMAS]
    variants.append(tf.cast(x >= 0.5, tf.float32))  # hard edges: no anti-aliasing
    peaks = [tf.reduce_max(v, axis=(1, 2, 3), keepdims=True) for v in variants]
    return [tf.clip_by_value(v / tf.maximum(p, 1e-6), 0.0, 1.0) for v, p in zip(variants, peaks, strict=True)]


def render_batch(seed: int):
    """A tf.data map function giving RENDERED_FRACTION of each batch's images one random rendering each."""
    generator = tf.random.Generator.from_seed(seed)

    def apply(images, labels):
        x = tf.expand_dims(images, -1)
        variants = tf.stack(handwriting_variants(x))  # (variants, batch, 28, 28, 1)
        batch = tf.shape(x)[0]
        choice = generator.uniform((batch,), 0, len(variants), dtype=tf.int32)
        rendered = tf.gather(tf.transpose(variants, (1, 0, 2, 3, 4)), choice, batch_dims=1)
        keep = generator.uniform((batch, 1, 1, 1)) >= RENDERED_FRACTION
        return tf.squeeze(tf.where(keep, x, rendered), -1), labels

    return apply
