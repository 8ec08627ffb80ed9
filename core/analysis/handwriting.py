"""Handwriting renderings: MNIST test digits as other people's drawings and photos reach the Draw page.

People's digits are not MNIST's: pixel art and small photos enlarged (blocky or smooth), thick
or thin strokes, blur, hard edges. Each rendering turns a test digit into a large image as the app
receives it (a canvas array or an uploaded file), which then goes through the app's own
preprocessing (core.preprocessing) or a naive baseline, to 28×28, to a model. The accuracy per
rendering says which preprocessing, and which model, holds on such input.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import keras
import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.stats import binomtest

from core.analysis.evaluation import EVALUATION_BATCH_SIZE
from core.errors import ImageInputError
from core.preprocessing import DIGIT_BOX_SIZE, FRAME_CENTRE, FRAME_SIZE, digit_from_canvas, digit_from_upload

CANVAS_SIZE = 280  # the Draw page's canvas: ×10
ENLARGEMENTS = (10, 35)  # pixel art and small photos are enlarged by a random whole factor in this range
WORK_SCALE = 4  # stroke width and blur are changed at 112×112, then enlarged to the canvas
BASELINE_INK_THRESHOLD = 0.1  # the baseline crops to ink above this (of full ink): low, so halos count
# The whole test set: on 2,000 digits the two preprocessings' differences on most renderings were a few digits
# either way, too few to tell apart.
DEFAULT_IMAGES = 10_000
RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
}

Render = Callable[[np.ndarray, np.random.Generator], list[np.ndarray]]  # uint8 digits → large ink maps


@dataclass(frozen=True)
class Rendering:
    """One way a digit reaches the app: its large ink maps (white on black, [0, 1]) and how they arrive."""

    name: str
    label: str
    delivery: str  # "canvas" (an RGBA array, digit_from_canvas) or "upload" (a PNG file, digit_from_upload)
    render: Render


@dataclass(frozen=True)
class HandwritingAccuracy:
    """Accuracy per rendering, per model and preprocessing ("app" or "baseline")."""

    images: int  # test digits per rendering
    renderings: tuple[str, ...]  # names, in order
    labels: tuple[str, ...]  # what each rendering is, for tables
    accuracy: dict[tuple[str, str], tuple[float, ...]]  # (model, preprocessing) → one per rendering
    # model → per rendering, (digits only the app's preprocessing gets right, digits only the baseline's does)
    discordant: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    def mean(self, model: str, preprocessing: str = "app") -> float:
        return float(np.mean(self.accuracy[(model, preprocessing)]))

    def of(self, model: str, preprocessing: str = "app") -> dict[str, float]:
        return dict(zip(self.renderings, self.accuracy[(model, preprocessing)], strict=True))

    def p_values(self, model: str) -> tuple[float, ...]:
        """Per rendering, the exact McNemar test's p-value that app and baseline preprocessing score the same."""
        return tuple(binomtest(a, a + b).pvalue if a + b else 1.0 for a, b in self.discordant[model])


# ---- renderings ----------------------------------------------------------------------------------------


def _resize(ink: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """Resize a float ink map (width, height) with PIL, clipped to [0, 1]."""
    image = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32))
    return np.clip(np.asarray(image.resize(size, RESAMPLING[method]), dtype=np.float32), 0.0, 1.0)


