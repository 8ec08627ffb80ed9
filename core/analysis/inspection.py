"""Looking inside a model: first-layer weights, layer activations, single-image prediction."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from core.data import as_model_input
from core.litert_forward import litert_forward
from core.models import INPUT_SHAPE

# One compiled single-image forward pass per live model; an entry goes when its model does.
_COMPILED_FORWARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_COMPILED_BATCH_FORWARDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_COMPILE_LOCK = threading.Lock()
# Images per inspection batch: deep_cnn needs ~0.7 MB per image for its layers' outputs.
INSPECTION_BATCH_SIZE = 256


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
    """Every layer's output for images (N×28×28, uint8 or floats in [0, 1]), keyed by layer name, in order.

    Meant for a few images (the Activations page shows one): the result holds every layer's
    output for every image. For many images, reduce batch by batch with `iter_layer_outputs`.
    """
    names = [layer.name for layer in model.layers]
    batches = list(iter_layer_outputs(model, images, names))
    return {name: np.concatenate([batch[name] for batch in batches]) for name in names}


def iter_layer_outputs(
    model: keras.Model, images: np.ndarray, layer_names: list[str], batch_size: int = INSPECTION_BATCH_SIZE
) -> Iterator[dict[str, np.ndarray]]:
    """The named layers' outputs for images (uint8 or floats in [0, 1]), one batch of `batch_size` images at a time.

    Peak memory depends on the batch size and the model, never on the number of images. A
    Sequential model's layers are applied in order, stopping after the last layer asked for:
    a Keras probe `keras.Model(inputs, [layer.output for every layer])` on a Sequential loaded
    from disk re-runs the whole chain up to each output (378 layer calls for deep_cnn's 27
    layers) and keeps every intermediate alive, about 20× the memory of its outputs.
    """
    wanted = set(layer_names)
    unknown = wanted - {layer.name for layer in model.layers}
    if unknown:
        raise ValueError(f"the model has no layer {', '.join(sorted(unknown))}")
    for start in range(0, len(images), batch_size):
        x = tf.constant(as_model_input(images[start : start + batch_size]))
        yield _outputs_of(model, x, wanted)


def _outputs_of(model: keras.Model, x: tf.Tensor, wanted: set[str]) -> dict[str, np.ndarray]:
    """One batch through the model, keeping only the wanted layers' outputs (as numpy)."""
    if isinstance(model, keras.Sequential):
        outputs, remaining = {}, set(wanted)
        for layer in model.layers:
            x = layer(x, training=False)
            if layer.name in remaining:
                outputs[layer.name] = np.asarray(x)
                remaining.discard(layer.name)
                if not remaining:
                    break
        return outputs
    # A functional model may branch: a probe per layer, each computing only what that layer needs.
    return {
        name: np.asarray(keras.Model(model.inputs, model.get_layer(name).output)(x, training=False)) for name in wanted
    }


@dataclass(frozen=True)
class ClassPreference:
    """How strongly each first-layer unit (or feature map) responds to each digit, on average."""

    layer_name: str
    mean_activation: np.ndarray  # (units, 10); NaN for a digit without images

    def favourite_digits(self, top: int = 3) -> np.ndarray:
        """Each unit's `top` digits by mean activation, strongest first: (units, top)."""
        return np.argsort(np.nan_to_num(self.mean_activation, nan=-np.inf), axis=1, kind="stable")[:, ::-1][:, :top]

    def strongest(self) -> np.ndarray:
        """Each unit's highest mean activation over the digits."""
        return np.nanmax(self.mean_activation, axis=1)


