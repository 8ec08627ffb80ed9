"""Saliency: which pixels made the model say what it said.

Three methods, after the keras-io examples (integrated_gradients.py, grad_cam.py):

- Integrated Gradients (Sundararajan et al. 2017): gradients averaged along the straight path from a
  baseline (black, or the digit blurred) to the image, times the difference. Works for every model;
  attributions add up to f(image) − f(baseline) (completeness).
- Grad-CAM (Selvaraju et al. 2017): the last convolutional block's feature maps weighted by their mean
  gradient; coarse (that layer's resolution), convnets only.
- gradient × input: one gradient, the cheap option (IG with one step from black).

Gradients are taken of the pre-softmax score of the explained class: a softmax output saturates near
100 % and its gradient vanishes. The models end in Dense(10, softmax), so the last layer's logits
(kernel·x + bias) are computed here. An uploaded model that outputs logits gives them as they are;
an ensemble averages probabilities, and the log of that average is its pre-softmax score (its softmax
is the ensemble's output). Layers are applied in order inside the GradientTape, as
core.analysis.inspection does: a Keras probe model fails on a Sequential loaded from disk (keras#20116).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from scipy import ndimage

from core.adapter_layers import InputAdapter, LogitsToProbabilities
from core.adapters import inner_model, is_adapted
from core.data import as_model_input
from core.ensemble import ensemble_members

IG_STEPS = 50
BLUR_SIGMA = 5.0  # pixels: the blurred baseline keeps a faint smudge of the digit and none of its shape
BASELINES = ("black", "blurred")
METHODS = ("integrated gradients", "Grad-CAM", "gradient × input")
_EPSILON = 1e-12


@dataclass(frozen=True)
class SaliencyMap:
    """Attributions (28×28) of one image for one class: positive pixels speak for it."""

    method: str
    target: int  # the class explained
    contrast: int | None  # explained against this class ("why not …?"): the score is target − contrast
    attributions: np.ndarray  # (28, 28); Grad-CAM's is ≥ 0 and upsampled from the last convolutional block
    score: float  # the explained pre-softmax score at the image
    baseline_score: float | None = None  # …at the baseline (integrated gradients only)
    baseline: str | None = None

    @property
    def completeness_error(self) -> float | None:
        """|Σ attributions − (f(x) − f(baseline))| relative to |f(x) − f(baseline)| (integrated gradients)."""
        if self.baseline_score is None:
            return None
        difference = self.score - self.baseline_score
        return abs(float(self.attributions.sum()) - difference) / max(abs(difference), _EPSILON)


# ---- the pre-softmax score, for every kind of model ---------------------------------------------------


def pre_softmax_scores(model: keras.Model, x: tf.Tensor) -> tuple[tf.Tensor, list[tf.Tensor]]:
    """(N, 10) pre-softmax scores for images x (N×28×28 in [0, 1]), and each last convolutional block's output.

    The convolution outputs are one per model (an ensemble: one per member that has a convolution).
    """
    members = ensemble_members(model)
    if members:
        results = [pre_softmax_scores(member, x) for member in members]
        probabilities = tf.add_n([tf.nn.softmax(scores) for scores, _ in results]) / len(results)
        return tf.math.log(probabilities + _EPSILON), [conv for _, convs in results for conv in convs]
    if is_adapted(model):
        adapter = next(layer for layer in model.layers if isinstance(layer, InputAdapter))
        outputs_logits = any(isinstance(layer, LogitsToProbabilities) for layer in model.layers)
        return _plain_scores(inner_model(model), adapter(x), raw_output_is_logits=outputs_logits)
    return _plain_scores(model, x)


def _plain_scores(model: keras.Model, x: tf.Tensor, raw_output_is_logits: bool = False):
    """A model without members or adapter: its layers in order (Sequential) or a probe (functional).

    Grad-CAM's feature maps are the last convolutional block's output (the last 4-D output after a
    convolution, after its pooling and activation, as in the keras-io example): the raw convolution
    output of a Conv-Pool net gets gradient at one position in four, and its weighted sum is mostly noise.
    """
    last = model.layers[-1]
    if isinstance(model, keras.Sequential):
        feature_maps, convolved = None, False
        for layer in model.layers[:-1]:
            x = layer(x, training=False)
            convolved = convolved or isinstance(layer, keras.layers.Conv2D)
            if convolved and len(x.shape) == 4:
                feature_maps = x
        scores = last(x, training=False) if raw_output_is_logits else _last_layer_logits(last, x)
        return scores, [feature_maps] if feature_maps is not None else []
    # Functional: one probe for the last layer's input (and the last feature maps).
    spatial = _last_feature_map_layer(model)
    wanted = [last.input] + ([spatial.output] if spatial is not None else [])
    outputs = keras.Model(model.inputs, wanted)(x, training=False)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    scores = last(outputs[0], training=False) if raw_output_is_logits else _last_layer_logits(last, outputs[0])
    return scores, list(outputs[1:])


def _last_feature_map_layer(model: keras.Model) -> keras.layers.Layer | None:
    """The last layer with a 4-D output at or after the first convolution (functional models)."""
    found, convolved = None, False
    for layer in model.layers:
        convolved = convolved or isinstance(layer, keras.layers.Conv2D)
        try:
            rank = len(layer.output.shape)
        except (AttributeError, ValueError):
            continue
        if convolved and rank == 4:
            found = layer
    return found


def _last_layer_logits(layer: keras.layers.Layer, x: tf.Tensor) -> tf.Tensor:
    """The last layer's output before its softmax; the log of its output if it has no separable softmax."""
    activation = getattr(getattr(layer, "activation", None), "__name__", "")
    if isinstance(layer, keras.layers.Dense) and activation == "softmax":
        logits = tf.matmul(x, layer.kernel)
        return logits + layer.bias if layer.use_bias else logits
    if isinstance(layer, keras.layers.Softmax | LogitsToProbabilities) or (
        isinstance(layer, keras.layers.Activation) and activation == "softmax"
    ):
        return x
    output = layer(x, training=False)
    return output if activation == "linear" else tf.math.log(output + _EPSILON)