def pixel_art(size: int, method: str) -> Render:
    """Shrink to size×size (area averaging), then enlarge by a random ×10…×35 with `method`."""

    def render(digits: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        factors = rng.integers(ENLARGEMENTS[0], ENLARGEMENTS[1] + 1, len(digits))
        shrunk = [np.asarray(Image.fromarray(d).resize((size, size), Image.Resampling.BOX)) / 255.0 for d in digits]
        return [_resize(s, (size * f, size * f), method) for s, f in zip(shrunk, factors, strict=True)]

    return render


def _at_work_scale(digits: np.ndarray) -> np.ndarray:
    """The digits enlarged ×WORK_SCALE (bilinear, batched), floats in [0, 1]."""
    return np.clip(
        ndimage.zoom(digits / 255.0, (1, WORK_SCALE, WORK_SCALE), order=1, grid_mode=True, mode="grid-constant"),
        0.0,
        1.0,
    )


def _to_canvas(work: np.ndarray) -> list[np.ndarray]:
    return [_resize(image, (CANVAS_SIZE, CANVAS_SIZE), "bilinear") for image in work]


def strokes(pixels: float) -> Render:
    """Thicker strokes (grey dilation by a disk `pixels` wide at 28×28) or thinner (erosion, negative)."""
    radius = round(abs(pixels) * WORK_SCALE)
    grid = np.arange(-radius, radius + 1)
    disk = (grid[:, None] ** 2 + grid[None, :] ** 2) <= radius**2 + 0.5
    morph = ndimage.grey_dilation if pixels > 0 else ndimage.grey_erosion

    def render(digits: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        return _to_canvas(morph(_at_work_scale(digits), footprint=disk[None]))

    return render


def blurred(sigma: float) -> Render:
    """Gaussian blur of `sigma` pixels at 28×28: an out-of-focus photo or a soft brush."""

    def render(digits: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        work = ndimage.gaussian_filter(_at_work_scale(digits), (0, sigma * WORK_SCALE, sigma * WORK_SCALE))
        return _to_canvas(work / np.maximum(work.max(axis=(1, 2), keepdims=True), 1e-6))

    return render


def canvas_clean(digits: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """The digit drawn on the canvas as MNIST drew it: ×10, smooth edges."""
    return _to_canvas(_at_work_scale(digits))


def hard_edges(digits: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """No anti-aliasing: full ink or none, as a pen tool without smoothing or a thresholded scan."""
    return [(image >= 0.5).astype(np.float32) for image in canvas_clean(digits, rng)]


def shadowed(depth: float) -> Render:
    """A photo in uneven light: the paper darkens linearly to `depth` at one side, in a random direction.

    Light falls on paper and ink alike (lightness = light × (1 − ink)); the ink map is what a photo of dark ink
    holds, 1 − lightness, so the shadow itself reads as faint ink to anything that does not even it out.
    """

    def render(digits: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        rows, columns = np.mgrid[0:CANVAS_SIZE, 0:CANVAS_SIZE] / (CANVAS_SIZE - 1) - 0.5
        inks = []
        for ink in canvas_clean(digits, rng):
            angle = rng.uniform(0, 2 * np.pi)
            along = rows * np.sin(angle) + columns * np.cos(angle)  # −0.71 … 0.71 across the picture
            light = 1.0 - depth * (along - along.min()) / (along.max() - along.min())
            inks.append((1.0 - light * (1.0 - ink)).astype(np.float32))
        return inks

    return render


RENDERINGS: tuple[Rendering, ...] = (
    Rendering("canvas", "canvas ×10 (as MNIST)", "canvas", canvas_clean),
    *(
        Rendering(f"pixel{size}_{method}", f"{size}×{size} px, enlarged ({method})", "upload", pixel_art(size, method))
        for size in (8, 12, 16)
        for method in RESAMPLING
    ),
    Rendering("thick", "thick strokes (+1.25 px)", "canvas", strokes(1.25)),
    Rendering("thin", "thin strokes (−0.5 px)", "canvas", strokes(-0.5)),
    Rendering("blur", "blurred (σ 1.5 px)", "upload", blurred(1.5)),
    Rendering("hard", "hard edges (no anti-aliasing)", "canvas", hard_edges),
    Rendering("shadow", "photo in uneven light (shadow to 35 %)", "upload", shadowed(0.35)),
)
BY_NAME = {rendering.name: rendering for rendering in RENDERINGS}


# ---- delivery and preprocessing ------------------------------------------------------------------------


def as_canvas(ink: np.ndarray) -> np.ndarray:
    """What streamlit-drawable-canvas returns: white strokes on its black background, alpha 255 under ink."""
    level = np.round(ink * 255).astype(np.uint8)
    rgba = np.repeat(level[..., None], 4, axis=2)
    rgba[..., 3] = np.where(level > 0, 255, 0)
    return rgba


def as_upload(ink: np.ndarray) -> bytes:
    """A greyscale PNG of dark ink on white paper, as a photo or scan is uploaded."""
    buffer = io.BytesIO()
    Image.fromarray(np.round(255 - ink * 255).astype(np.uint8)).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def app_digit(ink: np.ndarray, delivery: str) -> np.ndarray:
    """The app's 28×28 input for a large ink map, through the Draw page's own functions (blank: all zeros)."""
    try:
        digit = digit_from_canvas(as_canvas(ink)) if delivery == "canvas" else digit_from_upload(as_upload(ink))
    except ImageInputError:
        digit = None
    return np.zeros((FRAME_SIZE, FRAME_SIZE), np.float32) if digit is None else digit


def baseline_digit(ink: np.ndarray) -> np.ndarray:
    """The naive preprocessing: crop at a low ink threshold, longer side to 20 px (Lanczos), mass to the middle."""
    rows, columns = np.nonzero(ink > BASELINE_INK_THRESHOLD)
    if len(rows) == 0:
        return np.zeros((FRAME_SIZE, FRAME_SIZE), np.float32)
    patch = ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    scale = DIGIT_BOX_SIZE / max(patch.shape)
    size = (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale)))
    patch = np.clip(np.asarray(Image.fromarray(patch.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)), 0, 1)
    centre_row, centre_column = ndimage.center_of_mass(patch)
    top = min(max(math.floor(FRAME_CENTRE - centre_row + 0.5), 0), FRAME_SIZE - patch.shape[0])
    left = min(max(math.floor(FRAME_CENTRE - centre_column + 0.5), 0), FRAME_SIZE - patch.shape[1])
    frame = np.zeros((FRAME_SIZE, FRAME_SIZE), np.float32)
    frame[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
    return frame


def rendered_inputs(images: np.ndarray, rendering: Rendering, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(app inputs, baseline inputs), N×28×28 each, of uint8 test digits under one rendering."""
    rng = np.random.default_rng([seed, RENDERINGS.index(rendering) if rendering in RENDERINGS else 99])
    app, baseline = [], []
    for start in range(0, len(images), 250):  # in chunks: the large images of a whole set would not fit
        for ink in rendering.render(images[start : start + 250], rng):
            app.append(app_digit(ink, rendering.delivery))
            baseline.append(baseline_digit(ink))
    return np.stack(app), np.stack(baseline)


# ---- accuracy -----------------------------------------------------------------------------------------


def handwriting_accuracy(
    models: Mapping[str, keras.Model],
    images: np.ndarray,
    labels: np.ndarray,
    renderings: tuple[Rendering, ...] = RENDERINGS,
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> HandwritingAccuracy:
    """Accuracy of each model on each rendering of `images` (uint8), by the app's and the baseline's preprocessing.

    Each rendering is made and preprocessed once and shared by the models.
    """
    labels = np.asarray(labels)
    accuracy: dict[tuple[str, str], list[float]] = {(m, p): [] for m in models for p in ("app", "baseline")}
    discordant: dict[str, list[tuple[int, int]]] = {m: [] for m in models}
    for done, rendering in enumerate(renderings, start=1):
        inputs = dict(zip(("app", "baseline"), rendered_inputs(images, rendering, seed), strict=True))
        for name, model in models.items():
            right = {}
            for preprocessing, x in inputs.items():
                predicted = model.predict(x, batch_size=EVALUATION_BATCH_SIZE, verbose=0)
                right[preprocessing] = np.asarray(predicted).argmax(axis=1) == labels
                accuracy[(name, preprocessing)].append(float(np.mean(right[preprocessing])))
            app_only = int(np.sum(right["app"] & ~right["baseline"]))
            discordant[name].append((app_only, int(np.sum(right["baseline"] & ~right["app"]))))
        if progress:
            progress(done, len(renderings), rendering.label)
    return HandwritingAccuracy(
        images=len(labels),
        renderings=tuple(r.name for r in renderings),
        labels=tuple(r.label for r in renderings),
        accuracy={key: tuple(scores) for key, scores in accuracy.items()},
        discordant={name: tuple(pairs) for name, pairs in discordant.items()},
    )


# ---- tables --------------------------------------------------------------------------------------------


def preprocessing_table(result: HandwritingAccuracy, model: str) -> list[str]:
    """Markdown: rendering × (baseline, app, difference, McNemar p) for one model, with the mean last."""
    lines = [
        "| rendering | baseline preprocessing | app preprocessing | app − baseline | digits only app / only baseline "
        "gets right (McNemar p) |",
        "| --- | --- | --- | --- | --- |",
    ]
    app, baseline = result.accuracy[(model, "app")], result.accuracy[(model, "baseline")]
    rows = zip(result.labels, app, baseline, result.discordant[model], result.p_values(model), strict=True)
    for label, ours, theirs, (app_only, baseline_only), p in rows:
        lines.append(
            f"| {label} | {theirs:.1%} | {ours:.1%} | {(ours - theirs) * 100:+.1f} pt | "
            f"{app_only} / {baseline_only} ({p:.2g}) |"
        )
    mean_app, mean_base = result.mean(model, "app"), result.mean(model, "baseline")
    gain = (mean_app - mean_base) * 100
    lines.append(f"| **mean** | **{mean_base:.1%}** | **{mean_app:.1%}** | **{gain:+.1f} pt** | |")
    return lines


def model_table(result: HandwritingAccuracy, models: list[str]) -> list[str]:
    """Markdown: rendering × model, app preprocessing, with the mean last."""
    lines = ["| rendering | " + " | ".join(f"`{m}`" for m in models) + " |", "| --- |" + " --- |" * len(models)]
    for index, label in enumerate(result.labels):
        lines.append(f"| {label} | " + " | ".join(f"{result.accuracy[(m, 'app')][index]:.1%}" for m in models) + " |")
    lines.append("| **mean** | " + " | ".join(f"**{result.mean(m):.1%}**" for m in models) + " |")
    return lines


# ---- the Draw page's recommendation ----------------------------------------------------------------------

DRAW_RECIPE = "draw_cnn"
# Mean accuracy over RENDERINGS with the app's preprocessing, full MNIST, recipe defaults; measured by
# `python -m benchmarks.handwriting` (docs/benchmarks.md, section 13). Update both together.
MEASURED_MEAN_ACCURACY = {"draw_cnn": 0.986, "deep_cnn": 0.953, "fast_cnn": 0.888}


def draw_recommendation(arch: str | None) -> str | None:
    """What the Draw page suggests when the loaded model is not the Draw recipe (`arch` None: not a saved run)."""
    if arch == DRAW_RECIPE:
        return None
    ours = MEASURED_MEAN_ACCURACY[DRAW_RECIPE]
    others = ", ".join(f"`{name}` {MEASURED_MEAN_ACCURACY[name]:.1%}" for name in ("deep_cnn", "fast_cnn"))
    return (
        f"For drawings and photos, the best model is the `{DRAW_RECIPE}` recipe: {ours:.1%} on MNIST digits "
        f"re-rendered as people's drawings and photos arrive (low resolution, thick or thin strokes, blur), against "
        f"{others}. Train it from the sidebar: *Train a new model* → Architecture `{DRAW_RECIPE}` "
        "(10–20 minutes on full MNIST here)."
    )
