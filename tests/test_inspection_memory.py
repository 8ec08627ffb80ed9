"""Inspection passes keep their memory bounded, whatever the number of images.

The Weights page once took the whole server down: its first-layer preference ran 2,000 test
images through a probe of every layer of a deep_cnn loaded from disk, which needed ~28 GB.
"""

import subprocess
import sys
import textwrap

import numpy as np

from core.analysis.inspection import class_preference, iter_layer_outputs, layer_activations
from core.config import TrainConfig
from core.models import build_model
from core.runs import load_model_file

ADDRESS_SPACE_CAP_GB = 6  # TensorFlow plus a loaded deep_cnn reserve ~2.5 GB of address space

CAPPED_PREFERENCE = textwrap.dedent(
    """
    import resource, sys
    cap = int(sys.argv[2]) * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import numpy as np
    from core.analysis.inspection import class_preference
    from core.runs import load_model_file
    model = load_model_file(sys.argv[1])
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2000, 28, 28), dtype=np.uint8)
    labels = np.arange(2000) % 10
    table = class_preference(model, images, labels)
    print("shape", table.mean_activation.shape, "finite", bool(np.isfinite(table.mean_activation).all()))
    """
)


def saved_model(tmp_path, arch: str, **overrides) -> str:
    """A freshly built (untrained) model of `arch`, saved and loaded back as the dashboard does."""
    path = tmp_path / f"{arch}.keras"
    build_model(TrainConfig.for_arch(arch, **overrides)).save(path)
    return str(path)


def test_first_layer_preference_of_deep_cnn_fits_a_capped_address_space(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", CAPPED_PREFERENCE, saved_model(tmp_path, "deep_cnn"), str(ADDRESS_SPACE_CAP_GB)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "shape (32, 10) finite True" in done.stdout


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
