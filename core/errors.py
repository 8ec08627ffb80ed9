"""The project's own error types: every expected failure raises one of these."""

import math


class DigitLabError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(DigitLabError, ValueError):
    """A setting is out of range or inconsistent (a training configuration, a split, an ensemble).

    Also a ValueError: in Python's own terms it is a bad value, so callers of the library that
    catch ValueError around a bad setting (the usual idiom) keep working, while the commands
    catch DigitLabError only and so never mask a ValueError raised by a bug deeper down.
    """


class DataFormatError(DigitLabError):
    """A data file is malformed (the message names the file and the problem)."""


class DataSourceError(DigitLabError):
    """A data source is unavailable (missing folder, missing file, failed download)."""


class ImageInputError(DigitLabError):
    """An image given by a user cannot be used as a digit."""


class ImageTooLargeError(ImageInputError):
    """An image has more pixels than the limit (the HTTP API answers 413 rather than 422)."""


class ModelFileError(DigitLabError):
    """A model file cannot be loaded or does not fit MNIST (28x28 in, 10 out)."""


class RunStoreError(DigitLabError):
    """A run cannot be saved, found or loaded."""


class TrainingDivergedError(DigitLabError):
    """The loss blew up (not finite, or far above a fresh model's): the model is useless, so nothing is saved."""

    def __init__(self, epoch: int, batch: int, loss: float):
        self.epoch, self.batch, self.loss = epoch, batch, loss
        shown = f"{loss:,.0f}" if math.isfinite(loss) else str(loss)
        where = f"epoch {epoch}, batch {batch} (loss {shown})"
        super().__init__(f"training diverged at {where}: nothing saved; try a lower learning rate")


class DataMismatchError(DigitLabError):
    """Models or runs cannot be compared: they were scored on different test sets."""


class StudyStorageError(DigitLabError):
    """A study storage (journal file or database) cannot be used: refused (SQLite for workers) or unreachable."""