def class_preference(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, batch_size: int = INSPECTION_BATCH_SIZE
) -> ClassPreference:
    """Mean activation of each first-layer unit (or feature map) per digit.

    Only the first layer is computed, batch by batch, and summed per digit as it goes, so memory
    does not grow with the number of images.
    """
    layer_name = first_layer_weights(model).layer_name
    sums, counts = None, np.zeros(10, dtype=np.int64)
    batches = iter_layer_outputs(model, images, [layer_name], batch_size)
    for start, outputs in zip(range(0, len(images), batch_size), batches, strict=True):
        activations = outputs[layer_name]
        if activations.ndim == 4:  # conv feature maps: average over space
            activations = activations.mean(axis=(1, 2))
        batch_labels = np.asarray(labels[start : start + batch_size], dtype=np.int64)
        per_digit = np.zeros((10, activations.shape[1]), dtype=np.float64)
        np.add.at(per_digit, batch_labels, activations)
        sums = per_digit if sums is None else sums + per_digit
        counts += np.bincount(batch_labels, minlength=10)
    if sums is None:
        raise ValueError("class preference needs at least one image")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (sums / counts[:, None]).T.astype(np.float32)
    return ClassPreference(layer_name, mean)


def predict_digit(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """Probabilities for one 28×28 image (uint8, or float already in [0, 1]).

    Runs the model's LiteRT program (core/litert_forward.py): 0.7-1.9 ms at p95 with the canvas's preprocessing
    (docs/benchmarks.md, section 3), where `model.predict` costs 60-110 ms and an eager `model(x)` 5-40 ms.
    A model LiteRT cannot run takes TensorFlow's XLA-compiled pass instead (`compiled_forward`, 1.2-5.1 ms).
    """
    x = as_model_input(image).reshape(1, *INPUT_SHAPE).astype(np.float32, copy=False)
    if (program := litert_forward(model)) is not None:
        return program(x)[0]
    return np.asarray(compiled_forward(model)(tf.constant(x)))[0]


def predict_digits(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Probabilities for a few 28×28 images (N×28×28, uint8 or floats in [0, 1]) in one compiled pass.

    For the HTTP API's batches (core/serving.py): no `model.predict` overhead, and the whole batch
    at once, so keep N small (the API caps it); `predict_probabilities` bounds memory for many.
    """
    x = as_model_input(np.asarray(images)).reshape(-1, *INPUT_SHAPE)
    if len(x) == 0:
        return np.zeros((0, 10), dtype=np.float32)
    return np.asarray(compiled_batch_forward(model)(tf.constant(x)))


def compiled_forward(model: keras.Model) -> tf.types.experimental.PolymorphicFunction:
    """The model's inference pass on one image, traced and XLA-compiled once as a `tf.function`, and reused
    (for models LiteRT cannot run).

    It reads the model's variables when called, so later weight changes are seen. The function
    holds the model only weakly: caching it does not keep the model alive. It is traced here,
    under the lock, before any caller gets it, so threads calling it at once (the HTTP API's)
    only ever run the finished graph.
    """
    return _compiled(model, _COMPILED_FORWARDS, 1)


def compiled_batch_forward(model: keras.Model) -> tf.types.experimental.PolymorphicFunction:
    """As `compiled_forward`, for a batch of any size (one trace for every size)."""
    return _compiled(model, _COMPILED_BATCH_FORWARDS, None)


def _compiled(
    model: keras.Model, cache: weakref.WeakKeyDictionary, batch: int | None
) -> tf.types.experimental.PolymorphicFunction:
    with _COMPILE_LOCK:
        forward = cache.get(model)
        if forward is None:
            model_ref = weakref.ref(model)
            forward = tf.function(
                lambda x: model_ref()(x, training=False),
                input_signature=[tf.TensorSpec((batch, *INPUT_SHAPE), tf.float32)],
                # XLA fuses the pass into one compiled kernel: 1.2-1.9x faster for one image here. Not for
                # the batch pass: XLA compiles again for every new batch size.
                jit_compile=batch is not None,
            )
            forward(tf.zeros((batch or 1, *INPUT_SHAPE)))  # the one trace (and XLA compile), now
            cache[model] = forward
    return forward
