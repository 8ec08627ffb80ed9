"""Models trained elsewhere, adapted to the app's one convention: 28×28 floats in [0, 1] in, 10 probabilities out.

People bring the keras-io convnet (input (28, 28, 1)), flattened MLPs ((784,)), channels-first exports
((1, 28, 28)) and the tensorflow.org quickstart (input (28, 28), logits out), some trained on 0–255
pixels. `adapt_model` finds out which, on a few hundred labelled test images, and wraps the model:

    image (28, 28) → InputAdapter (pixel scale, reshape) → the model → LogitsToProbabilities (for logits)

so every page, the ensemble builder and the command line see one convention, and a kept upload is saved
with its adapter (`core.adapter_layers`, safe mode). `inspection_view` shows the inspection pages the
model's own layers behind the adapter's steps.
"""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass, field

import keras
import numpy as np

from core.adapter_layers import InputAdapter, LogitsToProbabilities
from core.analysis.evaluation import EVALUATION_BATCH_SIZE
from core.data import normalize
from core.errors import ConfigError, ModelFileError
from core.models import INPUT_SHAPE, NUM_CLASSES
from core.runs import load_model_file

ACCEPTED_INPUT_SHAPES = ((28, 28), (28, 28, 1), (1, 28, 28), (784,))
PIXEL_SCALES = (1.0, 255.0)  # pixels in [0, 1] (this app, Keras examples) or [0, 255] (raw uint8 values)
ADAPTATION_IMAGES = 500  # labelled test images each scaling is measured on
CLEAR_ACCURACY_MARGIN = 0.05  # a scaling this much more accurate than the other is chosen…
CLEAR_LOG_LOSS_MARGIN = 0.1  # …else one whose log-loss is this much lower (nats); else the app's own 0–1
PROBABILITY_TOLERANCE = 1e-3  # how far a row of softmax outputs may be from summing to 1

# One inspection view per adapted model; an entry goes when its model does.
_VIEWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_VIEWS_LOCK = threading.Lock()


@dataclass(frozen=True)
class ScaleScore:
    """How a model does on the measured test images with one pixel scaling."""

    accuracy: float
    log_loss: float  # mean cross-entropy of its probabilities: flat or overconfident ones score badly


@dataclass(frozen=True)
class AdaptedModel:
    """A model in the app's convention, and what was done to get it there."""

    model: keras.Model  # (N, 28, 28) floats in [0, 1] → (N, 10) probabilities
    input_layout: tuple[int, ...]  # the input shape the model was trained on, without the batch axis
    outputs_logits: bool  # a softmax was added after the model's last layer
    pixel_scale: float  # the model sees pixels in [0, pixel_scale]
    scale_scores: dict[float, ScaleScore] = field(default_factory=dict)  # empty when read from a saved adapter
    measured_on: int = 0  # test images behind scale_scores
    scale_chosen_by_user: bool = False

    @property
    def original(self) -> keras.Model:
        """The model as it was uploaded, inside the adapter."""
        return inner_model(self.model)

    def notes(self) -> list[str]:
        """What the adapter does, one sentence each, for the sidebar and the command line."""
        notes = []
        if self.input_layout != INPUT_SHAPE:
            notes.append(f"It takes input of shape {self.input_layout}: the 28×28 images are reshaped in front of it.")
        if self.outputs_logits:
            notes.append("This model outputs logits; probabilities are its softmax.")
        notes.append(self._scale_note())
        return notes

    def _scale_note(self) -> str:
        """Which pixel scaling the model is fed, and the measurement that decided it."""
        chosen = pixel_range(self.pixel_scale)
        if not self.scale_scores:
            return f"It is fed pixels in {chosen}."
        (other_scale,) = [scale for scale in self.scale_scores if scale != self.pixel_scale]
        mine, other = self.scale_scores[self.pixel_scale], self.scale_scores[other_scale]
        accuracies = f"{mine.accuracy:.1%} accuracy against {other.accuracy:.1%} with {pixel_range(other_scale)}"
        log_losses = f"log-loss {mine.log_loss:.2f} against {other.log_loss:.2f}"
        images = f"{self.measured_on} test images"
        if self.scale_chosen_by_user:
            return f"It is fed pixels in {chosen}, as you chose: {accuracies}, {log_losses} ({images})."
        if clear_winner(self.scale_scores) is None:
            return (
                f"It is fed pixels in {chosen}, the app's own scaling: {pixel_range(other_scale)} scores no "
                f"clearly better ({accuracies}, {log_losses}; {images})."
            )
        if abs(mine.accuracy - other.accuracy) >= CLEAR_ACCURACY_MARGIN:
            return f"It is fed pixels in {chosen}, which scores clearly better: {accuracies} ({images})."
        return (
            f"It is fed pixels in {chosen}, which scores clearly better: about as accurate ({accuracies}) "
            f"but surer of the right digit ({log_losses}; {images})."
        )


def pixel_range(scale: float) -> str:
    return f"0–{scale:g}"


