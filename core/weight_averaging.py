"""An exponential moving average of the weights, which validation, early stopping and the saved model use.

The raw weights of a network still being trained jitter from batch to batch; their average over the last
few thousand steps usually predicts a little better (Polyak averaging; An et al. 2020 and Byerly et al. 2021
average with a decay of 0.999 in their MNIST records). Keras' optimizers keep such an average (`use_ema`)
as optimizer variables, so Keras' BackupAndRestore saves it with the rest of the training state, but they
only copy it into the model once, after the last epoch (and early stopping's restore then overwrites it).
Here the averaged weights are swapped in for every validation instead, so the validation score, the epoch
early stopping keeps and the weights it restores all describe the averaged model; training carries on from
the raw weights.
"""

from __future__ import annotations

import keras
import numpy as np

from core.batchnorm import RECALIBRATION_IMAGES, recompute_batchnorm_statistics


def averaging_optimizer_options(decay: float) -> dict:
    """Keyword arguments for a Keras optimizer that keeps the average (none when `decay` is 0: off)."""
    return {"use_ema": True, "ema_momentum": decay} if decay > 0 else {}


class AveragedWeightsForValidation(keras.callbacks.Callback):
    """Validates the averaged weights, then hands the raw ones back to training.

    Must come after EarlyStopping and before the backups in the callback list: on_epoch_end runs in list
    order, so early stopping records the averaged weights and the backups save the raw ones.
    The BatchNorm statistics are recomputed for the averaged weights, which they differ from.
    """

    def __init__(self, images: np.ndarray, limit: int = RECALIBRATION_IMAGES):
        super().__init__()
        self.images = images[:limit]
        self._raw_weights: list[np.ndarray] | None = None

    def on_test_begin(self, logs=None):
        if self._raw_weights is None:  # not again for a second evaluate within the same epoch
            self._raw_weights = [variable.numpy() for variable in self.model.trainable_variables]
            self.model.optimizer.finalize_variable_values(self.model.trainable_variables)
            recompute_batchnorm_statistics(self.model, self.images)

    def on_epoch_end(self, epoch, logs=None):
        if self._raw_weights is not None:
            for variable, value in zip(self.model.trainable_variables, self._raw_weights, strict=True):
                variable.assign(value)
            self._raw_weights = None
