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

from functools import partial

import keras
import numpy as np

from core.batchnorm import RECALIBRATION_IMAGES, recompute_batchnorm_statistics


def adam(learning_rate, averaging_decay: float) -> keras.optimizers.Adam:
    """Adam, keeping a warmed-up average of the weights when `averaging_decay` > 0 (0: off)."""
    if averaging_decay <= 0:
        return keras.optimizers.Adam(learning_rate=learning_rate)
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, use_ema=True, ema_momentum=averaging_decay)
    # Set on the instance, not in a subclass: the saved model.keras names its optimizer's class, and a run
    # downloaded from the app must load in plain Keras.
    optimizer._update_model_variables_moving_average = partial(update_warmed_up_average, optimizer)
    return optimizer


def update_warmed_up_average(optimizer: keras.optimizers.Optimizer, trainable_variables) -> None:
    """One step of the average, decaying by min(decay, (1 + n) / (10 + n)) at step n.

    Keras decays by `ema_momentum` from the first step on, so after n steps the first step's weights, still
    near the random start, keep a share of decay**n: 56 % after a 20-epoch run on the offline sample
    (580 steps at 0.999), whose averaged network then validated at 12 % after one epoch and 58 % after
    seven. The warm-up (TensorFlow's `ExponentialMovingAverage(num_updates=...)`, An et al.'s EMA) averages
    over roughly the last n / 9 steps until that reaches 1 / (1 - decay), so a short run's average is of its
    recent weights; long runs reach the full decay after about 9,000 steps.
    """
    step = keras.ops.cast(optimizer.iterations, "float32")
    warmed_up = keras.ops.minimum(optimizer.ema_momentum, (1.0 + step) / (10.0 + step))
    momentum = keras.ops.where(keras.ops.equal(step, 0.0), 0.0, warmed_up)  # the first step starts it
    for variable, average in zip(trainable_variables, optimizer._model_variables_moving_average, strict=True):
        if average is not None:
            weight = keras.ops.cast(momentum, variable.dtype)
            average.assign(weight * average + (1.0 - weight) * variable)


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
