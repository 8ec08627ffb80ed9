"""Where the full MNIST is: MNIST_DIR as the test session started (the tests themselves run without it)."""

import os

FULL_MNIST_DIR = os.environ.get("MNIST_DIR")
