"""Headless core of the digit-classifier workbench: data, models, training, evaluation, runs.

Importing this package sets TensorFlow's environment, so import it before keras or tensorflow.
"""

import os

# Keep TensorFlow's C++ start-up chatter (CUDA probing on CPU-only machines) out of the output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN's CPU kernels: TensorFlow turns them on by itself only on the newest CPUs (AVX-512 VNNI and
# later); on an AVX2 machine they train our convnets about 2x faster. TF_ENABLE_ONEDNN_OPTS=0 turns them off.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
