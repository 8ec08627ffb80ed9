"""Full-MNIST tier: tests on the full MNIST (MNIST_DIR); skipped without it (marker `full_mnist`)."""
