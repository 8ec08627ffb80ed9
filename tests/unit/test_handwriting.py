"""Handwriting renderings (core.analysis.handwriting): what they make of a digit, the baseline, the accuracy table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from benchmarks.handwriting import behind_baseline
from core.analysis.handwriting import (
    BY_NAME,
    CANVAS_SIZE,
    ENLARGEMENTS,
    MEASURED_MEAN_ACCURACY,
    RENDERINGS,
    HandwritingAccuracy,
    app_digit,
    baseline_digit,
    handwriting_accuracy,
    model_table,
    preprocessing_table,
    rendered_inputs,
)
from core.preprocessing import center_digit


def ring_digit() -> np.ndarray:
    """A hand-made "0": an upright ring, 20 px tall, 3 px strokes, as uint8 28×28."""
    rows, columns = np.indices((28, 28))
    distance = np.hypot((rows - 13.5) / 10, (columns - 13.5) / 7)
    return np.where((distance <= 1.0) & (distance >= 0.62), 255, 0).astype(np.uint8)


def box_of(digit: np.ndarray, level: float = 0.3) -> tuple[int, int]:
    rows, columns = np.nonzero(digit > level)
    return rows.max() - rows.min() + 1, columns.max() - columns.min() + 1


# ---- renderings ------------------------------------------------------------------------------------


def test_renderings_arrive_large_as_canvas_or_upload_images():
    digits = np.stack([ring_digit()] * 3)
    rng = np.random.default_rng(0)
    for rendering in RENDERINGS:
        images = rendering.render(digits, rng)
        assert len(images) == 3 and rendering.delivery in ("canvas", "upload")
        for image in images:
            assert image.ndim == 2 and image.shape[0] == image.shape[1]
            assert image.min() >= 0.0 and image.max() <= 1.0 and image.max() > 0.5
            if rendering.name.startswith("pixel"):
                size = int(rendering.name.removeprefix("pixel").split("_")[0])
                assert size * ENLARGEMENTS[0] <= image.shape[0] <= size * ENLARGEMENTS[1]
                assert image.shape[0] % size == 0
            else:
                assert image.shape == (CANVAS_SIZE, CANVAS_SIZE)


@pytest.mark.parametrize("name", [rendering.name for rendering in RENDERINGS])
def test_every_rendering_keeps_the_digits_rough_shape(name):
    clean = center_digit(ring_digit() / 255.0)
    app, baseline = rendered_inputs(ring_digit()[None], BY_NAME[name])
    for digit in (app[0], baseline[0]):
        assert digit.shape == (28, 28) and digit.min() >= 0.0 and digit.max() <= 1.0
        height, width = box_of(digit)
        assert 16 <= height <= 21 and 8 <= width <= 17  # still an upright oval
        assert digit[13:15, 13:15].max() < 0.5  # with its hole
    overlap = ((app[0] > 0.5) & (clean > 0.5)).sum() / ((app[0] > 0.5) | (clean > 0.5)).sum()
    assert overlap >= 0.3  # the app's input lies on the clean digit's strokes


def test_thick_and_thin_renderings_change_the_amount_of_ink():
    digit = ring_digit()[None]
    ink = {name: rendered_inputs(digit, BY_NAME[name])[0][0].sum() for name in ("canvas", "thick", "thin")}
    assert ink["thin"] < ink["canvas"] < ink["thick"]


def test_renderings_are_the_same_for_the_same_seed():
    digits = np.stack([ring_digit(), ring_digit().T])
    first = rendered_inputs(digits, BY_NAME["pixel12_bicubic"], seed=3)
    again = rendered_inputs(digits, BY_NAME["pixel12_bicubic"], seed=3)
    np.testing.assert_array_equal(first[0], again[0])


# ---- the baseline and the app's preprocessing --------------------------------------------------------


def test_baseline_puts_the_centre_of_mass_in_the_middle_at_20_px():
    ink = np.zeros((300, 500), np.float32)
    ink[40:190, 300:360] = 1.0  # an off-centre bar, 150 px tall
    ink[40:60, 360:420] = 1.0  # with a flag, so the mass is off its box's middle
    digit = baseline_digit(ink)
    row, column = ndimage.center_of_mass(digit)
    assert abs(row - 14) <= 0.5 and abs(column - 14) <= 0.5
    assert box_of(digit, 0.05)[0] == 20


def test_baseline_crops_at_a_low_threshold_so_a_faint_wash_shrinks_the_digit():
    ink = np.zeros((200, 200), np.float32)
    ink[50:150, 90:110] = 1.0
    with_halo = ink.copy()
    with_halo[20:180, 60:140] = np.maximum(with_halo[20:180, 60:140], 0.15)  # faint, above the 0.1 threshold
    assert box_of(baseline_digit(ink), 0.5)[0] == 20
    assert box_of(baseline_digit(with_halo), 0.5)[0] < 15


def test_app_keeps_the_faint_edge_blocks_of_pixel_art():
    small = np.zeros((12, 12), np.float32)
    small[2:10, 5:7] = 1.0  # a "1", eight blocks tall...
    small[1, 5:7] = 0.3  # ...whose top block is faint (a thin stroke tip, area-averaged)
    enlarged = np.kron(small, np.ones((25, 25), np.float32))  # ×25, nearest
    digit = app_digit(enlarged, "upload")
    assert box_of(digit, 0.05)[0] == 20
    assert box_of(digit, 0.5)[0] in (17, 18)  # 8 of 9 blocks at full ink: the faint one was not cropped


def test_clean_canvas_rendering_gives_back_the_mnist_digit(sample_data):
    digits = sample_data.x_test[:20]
    app, _ = rendered_inputs(digits, BY_NAME["canvas"])
    assert np.abs(app - digits / 255.0).mean() < 0.06


# ---- accuracy --------------------------------------------------------------------------------------


def test_handwriting_accuracy_per_rendering_model_and_preprocessing(trained_store, sample_data):
    _, result = trained_store  # a small MLP trained on the sample
    renderings = (BY_NAME["canvas"], BY_NAME["pixel8_nearest"], BY_NAME["blur"])
    images, labels = sample_data.x_test[:100], sample_data.y_test[:100]
    measured = handwriting_accuracy({"mlp": result.training.model}, images, labels, renderings)
    assert measured.images == 100 and measured.renderings == ("canvas", "pixel8_nearest", "blur")
    assert set(measured.accuracy) == {("mlp", "app"), ("mlp", "baseline")}
    assert measured.of("mlp")["canvas"] >= 0.8  # as on the clean test digits
    assert measured.of("mlp")["pixel8_nearest"] < measured.of("mlp")["canvas"]
    assert measured.mean("mlp", "baseline") == pytest.approx(np.mean(measured.accuracy[("mlp", "baseline")]))
    for index, (app_only, baseline_only) in enumerate(measured.discordant["mlp"]):  # they explain the difference
        difference = measured.accuracy[("mlp", "app")][index] - measured.accuracy[("mlp", "baseline")][index]
        assert (app_only - baseline_only) / 100 == pytest.approx(difference)
    assert all(0.0 <= p <= 1.0 for p in measured.p_values("mlp"))
    table = preprocessing_table(measured, "mlp")
    assert len(table) == 2 + 3 + 1 and table[-1].startswith("| **mean** |")
    assert model_table(measured, ["mlp"])[0] == "| rendering | `mlp` |"


def test_the_draw_pages_figures_are_the_benchmarks():
    """The recommendation quotes docs/benchmarks.md's measured means; a re-run must update both."""
    report = (Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    section = next(part for part in report.split("\n## ") if part.split("\n", 1)[0].endswith("not MNIST"))
    models_table = section.split("**Models**", 1)[1]
    header = next(line for line in models_table.splitlines() if line.startswith("| rendering |"))
    means = next(line for line in models_table.splitlines() if line.startswith("| **mean** |"))
    names = [cell.strip(" `") for cell in header.strip("|").split("|")[1:]]
    values = [float(cell.strip(" *%")) / 100 for cell in means.strip("|").split("|")[1:]]
    assert dict(zip(names, values, strict=True)) == pytest.approx(MEASURED_MEAN_ACCURACY, abs=5e-4)


def test_the_benchmark_names_the_renderings_where_the_app_is_behind():
    def result(discordant):
        return HandwritingAccuracy(
            images=1000,
            renderings=("canvas", "blur"),
            labels=("canvas ×10", "blurred"),
            accuracy={("m", "app"): (0.99, 0.97), ("m", "baseline"): (0.99, 0.97)},
            discordant={"m": discordant},
        )

    assert "on no rendering" in behind_baseline(result(((3, 3), (5, 1))), "m")
    sentence = behind_baseline(result(((3, 3), (1, 4))), "m")
    assert "blurred: 3 digits, p = " in sentence and "canvas" not in sentence


def test_a_photo_in_uneven_light_reaches_the_model_as_in_even_light(sample_data):
    digits = sample_data.x_test[:5]
    shadowed = BY_NAME["shadow"].render(digits, np.random.default_rng(0))
    even = BY_NAME["canvas"].render(digits, np.random.default_rng(0))
    for photo, clean in zip(shadowed, even, strict=True):
        corners = photo[[0, 0, -1, -1], [0, -1, 0, -1]]
        assert corners.max() > 0.3  # the shadow is on the picture: the paper itself reads as faint ink...
        difference = np.abs(app_digit(photo, "upload") - app_digit(clean, "upload"))  # ...but not to the app:
        assert difference.mean() < 0.005 and difference.max() < 0.1  # 8-bit grey levels are coarser in the shade
        assert box_of(baseline_digit(photo), 0.5)[0] < box_of(baseline_digit(clean), 0.5)[0]  # the baseline shrinks it