def load_user_model(
    path: str | os.PathLike,
    images: np.ndarray,
    labels: np.ndarray,
    pixel_scale: float | None = None,
    display_name: str | None = None,
) -> AdaptedModel:
    """Load a .keras file from a user (safe mode) and adapt it, measuring on `images` and `labels`."""
    name = display_name or os.path.basename(path)
    return adapt_model(load_model_file(path, display_name=name), images, labels, pixel_scale, name)


def adapt_model(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    pixel_scale: float | None = None,
    name: str = "the model",
) -> AdaptedModel:
    """Wrap `model` so that it takes 28×28 images in [0, 1] and returns probabilities.

    `images` (uint8) and `labels` are labelled test images; at most ADAPTATION_IMAGES of them, evenly
    spread, are run through the model at both pixel scalings to see whether it returns probabilities
    and which scaling it was trained on. `pixel_scale` (1 or 255) overrides the measured choice. A model
    that already follows the convention comes back unchanged; an adapted one is adapted afresh.
    """
    if pixel_scale is not None and pixel_scale not in PIXEL_SCALES:
        raise ConfigError(f"pixel scale must be one of {', '.join(f'{s:g}' for s in PIXEL_SCALES)}, not {pixel_scale}")
    inner = inner_model(model)
    layout = accepted_input_layout(inner, name)
    images, labels = evenly_spread(images, labels, ADAPTATION_IMAGES)
    outputs = {scale: raw_outputs(inner, images, layout, scale) for scale in PIXEL_SCALES}
    if not all(np.all(np.isfinite(values)) for values in outputs.values()):
        raise ModelFileError(f"{name}: returns values that are not finite numbers on test images")
    outputs_logits = not all(are_probabilities(values) for values in outputs.values())
    scores = {scale: score(values, labels, outputs_logits) for scale, values in outputs.items()}
    chosen = float(pixel_scale) if pixel_scale is not None else measured_scale(scores)
    return AdaptedModel(
        model=wrap(inner, layout, chosen, outputs_logits),
        input_layout=layout,
        outputs_logits=outputs_logits,
        pixel_scale=chosen,
        scale_scores=scores,
        measured_on=len(labels),
        scale_chosen_by_user=pixel_scale is not None,
    )


def accepted_input_layout(model: keras.Model, name: str = "the model") -> tuple[int, ...]:
    """The model's input shape if it is one this module adapts; otherwise a ModelFileError saying which are."""
    try:
        inputs, outputs = list(model.inputs), list(model.outputs)
    except (AttributeError, ValueError) as error:
        raise ModelFileError(f"{name}: the model has no defined input and output ({error})") from error
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelFileError(f"{name}: has {len(inputs)} inputs and {len(outputs)} outputs; one of each is needed")
    layout, output = tuple(inputs[0].shape[1:]), tuple(outputs[0].shape[1:])
    if layout not in ACCEPTED_INPUT_SHAPES:
        accepted = ", ".join(str(shape) for shape in ACCEPTED_INPUT_SHAPES)
        raise ModelFileError(
            f"{name}: expects input of shape {layout}; accepted input shapes are {accepted} "
            "(28×28 images, with a channel axis or flattened)"
        )
    if output != (NUM_CLASSES,):
        raise ModelFileError(f"{name}: outputs shape {output}, not 10 class probabilities or logits")
    return layout


