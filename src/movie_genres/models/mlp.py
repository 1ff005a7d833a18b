"""The tutorial's Keras MLPs: dense layers on a fixed feature vector, sigmoid outputs per genre."""

from __future__ import annotations

import json
import logging
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import movie_genres.tf_runtime  # noqa: F401  (before keras: quiet, machine-independent TensorFlow)

# isort: split
import keras
import numpy as np
import tensorflow as tf

from movie_genres.features.store import StoredRows
from movie_genres.files import atomic_path
from movie_genres.models.training import Subset
from movie_genres.params import MlpParams

if TYPE_CHECKING:  # out_of_fold imports scikit-learn, which loading a model for predict does not need
    from movie_genres.models.out_of_fold import FitAndScore

log = logging.getLogger(__name__)

PREDICT_BATCH = 1024


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and ask for deterministic kernels.

    With tf_runtime's settings (oneDNN's kernels capped at AVX2, each op on one thread: how a kernel
    splits a sum over threads depends on their number, which depends on the machine) the same params
    then give the same weights on any machine.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def build_mlp(train_x: np.ndarray | StoredRows, n_genres: int, params: MlpParams) -> keras.Model:
    """Standardised inputs -> Dense(relu) layers -> Dense(n_genres, sigmoid), RMSprop, binary cross-entropy.

    One sigmoid per genre, not the tutorial's softmax: genres are not mutually exclusive.
    """
    normalise = keras.layers.Normalization()
    # feature scales differ a lot between CNN and word-vector inputs
    normalise.adapt(train_x if isinstance(train_x, np.ndarray) else stored_batches(train_x, None, PREDICT_BATCH))
    layers: list[keras.layers.Layer] = [keras.Input(shape=(train_x.shape[1],)), normalise]
    for units in params.hidden_units:
        layers.append(keras.layers.Dense(units, activation="relu"))
        if params.dropout > 0:
            layers.append(keras.layers.Dropout(params.dropout))
    layers.append(keras.layers.Dense(n_genres, activation="sigmoid"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=params.learning_rate),
        loss="binary_crossentropy",
    )
    return model


