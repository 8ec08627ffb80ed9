"""A training run stopped part-way, as if its process were killed at the start of an epoch."""

import keras


class Stopped(Exception):
    """Stands in for the process being killed."""


class StopAtEpoch(keras.callbacks.Callback):
    """Raises as the given 1-based epoch begins, after the ones before it finished (and were backed up)."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise Stopped
