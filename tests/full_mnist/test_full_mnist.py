"""On the full MNIST (MNIST_DIR, as in CI): the seed MLP reaches the accuracy it is known for."""

from core.config import TrainConfig
from core.data import load_mnist
from core.experiment import run_experiment
from core.runs import RunStore


def test_seed_mlp_reaches_97_5_percent_in_5_epochs(full_mnist_dir, tmp_path):
    data = load_mnist(folder=full_mnist_dir)
    assert data.counts() == {"train": 60000, "test": 10000}
    config = TrainConfig.for_arch("mlp", epochs=5)
    result = run_experiment(config, data, RunStore(tmp_path))
    print(f"seed MLP, 5 epochs: test accuracy {result.evaluation.accuracy:.4f}")
    assert result.evaluation.accuracy >= 0.975