class EpochLog(keras.callbacks.Callback):
    """One log line per epoch: a long training run shows where it is."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        losses = ", ".join(f"{name} {value:.4f}" for name, value in sorted((logs or {}).items()))
        log.info("epoch %d: %s", epoch + 1, losses)


def train_mlp(
    train: Subset, val: Subset, params: MlpParams, callbacks: Sequence[keras.callbacks.Callback] = ()
) -> tuple[keras.Model, int]:
    """Fit on the training movies; stop when the validation loss stops improving, keep the best epoch.

    Returns the model and the number of epochs it was trained for (up to its best).
    """
    model = build_mlp(train.x, train.y.shape[1], params)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=params.patience, restore_best_weights=True)
    model.fit(
        **_fit_inputs(train, params.batch_size),
        validation_data=_validation_inputs(val, params.batch_size),
        epochs=params.max_epochs,
        callbacks=[stop, EpochLog(), *callbacks],
        verbose=0,
    )
    return model, stop.best_epoch + 1  # the weights restored are those of the best epoch (counted from 0)


def refit_mlp(params: MlpParams, epochs: int, seed: int) -> FitAndScore:
    """For out-of-fold scores: a fresh MLP trained for `epochs` (the final model's best) on a fold, with
    no validation movies to stop on, scoring another."""

    def fit_and_score(fit: Subset, held_out: Subset, fold: int) -> np.ndarray:
        keras.utils.set_random_seed(seed + 1 + fold)
        model = build_mlp(fit.x, fit.y.shape[1], params)
        model.fit(**_fit_inputs(fit, params.batch_size), epochs=epochs, verbose=0)
        log.info("out-of-fold: fold %d trained for %d epochs", fold + 1, epochs)
        return predict_probabilities(model, held_out.x)

    return fit_and_score


def predict_probabilities(model: keras.Model, x: np.ndarray | StoredRows) -> np.ndarray:
    if isinstance(x, StoredRows):
        return model.predict(stored_batches(x, None, PREDICT_BATCH), verbose=0)
    return model.predict(x, batch_size=PREDICT_BATCH, verbose=0)


def _fit_inputs(subset: Subset, batch_size: int, shuffle: bool = True) -> dict[str, object]:
    """`model.fit`'s arguments for these movies: arrays in memory, or batches read from the feature files."""
    labels = subset.y.astype(np.float32)
    if isinstance(subset.x, StoredRows):
        return {"x": stored_batches(subset.x, labels, batch_size, shuffle), "shuffle": False}  # shuffled there
    return {"x": subset.x, "y": labels, "batch_size": batch_size, "shuffle": shuffle}


def _validation_inputs(subset: Subset, batch_size: int) -> object:
    """`model.fit`'s validation_data for these movies: (arrays, labels), or their batches in order."""
    inputs = _fit_inputs(subset, batch_size, shuffle=False)
    return (inputs["x"], inputs["y"]) if "y" in inputs else inputs["x"]


def stored_batches(x: StoredRows, y: np.ndarray | None, batch_size: int, shuffle: bool = False) -> tf.data.Dataset:
    """A tf.data pipeline of batches of rows read from the feature files as they are needed (and their
    labels): memory holds a few batches however many movies. Shuffled anew each epoch (the seed is
    TensorFlow's global one, `make_deterministic`), else in order."""
    rows = tf.data.Dataset.range(len(x))
    if shuffle:  # a buffer of every row number: 8 bytes a movie
        rows = rows.shuffle(len(x), reshuffle_each_iteration=True)
    width = x.shape[1]

    def read(indices: np.ndarray) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        return x.read(indices) if y is None else (x.read(indices), y[indices])

    def load(indices: tf.Tensor) -> tf.Tensor | tuple[tf.Tensor, tf.Tensor]:
        if y is None:
            return tf.ensure_shape(tf.numpy_function(read, [indices], tf.float32), [None, width])
        inputs, labels = tf.numpy_function(read, [indices], (tf.float32, tf.float32))
        return tf.ensure_shape(inputs, [None, width]), tf.ensure_shape(labels, [None, y.shape[1]])

    batches = rows.batch(batch_size).map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return batches.prefetch(tf.data.AUTOTUNE)


def save_keras_model(model: keras.Model, path: Path) -> None:
    """The `.keras` archive, written so that the same model gives the same bytes.

    Keras stamps the archive: `date_saved` in metadata.json and the time on the weights entry; and
    config.json marks objects that several layers share (the float32 dtype policy) by their id(), a
    memory address that is new in every process. All three are fixed here (the shared ids renumbered
    1, 2, ... in order of appearance, which keeps the sharing); the weights are Keras' own.
    """
    with atomic_path(path) as partial:
        keras_file = partial.with_suffix(".keras")  # Keras insists on the suffix
        try:
            model.save(keras_file)
            with zipfile.ZipFile(keras_file) as saved, zipfile.ZipFile(partial, "w") as stable:
                for entry in saved.infolist():
                    data = saved.read(entry)
                    if entry.filename == "metadata.json":
                        data = json.dumps({**json.loads(data), "date_saved": None}).encode()
                    elif entry.filename == "config.json":
                        data = _renumber_shared_objects(data)
                    fixed = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
                    fixed.compress_type = entry.compress_type
                    stable.writestr(fixed, data)
        finally:
            keras_file.unlink(missing_ok=True)


_SHARED_OBJECT_ID = re.compile(rb'"shared_object_id": (\d+)')


def _renumber_shared_objects(config: bytes) -> bytes:
    numbers: dict[bytes, int] = {}

    def renumbered(match: re.Match[bytes]) -> bytes:
        return b'"shared_object_id": %d' % numbers.setdefault(match[1], len(numbers) + 1)

    return _SHARED_OBJECT_ID.sub(renumbered, config)


def load_keras_model(path: Path) -> keras.Model:
    return keras.models.load_model(path)
