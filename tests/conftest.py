"""Shared fixtures: isolated environment, the offline sample, tiny trained runs; each test's tier marker.

The tests are laid out in tiers, one folder each, and a test's folder sets its marker:
`unit` (in process), `app` (AppTest), `process` (other processes or servers), `browser`
(Playwright and Chromium) and `full_mnist` (needs MNIST_DIR). Helpers shared between test
modules live in tests/support/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import TrainConfig
from core.data import MnistData, load_sample
from core.experiment import run_experiment
from core.runs import RunStore
from tests.support.full_mnist import FULL_MNIST_DIR
from tests.support.shared import locked, shared_folder
from tests.support.tiny_runs import TinyRuns
from tests.support.uploaded_models import CASES, UploadedModel, saved_model, train_and_save

TESTS = Path(__file__).resolve().parent
TIER_MARKERS = ("unit", "app", "process", "browser", "full_mnist")  # the folders under tests/, one per tier
# Under pytest-xdist's loadgroup (make test), these tiers' modules each run on one worker: their module fixtures
# start servers or train runs (a dashboard server, a study), which two workers would each start again.
GROUPED_TIERS = ("process", "browser", "full_mnist")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Mark each test with its tier, the folder it is in (tests/<tier>/...)."""
    for item in items:
        path = item.path.resolve()
        if not path.is_relative_to(TESTS):
            continue
        tier = path.relative_to(TESTS).parts[0]
        if tier not in TIER_MARKERS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in a tier folder, one of {', '.join(TIER_MARKERS)}")
        item.add_marker(tier)
        if tier in GROUPED_TIERS:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path):
    """No test sees the caller's MNIST_DIR or study storage, or writes to the real run store."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.delenv("STUDY_STORAGE", raising=False)  # studies go to the test's own run store
    monkeypatch.setenv("RUNS_DIR", str(tmp_path / "default-runs"))


@pytest.fixture(scope="session")
def sample_data() -> MnistData:
    """The offline 5,000-digit sample (4,000 train, 1,000 test)."""
    return load_sample()


@pytest.fixture(scope="session")
def small_data(sample_data) -> MnistData:
    """A smaller slice of the sample for fast training tests."""
    return MnistData(
        sample_data.x_train[:1200],
        sample_data.y_train[:1200],
        sample_data.x_test[:300],
        sample_data.y_test[:300],
        "sample",
        "test slice of the offline sample",
    )


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory, sample_data):
    """A store holding one small MLP run trained on the sample (shared, read-only)."""
    store = RunStore(tmp_path_factory.mktemp("trained-store"))
    config = TrainConfig.for_arch("mlp", epochs=2, seed=1, name="tiny mlp")
    result = run_experiment(config, sample_data, store)
    return store, result


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory, sample_data) -> TinyRuns:
    """The catalogue of tiny runs (tests/support/tiny_runs.py), each trained once per test run when first asked for.

    Modules take copies (`tiny_runs.store_with`) rather than each training the same few configs again; the
    pytest-xdist workers share the one catalogue (tests/support/shared.py).
    """
    return TinyRuns(shared_folder(tmp_path_factory, "tiny-runs"), sample_data)


@pytest.fixture(scope="session")
def uploaded_models(tmp_path_factory, sample_data) -> dict[str, UploadedModel]:
    """Models trained elsewhere, one per convention people bring (tests/support/uploaded_models.py), as .keras.

    Trained once per test run: a pytest-xdist worker uses the files another one saved (tests/support/shared.py).
    """
    folder = shared_folder(tmp_path_factory, "uploaded-models")
    models = {}
    for name in CASES:
        done = folder / f".{name}.done"  # written once the .keras file is complete
        with locked(folder / f".{name}.lock"):
            if not done.exists():
                train_and_save(name, sample_data, folder)
                done.touch()
        models[name] = saved_model(name, folder)
    return models


@pytest.fixture
def full_mnist_dir() -> Path:
    if not FULL_MNIST_DIR:
        pytest.skip("MNIST_DIR is not set: the full-data test needs the full MNIST")
    return Path(FULL_MNIST_DIR)