def evenly_spread(images: np.ndarray, labels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `count` images, evenly spaced over the set (every digit, even in a set sorted by label)."""
    if len(labels) == 0:
        raise ConfigError("adapting a model needs labelled test images")
    indices = np.unique(np.linspace(0, len(labels) - 1, min(count, len(labels))).round().astype(int))
    return np.asarray(images)[indices], np.asarray(labels).astype(np.int64)[indices]


def raw_outputs(model: keras.Model, images: np.ndarray, layout: tuple[int, ...], pixel_scale: float) -> np.ndarray:
    """The model's own outputs for uint8 images fed in its layout, with pixels in [0, pixel_scale]."""
    x = (normalize(images) * np.float32(pixel_scale)).reshape(-1, *layout)
    return np.asarray(model.predict(x, batch_size=EVALUATION_BATCH_SIZE, verbose=0), dtype=np.float64)


def are_probabilities(outputs: np.ndarray) -> bool:
    """Whether every row is a probability vector: no negative value, a sum of 1."""
    sums_to_one = np.allclose(outputs.sum(axis=1), 1.0, atol=PROBABILITY_TOLERANCE)
    return bool(sums_to_one and np.all(outputs >= -PROBABILITY_TOLERANCE))


def score(outputs: np.ndarray, labels: np.ndarray, outputs_logits: bool) -> ScaleScore:
    """Accuracy and log-loss of a model's outputs (probabilities, or logits turned into them)."""
    probabilities = softmax(outputs) if outputs_logits else outputs
    chance_of_truth = probabilities[np.arange(len(labels)), labels]
    log_loss = float(np.mean(-np.log(np.clip(chance_of_truth, 1e-12, 1.0))))
    return ScaleScore(float(np.mean(outputs.argmax(axis=1) == labels)), log_loss)


def softmax(logits: np.ndarray) -> np.ndarray:
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def measured_scale(scores: dict[float, ScaleScore]) -> float:
    """The pixel scaling that scores clearly better; the app's own 0–1 when neither does."""
    winner = clear_winner(scores)
    return 1.0 if winner is None else winner


def clear_winner(scores: dict[float, ScaleScore]) -> float | None:
    """The scaling that scores clearly better, if one does.

    Accuracy decides first. A ReLU network is nearly scale-equivariant, so it can be as accurate at
    either scaling; then its probabilities tell: flat, or overconfident, at the scaling it was not
    trained on, which the log-loss shows.
    """
    app, raw = scores[1.0], scores[255.0]
    if abs(raw.accuracy - app.accuracy) >= CLEAR_ACCURACY_MARGIN:
        return 255.0 if raw.accuracy > app.accuracy else 1.0
    if abs(raw.log_loss - app.log_loss) >= CLEAR_LOG_LOSS_MARGIN:
        return 255.0 if raw.log_loss < app.log_loss else 1.0
    return None


def wrap(inner: keras.Model, layout: tuple[int, ...], pixel_scale: float, outputs_logits: bool) -> keras.Model:
    """The adapter around `inner`; `inner` itself when it already follows the convention."""
    if layout == INPUT_SHAPE and pixel_scale == 1.0 and not outputs_logits:
        return inner
    image = keras.Input(INPUT_SHAPE, name="image")
    outputs = inner(InputAdapter(layout, pixel_scale, name="input_adapter")(image))
    if outputs_logits:
        outputs = LogitsToProbabilities(name="probabilities")(outputs)
    return keras.Model(image, outputs, name=f"adapted_{inner.name}")


def is_adapted(model: keras.Model) -> bool:
    """Whether `model` is an adapter built by `wrap` (or one saved and loaded again)."""
    return any(isinstance(layer, InputAdapter) for layer in model.layers)


def inner_model(model: keras.Model) -> keras.Model:
    """The model inside an adapter; any other model is itself."""
    if not is_adapted(model):
        return model
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))


def adaptation_of(model: keras.Model) -> AdaptedModel | None:
    """What a saved adapter does (a kept upload loaded from the run store); None for any other model."""
    if not is_adapted(model):
        return None
    adapter = next(layer for layer in model.layers if isinstance(layer, InputAdapter))
    outputs_logits = any(isinstance(layer, LogitsToProbabilities) for layer in model.layers)
    return AdaptedModel(model, adapter.target_shape, outputs_logits, adapter.pixel_scale)


# ---- what the inspection pages walk ------------------------------------------------------------


def inspection_view(model: keras.Model) -> keras.Model:
    """For an adapter: one model of its steps and the inner model's own layers, built once; else `model`.

    The view takes 28×28 images in [0, 1] like every model of the app, and its layers are: a Reshape to
    the inner model's layout and a Rescaling to its pixel scale (built-in layers, so the Activations page
    describes them as such; only those needed), the inner model's layers, then a Softmax for logits.
    A Sequential inner model lends its layers (applied in order by `core.analysis.inspection`); a
    functional one is rebuilt on the view's input from copies of its layers, so each layer has a single
    output in the view and a per-layer probe reaches it.
    """
    adaptation = adaptation_of(model)
    if adaptation is None:
        return model
    with _VIEWS_LOCK:
        view = _VIEWS.get(model)
        if view is None:
            view = _build_view(adaptation)
            _VIEWS[model] = view
    return view


def _build_view(adaptation: AdaptedModel) -> keras.Model:
    inner = adaptation.original
    steps = []
    if adaptation.input_layout != INPUT_SHAPE:
        steps.append(keras.layers.Reshape(adaptation.input_layout, name="adapter_reshape"))
    if adaptation.pixel_scale != 1.0:
        steps.append(keras.layers.Rescaling(adaptation.pixel_scale, name="adapter_pixel_scale"))
    ending = [keras.layers.Softmax(name="adapter_softmax")] if adaptation.outputs_logits else []
    image = keras.Input(INPUT_SHAPE, name="image")
    if isinstance(inner, keras.Sequential):
        return keras.Sequential([image, *steps, *inner.layers, *ending], name=inner.name)
    adapted_image = image
    for step in steps:
        adapted_image = step(adapted_image)

    def adapted(value):
        return adapted_image if value is image else value

    def call_on_adapted_image(layer, *args, **kwargs):
        args, kwargs = keras.tree.map_structure(adapted, (args, kwargs))
        return layer(*args, **kwargs)

    copy = keras.models.clone_model(inner, input_tensors=image, call_function=call_on_adapted_image)
    for layer in inner.layers:
        if layer.weights:
            copy.get_layer(layer.name).set_weights(layer.get_weights())
    outputs = copy.outputs[0]
    for step in ending:
        outputs = step(outputs)
    return keras.Model(image, outputs, name=inner.name)
