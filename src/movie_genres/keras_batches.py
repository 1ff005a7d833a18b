"""Scoring with a Keras model in batches of one fixed size (the poster CNN, and every Keras model in `predict`)."""

from __future__ import annotations

from collections.abc import Callable

import movie_genres.tf_runtime  # noqa: F401  (before keras: quiet, machine-independent TensorFlow)

# isort: split
import keras
import numpy as np


def predict_in_batches(model: keras.Model, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a stack of inputs (at most `batch_size`) to the model's outputs.

    Every call runs on a full batch (short ones are padded with zeros and trimmed after), so the
    compiled graph sees a single input shape: one trace, and the same arithmetic on every run.
    Threads may call it at once (`poster_batches`): the compiled function is made here, not by the
    first calls, which would each make their own.
    """
    model.make_predict_function()

    def predict(inputs: np.ndarray) -> np.ndarray:
        count = len(inputs)
        if count < batch_size:
            inputs = np.concatenate([inputs, np.zeros((batch_size - count, *inputs.shape[1:]), inputs.dtype)])
        return np.asarray(model.predict_on_batch(inputs))[:count]

    return predict
