"""The one-image pass as a LiteRT (TensorFlow Lite) program: what the Draw page and the HTTP API run per digit.

For a single 28×28 digit, TensorFlow's own pass is mostly fixed cost per operation, even XLA-compiled.
LiteRT's interpreter runs the same float32 arithmetic with XNNPACK's CPU kernels in a fraction of the time
(docs/benchmarks.md, section 3). The program is converted once per live model from the model's weights at that
moment; models are not changed after training, so it stays true to them. A model the converter rejects
(a bring-your-own model with unusual layers, say) gets None here and keeps TensorFlow's pass.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import weakref

import keras
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from core.models import INPUT_SHAPE

log = logging.getLogger(__name__)

# Interpreter threads: two halve a kernel_cnn digit's time here; more cores give little for one 28×28 image.
LITERT_THREADS = 2

_PROGRAMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model → LiteForward, or None if rejected
_CONVERT_LOCK = threading.Lock()


def convert_to_litert(model: keras.Model) -> bytes:
    """The model's inference pass (training=False) on one image, as a LiteRT flatbuffer.

    Written out as a SavedModel first, as TensorFlow's converter does for Keras 3 models, but quietly and
    with a batch of exactly one, so every shape in the program is fixed. A copy is exported, never the model
    itself: exporting blanks a model's `predict_function` for a moment, which broke a `model.predict` running
    beside it in another thread (the Embedding map page's).
    """
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    archive = keras.export.ExportArchive()
    archive.track(copy)
    archive.add_endpoint(
        "serve",
        lambda image: copy(image, training=False),
        input_signature=[tf.TensorSpec((1, *INPUT_SHAPE), tf.float32, name="image")],
    )
    with tempfile.TemporaryDirectory(prefix="litert-") as saved_model:
        archive.write_out(saved_model, verbose=False)
        return tf.lite.TFLiteConverter.from_saved_model(saved_model).convert()


class LiteForward:
    """A LiteRT interpreter for one model; callable from many threads (one image at a time, under a lock)."""

    def __init__(self, program: bytes, threads: int = LITERT_THREADS):
        self.program = program
        self._interpreter = Interpreter(model_content=program, num_threads=threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._lock = threading.Lock()
        self.calls = 0

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Class probabilities (1, 10) for one model-ready image, (1, *INPUT_SHAPE) float32."""
        with self._lock:
            self._interpreter.set_tensor(self._input, image)
            self._interpreter.invoke()
            self.calls += 1
            return self._interpreter.get_tensor(self._output).copy()


def litert_forward(model: keras.Model) -> LiteForward | None:
    """The model's LiteRT pass, converted on first use and kept while the model lives; None if it cannot convert."""
    with _CONVERT_LOCK:
        if model in _PROGRAMS:
            return _PROGRAMS[model]
        try:
            forward = LiteForward(convert_to_litert(model))
        except Exception as error:  # the converter's errors have no common type
            log.warning("%s cannot run under LiteRT (%s); one-image passes use TensorFlow", model.name, error)
            forward = None
        _PROGRAMS[model] = forward
        return forward


def prepare_litert_forward(model: keras.Model) -> None:
    """Convert the model in the background now (if not done yet), so the first digit drawn need not wait."""
    if model not in _PROGRAMS:
        threading.Thread(target=litert_forward, args=(model,), name="litert-convert", daemon=True).start()
