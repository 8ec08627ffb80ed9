"""Inspection passes keep their memory bounded, whatever the number of images: checked in a fresh interpreter
with a capped address space.

The Weights page once took the whole server down: its first-layer preference ran 2,000 test
images through a probe of every layer of a deep_cnn loaded from disk, which needed ~28 GB.
"""

import subprocess
import sys
import textwrap

from tests.support.model_files import saved_model

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


def test_first_layer_preference_of_deep_cnn_fits_a_capped_address_space(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", CAPPED_PREFERENCE, saved_model(tmp_path, "deep_cnn"), str(ADDRESS_SPACE_CAP_GB)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "shape (32, 10) finite True" in done.stdout
