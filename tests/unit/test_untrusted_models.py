"""Model files from users: only sound Keras archives load, with safe_mode, and only MNIST-shaped models are adapted.

The shapes that are accepted, and how they are adapted, are tested in tests/unit/test_byom.py.
"""

import zipfile

import keras
import pytest

from core.adapters import load_user_model
from core.errors import ModelFileError
from core.runs import load_model_file


def save(model: keras.Model, path):
    model.save(path)
    return path


def sequential(input_shape, outputs):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(outputs)])


@keras.saving.register_keras_serializable(package="test_only")
class Doubler(keras.layers.Layer):
    def call(self, x):
        return x * 2


def test_a_good_model_loads(tmp_path):
    model = load_model_file(save(sequential((28, 28), 10), tmp_path / "good.keras"))
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a Keras archive"),
        (b"definitely not a model", "not a Keras archive"),
        (b"\x89HDF\r\n\x1a\n" + bytes(100), "not a Keras archive"),  # an .h5 file
    ],
)
def test_non_archives_are_refused(tmp_path, content, message):
    path = tmp_path / "upload.keras"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        load_model_file(path)


def test_a_real_h5_model_is_refused(tmp_path):
    path = tmp_path / "legacy.h5"
    sequential((28, 28), 10).save(path)
    with pytest.raises(ModelFileError, match=".h5 files"):
        load_model_file(path)


def test_a_zip_with_broken_contents_is_refused(tmp_path):
    path = tmp_path / "broken.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{not json")
    with pytest.raises(ModelFileError, match="cannot be loaded"):
        load_model_file(path)


def test_a_truncated_archive_is_refused(tmp_path):
    good = save(sequential((28, 28), 10), tmp_path / "good.keras").read_bytes()
    path = tmp_path / "truncated.keras"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelFileError):
        load_model_file(path)


ACCEPTED = r"accepted input shapes are \(28, 28\), \(28, 28, 1\), \(1, 28, 28\), \(784,\)"


@pytest.mark.parametrize(
    "input_shape, outputs, message",
    [
        ((32, 32), 10, r"expects input of shape \(32, 32\); " + ACCEPTED),
        ((28, 28, 3), 10, r"expects input of shape \(28, 28, 3\); " + ACCEPTED),
        ((28, 28, 1, 1), 10, ACCEPTED),
        ((28, 28), 5, "outputs shape \\(5,\\), not 10 class"),
    ],
)
def test_wrong_shapes_are_refused_saying_which_are_accepted(tmp_path, small_data, input_shape, outputs, message):
    path = save(sequential(input_shape, outputs), tmp_path / "shape.keras")
    with pytest.raises(ModelFileError, match=message):
        load_user_model(path, small_data.x_test, small_data.y_test)


def test_a_model_with_two_inputs_is_refused(tmp_path, small_data):
    first, second = keras.Input((28, 28)), keras.Input((28, 28))
    joined = keras.layers.Concatenate()([keras.layers.Flatten()(first), keras.layers.Flatten()(second)])
    model = keras.Model([first, second], keras.layers.Dense(10)(joined))
    with pytest.raises(ModelFileError, match="2 inputs and 1 outputs; one of each is needed"):
        load_user_model(save(model, tmp_path / "two.keras"), small_data.x_test, small_data.y_test)


def test_lambda_layers_are_refused_by_safe_mode(tmp_path):
    model = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    path = save(model, tmp_path / "lambda.keras")
    with pytest.raises(ModelFileError, match="(?i)lambda|safe_mode|unsafe"):
        load_model_file(path)


def test_models_needing_unknown_custom_objects_are_refused(tmp_path):
    model = keras.Sequential([keras.Input((28, 28)), Doubler(), keras.layers.Flatten(), keras.layers.Dense(10)])
    path = save(model, tmp_path / "custom.keras")
    text = zipfile.ZipFile(path).read("config.json").decode().replace("test_only", "someone_elses")
    rewritten = tmp_path / "custom-elsewhere.keras"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for item in source.namelist():
            target.writestr(item, text if item == "config.json" else source.read(item))
    with pytest.raises(ModelFileError, match="cannot be loaded"):
        load_model_file(rewritten)
