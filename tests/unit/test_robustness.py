"""Perturbations (core/analysis/perturbations.py) on hand-made images, robustness curves, and the CLI table."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from core.analysis.perturbations import BY_NAME, PERTURBATIONS, perturb, rotate, shift_x, shift_y
from core.analysis.robustness import robustness_curves, sample_indices
from core.cli import main


def square(top=8, left=10, size=6) -> np.ndarray:
    image = np.zeros((1, 28, 28), dtype=np.float32)
    image[0, top : top + size, left : left + size] = 1.0
    return image


def digit_like() -> np.ndarray:
    """A ring, something like a 0: thin enough for erosion to matter, off-centre enough for rotation to."""
    rows, columns = np.mgrid[:28, :28]
    radius = np.hypot(rows - 13.5, (columns - 13.5) * 1.4)
    return ((radius > 6) & (radius < 8.5)).astype(np.float32)[None]


@pytest.mark.parametrize("perturbation", PERTURBATIONS, ids=lambda p: p.name)
def test_severity_zero_is_the_identity(perturbation):
    images = np.concatenate([square(), digit_like()])
    np.testing.assert_array_equal(perturbation(images, 0, seed=3), images)


@pytest.mark.parametrize("perturbation", PERTURBATIONS, ids=lambda p: p.name)
def test_every_level_changes_the_image_and_stays_in_range(perturbation):
    images = np.concatenate([square(), digit_like()])
    for severity in perturbation.levels:
        out = perturbation(images, severity, seed=3)
        assert out.shape == images.shape and out.dtype == np.float32
        assert out.min() >= 0 and out.max() <= 1
        assert not np.allclose(out, images), severity


def test_uint8_images_are_normalised():
    images = (square() * 255).astype(np.uint8)
    assert BY_NAME["blur"](images, 0).max() == 1.0


@pytest.mark.parametrize("pixels", [-3, 2, 4.5])
def test_a_shift_moves_the_centre_of_mass_by_the_shift(pixels):
    image = square()
    before = np.array(ndimage.center_of_mass(image[0]))
    np.testing.assert_allclose(ndimage.center_of_mass(shift_x(image, pixels)[0]), before + [0, pixels], atol=1e-6)
    np.testing.assert_allclose(ndimage.center_of_mass(shift_y(image, pixels)[0]), before + [pixels, 0], atol=1e-6)


def test_rotating_by_90_degrees_four_times_is_the_identity():
    image = digit_like()
    turned = image
    for _ in range(4):
        turned = rotate(turned, 90)
    np.testing.assert_allclose(turned, image, atol=1e-5)


def test_rotation_is_counter_clockwise():
    turned = rotate(square(top=2, left=2, size=4), 90)[0]
    row, column = ndimage.center_of_mass(turned)
    assert row > 20 and column < 7  # top-left → bottom-left


def test_scale_shrinks_and_grows_about_the_centre():
    ring = digit_like()
    for percent in (-40, 50):
        out = BY_NAME["scale"](ring, percent)
        ratio = out.sum() / ring.sum()
        assert ratio == pytest.approx((1 + percent / 100) ** 2, rel=0.15)
        np.testing.assert_allclose(ndimage.center_of_mass(out[0]), ndimage.center_of_mass(ring[0]), atol=0.3)


def test_thickness_dilates_and_erodes():
    ring = digit_like()
    assert BY_NAME["thickness"](ring, 1).sum() > 1.5 * ring.sum()
    assert BY_NAME["thickness"](ring, -1).sum() < 0.6 * ring.sum()


def test_random_perturbations_are_deterministic_with_a_seed():
    images = np.concatenate([square(), digit_like()])
    for name in ("noise", "elastic"):
        first, again = BY_NAME[name](images, 2, seed=5), BY_NAME[name](images, 2, seed=5)
        np.testing.assert_array_equal(first, again)
        assert not np.array_equal(first, BY_NAME[name](images, 2, seed=6))


def test_elastic_displacement_keeps_the_ink_roughly():
    ring = digit_like()
    out = BY_NAME["elastic"](ring, 2, seed=1)
    assert out.sum() == pytest.approx(ring.sum(), rel=0.25)


def test_perturb_composes_and_refuses_unknown_names():
    image = square()
    np.testing.assert_array_equal(perturb(image, {"rotation": 0, "blur": 0}), image)
    moved = perturb(image, {"shift_x": 2, "shift_y": -1})
    np.testing.assert_allclose(
        ndimage.center_of_mass(moved[0]), np.array(ndimage.center_of_mass(image[0])) + [-1, 2], atol=1e-6
    )
    with pytest.raises(ValueError, match="unknown"):
        perturb(image, {"twirl": 3})


# ---- curves ---------------------------------------------------------------------------------------------


def test_sample_indices_are_fixed_and_sorted():
    first = sample_indices(1000, 200, seed=1)
    assert len(first) == 200 and np.all(np.diff(first) > 0)
    np.testing.assert_array_equal(first, sample_indices(1000, 200, seed=1))
    assert len(sample_indices(1000, None)) == 1000 and len(sample_indices(100, 2000)) == 100


def test_curves_start_clean_and_fall_with_severity(trained_store, sample_data):
    store, result = trained_store
    model = store.load_model(result.run.run_id)
    steps = []
    curves = robustness_curves(
        model, sample_data.x_test[:300], sample_data.y_test[:300], progress=lambda *step: steps.append(step)
    )
    assert steps[-1][0] == steps[-1][1] == 1 + sum(len(p.levels) for p in PERTURBATIONS)
    assert set(curves.curves) == {p.name for p in PERTURBATIONS}
    for name, curve in curves.curves.items():
        assert (0.0, curves.clean_accuracy) in curve
        severities = [severity for severity, _ in curve]
        assert severities == sorted(severities)
        worst = curve[0] if BY_NAME[name].levels[0] < 0 else curve[-1]
        assert worst[1] < curves.clean_accuracy, name
    assert curves.clean_accuracy > 0.6


# ---- the command line -------------------------------------------------------------------------------------


def test_robustness_cli_prints_a_table(trained_store, capsys):
    store, result = trained_store
    run_id = result.run.run_id
    code = main(["robustness", run_id, "--images", "200", "--source", "sample", "--runs-dir", str(store.root)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert "200 of 1000 test images" in lines[0]
    assert "perturbation" in lines[1] and run_id in lines[1]
    assert lines[3].startswith("clean") and lines[4].startswith("rotation")
    assert len(lines) == 3 + 1 + sum(len(p.levels) for p in PERTURBATIONS)
    assert any(line.startswith("elastic distortion") and "5 px" in line for line in lines)


def test_robustness_cli_refuses_an_ensemble_of_one_and_unknown_runs(trained_store, capsys):
    store, result = trained_store
    assert main(["robustness", result.run.run_id, "--ensemble", "--runs-dir", str(store.root)]) == 2
    assert "at least two" in capsys.readouterr().err
    assert main(["robustness", "no-such-run", "--runs-dir", str(store.root)]) == 2
