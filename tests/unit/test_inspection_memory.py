"""Inspection passes in batches give what one pass of the model gives, whatever the batch size.

The Weights page once took the whole server down: its first-layer preference ran 2,000 test images
through a probe of every layer of a deep_cnn loaded from disk, which needed ~28 GB. That the memory
stays bounded is checked in a process with a capped address space (tests/process/test_inspection_memory.py).
"""

import numpy as np

from core.analysis.inspection import class_preference, iter_layer_outputs, layer_activations
from core.runs import load_model_file
from tests.support.model_files import saved_model


def test_layer_outputs_in_batches_match_one_pass_of_the_model(tmp_path, sample_data):
    model = load_model_file(saved_model(tmp_path, "fast_cnn"))
    images = sample_data.x_test[:70]
    batches = list(iter_layer_outputs(model, images, ["conv_2", "output"], batch_size=32))
    assert [len(batch["output"]) for batch in batches] == [32, 32, 6]
    assert all(set(batch) == {"conv_2", "output"} for batch in batches)
    outputs = np.concatenate([batch["output"] for batch in batches])
    np.testing.assert_allclose(outputs, model(images.astype(np.float32) / 255, training=False), atol=1e-5)


def test_every_layer_once_for_a_loaded_deep_cnn(tmp_path, sample_data):
    model = load_model_file(saved_model(tmp_path, "deep_cnn"))
    activations = layer_activations(model, sample_data.x_test[:2])
    assert list(activations) == [layer.name for layer in model.layers]
    assert activations["conv_1a"].shape == (2, 26, 26, 32)
    np.testing.assert_allclose(
        activations["output"], model(sample_data.x_test[:2].astype(np.float32) / 255, training=False), atol=1e-5
    )


def test_class_preference_does_not_depend_on_the_batch_size(tmp_path, sample_data):
    model = load_model_file(saved_model(tmp_path, "cnn"))
    images, labels = sample_data.x_test[:300], sample_data.y_test[:300]
    whole = class_preference(model, images, labels, batch_size=300).mean_activation
    batched = class_preference(model, images, labels, batch_size=7).mean_activation
    assert whole.shape == (32, 10)
    np.testing.assert_allclose(batched, whole, rtol=1e-4, atol=1e-6)
