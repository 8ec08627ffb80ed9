"""Training-time augmentation: small rotations, shifts and zooms; elastic distortions; and, for the Draw recipe,
handwriting renderings.

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
# Elastic distortions (Simard, Steinkraus & Platt 2003): a random field, uniform in [-1, 1] per pixel, smoothed by
# a Gaussian of ELASTIC_SIGMA pixels and scaled by ELASTIC_ALPHA. These are the paper's values; they move the
# strokes of a 28×28 digit about 1.4 pixels (standard deviation), bending them as different hands would.
ELASTIC_ALPHA = 34.0
ELASTIC_SIGMA = 4.0

# ---- affine augmentation ---------------------------------------------------------------------------------


def make_augmenter(
    seed: int, max_rotation_degrees: float = MAX_ROTATION_DEGREES, max_shift: float = MAX_SHIFT_FRACTION
) -> keras.Sequential:
    """Random rotation, shift and zoom of (batch, 28, 28, 1) images, filling with black."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(max_rotation_degrees / 360, fill_mode="constant", seed=seed),
            keras.layers.RandomTranslation(max_shift, max_shift, fill_mode="constant", seed=seed + 1),
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


# ---- elastic distortions ----------------------------------------------------------------------------------
# Written here rather than taken from Keras: keras.layers.RandomElasticTransform (Keras 3.15) draws the horizontal
# and vertical fields from one seed, so every pixel moves along the diagonal, and it samples image by image.


def _gaussian_kernel(sigma: float) -> tf.Tensor:
    """A normalised 1-D Gaussian reaching out three sigmas."""
    radius = int(3 * sigma + 0.5)
    grid = tf.range(-radius, radius + 1, dtype=tf.float32)
    kernel = tf.exp(-(grid**2) / (2 * sigma**2))
    return kernel / tf.reduce_sum(kernel)


def smooth_displacements(noise: tf.Tensor, sigma: float = ELASTIC_SIGMA) -> tf.Tensor:
    """(batch, height, width, 2) raw noise → the same fields smoothed by a Gaussian of `sigma` pixels."""
    kernel = _gaussian_kernel(sigma)
    down = tf.tile(tf.reshape(kernel, (-1, 1, 1, 1)), (1, 1, 2, 1))
    across = tf.tile(tf.reshape(kernel, (1, -1, 1, 1)), (1, 1, 2, 1))
    smoothed = tf.nn.depthwise_conv2d(noise, down, (1, 1, 1, 1), "SAME")
    return tf.nn.depthwise_conv2d(smoothed, across, (1, 1, 1, 1), "SAME")


def random_displacements(
    generator: tf.random.Generator, batch, height: int, width: int, alpha=ELASTIC_ALPHA, sigma=ELASTIC_SIGMA
) -> tf.Tensor:
    """(batch, height, width, 2) elastic fields, in pixels: one per image, rows and columns drawn apart."""
    noise = generator.uniform((batch, height, width, 2), -1.0, 1.0)
    return alpha * smooth_displacements(noise, sigma)


def displace(images: tf.Tensor, displacements: tf.Tensor) -> tf.Tensor:
    """Each output pixel (r, c) of (batch, height, width) `images` is the input bilinearly sampled at
    (r + dr, c + dc), where (dr, dc) = displacements[..., 0], [..., 1]; outside the image is black."""
    batch, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
    padded = tf.reshape(tf.pad(images, ((0, 0), (1, 1), (1, 1))), (-1,))  # one black pixel round the edge
    rows = tf.range(height, dtype=tf.float32)[None, :, None] + displacements[..., 0]
    columns = tf.range(width, dtype=tf.float32)[None, None, :] + displacements[..., 1]
    row_0, column_0 = tf.floor(rows), tf.floor(columns)
    row_weight, column_weight = rows - row_0, columns - column_0
    offsets = tf.range(batch)[:, None, None] * (height + 2) * (width + 2)

    def pixel(row, column):  # positions beyond the black border read the border
        row = tf.cast(tf.clip_by_value(row, -1.0, float(height)), tf.int32) + 1
        column = tf.cast(tf.clip_by_value(column, -1.0, float(width)), tf.int32) + 1
        return tf.gather(padded, offsets + row * (width + 2) + column)

    top = (1 - column_weight) * pixel(row_0, column_0) + column_weight * pixel(row_0, column_0 + 1)
    bottom = (1 - column_weight) * pixel(row_0 + 1, column_0) + column_weight * pixel(row_0 + 1, column_0 + 1)
    return (1 - row_weight) * top + row_weight * bottom


def elastic_batch(seed: int, alpha: float = ELASTIC_ALPHA, sigma: float = ELASTIC_SIGMA):
    """A tf.data map function distorting every image of a batch of (images, labels) by its own elastic field."""
    generator = tf.random.Generator.from_seed(seed)

    def apply(images, labels):
        images = tf.convert_to_tensor(images, tf.float32)
        fields = random_displacements(generator, tf.shape(images)[0], images.shape[1], images.shape[2], alpha, sigma)
        return displace(images, fields), labels

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
    kernel = _gaussian_kernel(sigma)
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
