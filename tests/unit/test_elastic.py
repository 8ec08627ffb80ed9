"""Elastic distortions: sampling moves content where the field says, each digit is bent its own way and keeps its
ink, and the option reaches training from the config and the command line.

The training form's checkbox is tested with AppTest in tests/app/test_elastic.py.
"""

import numpy as np
import tensorflow as tf

from core.augmentation import displace, elastic_batch, random_displacements
from core.cli import main
from core.config import TrainConfig
from core.data import normalize
from core.runs import RunStore
from core.training import make_dataset


def _uniform_field(rows: float, columns: float, batch: int = 2) -> tf.Tensor:
    field = np.zeros((batch, 28, 28, 2), np.float32)
    field[..., 0], field[..., 1] = rows, columns
    return tf.constant(field)


def _digits(data, count: int) -> np.ndarray:
    return normalize(data.x_train[:count])


# ---- sampling ------------------------------------------------------------------------------------------------


def test_no_displacement_returns_the_images_unchanged(small_data):
    images = _digits(small_data, 2)
    np.testing.assert_array_equal(np.asarray(displace(tf.constant(images), _uniform_field(0, 0))), images)


def test_a_whole_pixel_displacement_reads_the_neighbour_and_black_beyond_the_edge(small_data):
    images = _digits(small_data, 2)
    right = np.asarray(displace(tf.constant(images), _uniform_field(0, 1)))
    np.testing.assert_allclose(right[:, :, :-1], images[:, :, 1:], atol=1e-6)
    assert not right[:, :, -1].any()
    down = np.asarray(displace(tf.constant(images), _uniform_field(1, 0)))
    np.testing.assert_allclose(down[:, :-1], images[:, 1:], atol=1e-6)


def test_a_half_pixel_displacement_blends_the_two_neighbours(small_data):
    images = _digits(small_data, 2)
    half = np.asarray(displace(tf.constant(images), _uniform_field(0, 0.5)))
    np.testing.assert_allclose(half[:, :, :-1], (images[:, :, :-1] + images[:, :, 1:]) / 2, atol=1e-6)


# ---- the random fields -----------------------------------------------------------------------------------------


def test_smoothed_fields_move_pixels_about_a_pixel_and_a_half_in_both_directions_independently():
    fields = random_displacements(tf.random.Generator.from_seed(1), 64, 28, 28)
    moves = np.asarray(fields)[:, 8:20, 8:20]  # where the digit is
    rows, columns = moves[..., 0].ravel(), moves[..., 1].ravel()
    assert 0.9 < rows.std() < 2.0 and 0.9 < columns.std() < 2.0
    assert abs(np.corrcoef(rows, columns)[0, 1]) < 0.2  # not one field for both (pixels would move diagonally)
    neighbours = np.corrcoef(moves[:, :, :-1, 1].ravel(), moves[:, :, 1:, 1].ravel())[0, 1]
    assert neighbours > 0.9  # smooth: a stroke bends rather than breaks


def test_elastic_batch_bends_each_digit_its_own_way_and_keeps_its_ink_and_label(small_data):
    images = np.repeat(_digits(small_data, 1), 16, axis=0)  # one digit, sixteen times
    labels = np.full(16, small_data.y_train[0])
    bent, bent_labels = elastic_batch(seed=0)(tf.constant(images), tf.constant(labels))
    bent = np.asarray(bent)
    np.testing.assert_array_equal(np.asarray(bent_labels), labels)
    assert bent.min() >= 0.0 and bent.max() <= 1.0
    assert np.all(np.abs(bent - images).mean(axis=(1, 2)) > 0.02)  # every copy bent
    assert np.abs(bent[0] - bent[1:]).mean(axis=(1, 2)).min() > 0.02  # each its own way
    ink = bent.sum(axis=(1, 2)) / images.sum(axis=(1, 2))  # a field stretches some strokes, squeezes others
    assert np.all((ink > 0.6) & (ink < 1.4)) and 0.9 < ink.mean() < 1.1


def test_elastic_batches_repeat_with_the_seed_and_change_with_it(small_data):
    images, labels = tf.constant(_digits(small_data, 4)), tf.constant(small_data.y_train[:4])
    first, again, other = (np.asarray(elastic_batch(seed)(images, labels)[0]) for seed in (3, 3, 4))
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).mean() > 0.01


# ---- the option --------------------------------------------------------------------------------------------------


def test_only_an_elastic_config_trains_on_distorted_digits(small_data):
    images, labels = small_data.x_train[:200], small_data.y_train[:200]

    def first_batch(elastic):
        config = TrainConfig.for_arch("deep_cnn", augment=False, elastic=elastic, batch_size=200)
        return np.sort(np.asarray(next(iter(make_dataset(images, labels, config)))[0]).reshape(200, -1), axis=0)

    plain = np.sort(normalize(images).reshape(200, -1), axis=0)  # order-free: the dataset shuffles
    assert np.array_equal(first_batch(elastic=False), plain)
    assert not np.allclose(first_batch(elastic=True), plain, atol=0.01)


def test_runs_saved_before_the_option_load_without_elastic_distortions():
    saved = TrainConfig.for_arch("deep_cnn").to_dict()
    del saved["elastic"]
    assert TrainConfig.from_dict(saved).elastic is False
    assert TrainConfig.from_dict({**saved, "elastic": True}).elastic is True


def test_the_command_line_trains_and_saves_an_elastic_run(tmp_path, capsys):
    args = ["train", "--source", "sample", "--arch", "mlp", "--epochs", "1", "--train-limit", "300"]
    assert main([*args, "--elastic", "--runs-dir", str(tmp_path)]) == 0
    (run,), _ = RunStore(tmp_path).list_runs()
    assert run.config.elastic is True