def _explained(scores: tf.Tensor, target: int, contrast: int | None) -> tf.Tensor:
    """Per image, the score that is explained: the target's, or the target's minus the contrast's."""
    explained = scores[:, target]
    return explained - scores[:, contrast] if contrast is not None else explained


def has_convolution(model: keras.Model) -> bool:
    """Whether Grad-CAM applies: the model (or an ensemble member, or an upload's inner model) convolves."""
    return any(isinstance(layer, keras.layers.Conv2D) for layer in _all_layers(model))


def _all_layers(model: keras.Model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


# ---- the methods ---------------------------------------------------------------------------------------


def baseline_image(image: np.ndarray, kind: str = "black") -> np.ndarray:
    """The reference input integrated gradients starts from: all black, or the digit heavily blurred."""
    x = as_model_input(np.asarray(image)).reshape(28, 28)
    if kind == "black":
        return np.zeros_like(x)
    if kind == "blurred":
        return ndimage.gaussian_filter(x, BLUR_SIGMA, mode="constant").astype(np.float32)
    raise ValueError(f"unknown baseline {kind!r}; choose from {', '.join(BASELINES)}")


def integrated_gradients(
    model: keras.Model,
    image: np.ndarray,
    target: int,
    contrast: int | None = None,
    baseline: str = "black",
    steps: int = IG_STEPS,
) -> SaliencyMap:
    """(image − baseline) × the mean gradient along the path from baseline to image (trapezoidal rule).

    The steps + 1 points of the path go through the model as one batch.
    """
    x = as_model_input(np.asarray(image)).reshape(28, 28)
    reference = baseline_image(x, baseline)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)[:, None, None]
    path = tf.constant(reference + alphas * (x - reference))
    with tf.GradientTape() as tape:
        tape.watch(path)
        explained = _explained(pre_softmax_scores(model, path)[0], target, contrast)
    gradients = tape.gradient(explained, path).numpy()
    mean_gradient = (gradients[:-1] + gradients[1:]).mean(axis=0) / 2  # trapezoidal rule
    values = explained.numpy()
    return SaliencyMap(
        "integrated gradients",
        target,
        contrast,
        ((x - reference) * mean_gradient).astype(np.float32),
        float(values[-1]),
        float(values[0]),
        baseline,
    )


