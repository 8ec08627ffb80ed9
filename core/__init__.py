"""Headless core of the digit-classifier workbench: data, models, training, evaluation, runs.

Importing this package sets TensorFlow's environment and imports TensorFlow without its start-up
chatter (core/tf_startup.py), so import it before keras or tensorflow.
"""

from core.tf_startup import start_tensorflow

start_tensorflow()
