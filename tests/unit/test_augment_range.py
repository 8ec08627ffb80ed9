"""Augmentation's range: how far a training digit may be turned and moved reaches the batches from the config and
the command line, and runs saved before the option load with the range they used.

The training form's slider is tested with AppTest in tests/app/test_augment_range.py.
"""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks.accuracy import recipe
from core.cli import main
from core.config import ConfigError, TrainConfig
from core.runs import RunStore
from core.training import make_dataset

COPIES = 256


def _centre_column(images: np.ndarray) -> np.ndarray:
    """Each image's centre of ink along the columns, in pixels."""
    ink = images.sum(axis=1)  # (batch, columns)
    return (ink * np.arange(28)).sum(axis=1) / ink.sum(axis=1)


def _moves(digit: np.ndarray, **range_settings) -> np.ndarray:
    """How far augmentation moved the ink's centre of COPIES copies of one digit, in pixels."""
    config = TrainConfig.for_arch("deep_cnn", batch_size=COPIES, **range_settings)
    copies, labels = np.repeat(digit[None], COPIES, axis=0), np.zeros(COPIES, np.int64)
    (batch, _) = next(iter(make_dataset(copies, labels, config)))
    return np.abs(_centre_column(np.asarray(batch)) - _centre_column(copies.astype(np.float32)))


def test_a_wider_shift_moves_digits_further(small_data):
    digit = small_data.x_train[0]
    standard = _moves(digit)
    wide = _moves(digit, augment_rotation=20.0, augment_shift=0.2)
    # ±10 % of 28 pixels is 2.8: with the small zoom and rotation no copy goes much past it; at ±20 % many do.
    assert standard.max() < 3.5
    assert wide.max() > 4.5 and np.mean(wide > 3.5) > 0.2


def test_no_range_leaves_only_the_zoom(small_data):
    moves = _moves(small_data.x_train[0], augment_rotation=0.0, augment_shift=0.0)
    assert moves.max() < 1.0  # a ±10 % zoom about the centre moves an off-centre digit's ink a little


@pytest.mark.parametrize(
    "settings", [{"augment_rotation": 200.0}, {"augment_rotation": float("nan")}, {"augment_shift": 1.0}]
)
def test_a_range_out_of_bounds_is_refused(settings):
    with pytest.raises(ConfigError, match="augmentation"):
        TrainConfig.for_arch("deep_cnn", **settings)


def test_runs_saved_before_the_option_load_with_the_range_they_used():
    saved = TrainConfig.for_arch("deep_cnn").to_dict()
    del saved["augment_rotation"], saved["augment_shift"]
    config = TrainConfig.from_dict(saved)
    assert (config.augment_rotation, config.augment_shift) == (10.0, 0.1)


def test_the_command_line_saves_the_range(tmp_path):
    args = ["train", "--source", "sample", "--arch", "mlp", "--epochs", "1", "--train-limit", "300", "--augment"]
    assert main([*args, "--augment-rotation", "20", "--augment-shift", "0.2", "--runs-dir", str(tmp_path)]) == 0
    (run,), _ = RunStore(tmp_path).list_runs()
    assert (run.config.augment_rotation, run.config.augment_shift) == (20.0, 0.2)


def test_a_wider_range_is_its_own_recipe_in_the_accuracy_table():
    standard = TrainConfig.for_arch("deep_cnn")
    wide = dataclasses.replace(standard, augment_rotation=20.0, augment_shift=0.2)
    label = recipe(SimpleNamespace(config=wide))
    assert label == f"{recipe(SimpleNamespace(config=standard))}, rotations ±20°, shifts ±20%"