def gradient_x_input(model: keras.Model, image: np.ndarray, target: int, contrast: int | None = None) -> SaliencyMap:
    """The gradient of the score at the image times the image: one backward pass."""
    x = tf.constant(as_model_input(np.asarray(image)).reshape(1, 28, 28))
    with tf.GradientTape() as tape:
        tape.watch(x)
        explained = _explained(pre_softmax_scores(model, x)[0], target, contrast)
    gradient = tape.gradient(explained, x).numpy()[0]
    attributions = (gradient * x.numpy()[0]).astype(np.float32)
    return SaliencyMap("gradient × input", target, contrast, attributions, float(explained.numpy()[0]))


def grad_cam(
    model: keras.Model, image: np.ndarray, target: int, contrast: int | None = None, averaged: bool = False
) -> SaliencyMap:
    """ReLU(Σ_k gradient_k ⊙ feature map_k) of the last convolutional block, upsampled to 28×28.

    This app's convnets end in Flatten → Dense, not global average pooling: their gradient differs
    from position to position, and the original Grad-CAM's weights (each map's gradient averaged over
    space, `averaged=True`) come out negative on balance, so its map is often blank. Keeping the
    gradient per position (HiResCAM, Draelos & Carin 2020) sums to exactly the class score's share
    from those feature maps when one Dense layer follows them. An ensemble sums its members' maps,
    each weighted by the gradient of the ensemble's own score.
    """
    x = tf.constant(as_model_input(np.asarray(image)).reshape(1, 28, 28))
    with tf.GradientTape() as tape:
        scores, feature_maps = pre_softmax_scores(model, x)
        if not feature_maps:
            raise ValueError("Grad-CAM needs a convolution: this model has none (use integrated gradients)")
        explained = _explained(scores, target, contrast)
    gradients = tape.gradient(explained, feature_maps)
    total = np.zeros((28, 28), dtype=np.float32)
    for maps, gradient in zip(feature_maps, gradients, strict=True):
        weights = tf.reduce_mean(gradient, axis=(1, 2), keepdims=True) if averaged else gradient
        cam = tf.reduce_sum(weights * maps, axis=-1, keepdims=True)  # (1, h, w, 1)
        total += tf.image.resize(cam, (28, 28), method="bilinear").numpy()[0, :, :, 0]
    return SaliencyMap("Grad-CAM", target, contrast, np.maximum(total, 0.0), float(explained.numpy()[0]))


def saliency(
    model: keras.Model,
    image: np.ndarray,
    method: str,
    target: int,
    contrast: int | None = None,
    baseline: str = "black",
) -> SaliencyMap:
    """One of METHODS by name (what the dashboard's choice passes)."""
    if method == "integrated gradients":
        return integrated_gradients(model, image, target, contrast, baseline)
    if method == "Grad-CAM":
        return grad_cam(model, image, target, contrast)
    if method == "gradient × input":
        return gradient_x_input(model, image, target, contrast)
    raise ValueError(f"unknown saliency method {method!r}; choose from {', '.join(METHODS)}")


# ---- checking that a map means something -------------------------------------------------------------


def deletion_drop(
    model: keras.Model, images: np.ndarray, maps: np.ndarray, fraction: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """How much the predicted class's probability falls when pixels are blanked, per image.

    Returns (drop when the `fraction` of pixels with the highest attribution are blanked, drop when as
    many randomly chosen ink pixels are). A map that means something beats random ink clearly; a
    black baseline gives background pixels zero attribution anyway, so "mass on ink" alone proves nothing.
    """
    x = as_model_input(np.asarray(images)).reshape(-1, 784)
    flat_maps = np.asarray(maps).reshape(len(x), 784)
    count = max(1, int(round(fraction * 784)))
    rng = np.random.default_rng(seed)
    by_map, at_random = x.copy(), x.copy()
    for row in range(len(x)):
        by_map[row, np.argsort(-flat_maps[row], kind="stable")[:count]] = 0.0
        ink = np.flatnonzero(x[row] > 0)
        at_random[row, rng.choice(ink, size=min(count, len(ink)), replace=False)] = 0.0
    batch = np.concatenate([x, by_map, at_random]).reshape(-1, 28, 28)
    probabilities = np.asarray(model.predict(batch, batch_size=500, verbose=0)).reshape(3, len(x), -1)
    predicted = probabilities[0].argmax(axis=1)
    chance = probabilities[:, np.arange(len(x)), predicted]
    return chance[0] - chance[1], chance[0] - chance[2]
