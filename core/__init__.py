"""Headless core of the digit-classifier workbench: data, models, training, evaluation, runs."""

import os

# Keep TensorFlow's C++ start-up chatter (CUDA probing on CPU-only machines) out of the output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
