"""Looking inside a model: first-layer weights, layer activations, single-image prediction."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from core.data import normalize
from core.models import INPUT_SHAPE

# One compiled single-image forward pass per live model; an entry goes when its model does.
_COMPILED_FORWARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_COMPILE_LOCK = threading.Lock()


@dataclass(frozen=True)
class FirstLayerWeights:
    """Weights of the first trainable layer as images: kind is "dense" or "conv"."""

    kind: str
    layer_name: str
    images: np.ndarray  # dense: (units, 28, 28); conv: (filters, k, k) for the first input channel


def first_layer_weights(model: keras.Model) -> FirstLayerWeights:
    """The first Dense layer's 784 weights per unit as 28×28, or the first Conv2D's kernels."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            kernel = np.asarray(layer.get_weights()[0])  # (784, units)
            return FirstLayerWeights("dense", layer.name, kernel.T.reshape(-1, 28, 28))
        if isinstance(layer, keras.layers.Conv2D):
            kernel = np.asarray(layer.get_weights()[0])  # (k, k, in, filters)
            return FirstLayerWeights("conv", layer.name, np.transpose(kernel[:, :, 0, :], (2, 0, 1)))
    raise ValueError("the model has no Dense or Conv2D layer")


def layer_activations(model: keras.Model, images: np.ndarray) -> dict[str, np.ndarray]:
    """Every layer's output for uint8 images (N×28×28), keyed by layer name, in order."""
    probe = keras.Model(inputs=model.inputs[0], outputs=[layer.output for layer in model.layers])
    outputs = probe(normalize(images), training=False)
    return {layer.name: np.asarray(output) for layer, output in zip(model.layers, outputs, strict=True)}


def class_preference(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean activation of each first-layer unit (or feature map) per digit: (units, 10)."""
    layer_name = first_layer_weights(model).layer_name
    activations = layer_activations(model, images)[layer_name]
    if activations.ndim == 4:  # conv feature maps: average over space
        activations = activations.mean(axis=(1, 2))
    return np.stack([activations[labels == digit].mean(axis=0) for digit in range(10)], axis=1)


def predict_digit(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """Probabilities for one 28×28 image (uint8, or float already in [0, 1]).

    Runs the model's compiled forward pass: about 1 ms, where `model.predict` costs ~40 ms and
    an eager `model(x)` several ms for the convnets.
    """
    x = normalize(image) if image.dtype == np.uint8 else np.asarray(image, dtype=np.float32)
    probabilities = compiled_forward(model)(tf.constant(x.reshape(1, *INPUT_SHAPE)))
    return np.asarray(probabilities)[0]


def compiled_forward(model: keras.Model) -> tf.types.experimental.PolymorphicFunction:
    """The model's inference pass on one image as a `tf.function`, traced once and reused.

    It reads the model's variables when called, so later weight changes are seen. The function
    holds the model only weakly: caching it does not keep the model alive.
    """
    with _COMPILE_LOCK:
        forward = _COMPILED_FORWARDS.get(model)
        if forward is None:
            model_ref = weakref.ref(model)
            forward = tf.function(
                lambda x: model_ref()(x, training=False),
                input_signature=[tf.TensorSpec((1, *INPUT_SHAPE), tf.float32)],
            )
            _COMPILED_FORWARDS[model] = forward
    return forward


def tile_images(images: np.ndarray, columns: int, gap: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Arrange (n, h, w) images in a grid separated by NaN gaps.

    Returns the mosaic and, per mosaic pixel, the index of the image it belongs to (-1 in gaps).
    """
    count, height, width = images.shape
    rows = int(np.ceil(count / columns))
    shape = (rows * (height + gap) - gap, columns * (width + gap) - gap)
    mosaic = np.full(shape, np.nan, dtype=np.float32)
    owner = np.full(shape, -1, dtype=np.int32)
    for index, image in enumerate(images):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        mosaic[top : top + height, left : left + width] = image
        owner[top : top + height, left : left + width] = index
    return mosaic, owner
