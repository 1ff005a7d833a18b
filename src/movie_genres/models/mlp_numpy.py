"""The trained Keras MLPs (models/*.keras) run in NumPy, for predict without TensorFlow.

A `.keras` archive is a zip of config.json (the layers, in order) and model.weights.h5 (each layer's
weights under layers/<name>/vars/<i>). `build_mlp`'s layers are computed as Keras computes them at
inference: Normalization, Dense with its activation, Dropout as the identity. Another layer is refused
with the engine to use instead.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.special import expit

from movie_genres.errors import UserError

KERAS_EPSILON = 1e-7  # keras.backend.epsilon(): Normalization divides by at least this

Step = Callable[[np.ndarray], np.ndarray]
ACTIVATIONS: dict[str, Step] = {"linear": lambda x: x, "relu": lambda x: np.maximum(x, 0), "sigmoid": expit}


class UnsupportedModel(UserError, ValueError):
    """A Keras model with a layer the NumPy engine does not compute."""


def _step(layer: dict, weights: list[np.ndarray], path: Path) -> Step | None:
    kind, config = layer["class_name"], layer["config"]
    if kind in ("InputLayer", "Dropout"):
        return None
    if kind == "Normalization" and not config.get("invert"):
        mean, variance = weights[0], weights[1]
        scale = np.maximum(np.sqrt(variance), np.float32(KERAS_EPSILON))
        return lambda x: (x - mean) / scale
    if kind == "Dense" and config.get("activation") in ACTIVATIONS:
        kernel, bias = weights if config.get("use_bias", True) else (weights[0], 0)
        activation = ACTIVATIONS[config["activation"]]
        return lambda x: activation(x @ kernel + bias)
    raise UnsupportedModel(
        f"{path} has a {kind} layer ({config.get('name')}) the NumPy engine does not compute: "
        "predict with --engine tensorflow"
    )


class NumpyMlp:
    """A saved Keras Sequential MLP: `predict(x)` gives what `model.predict(x)` gives (to float32 rounding)."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps

    @classmethod
    def load(cls, path: Path) -> NumpyMlp:
        import h5py

        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            weights_file = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        if config.get("class_name") != "Sequential":
            raise UnsupportedModel(f"{path} is a {config.get('class_name')}, not a Sequential: use --engine tensorflow")
        steps = []
        with weights_file:
            for layer in config["config"]["layers"]:
                stored = weights_file.get(f"layers/{layer['config']['name']}/vars")
                weights = (
                    [np.asarray(stored[str(i)], np.float32) for i in range(len(stored))] if stored is not None else []
                )
                step = _step(layer, weights, path)
                if step is not None:
                    steps.append(step)
        return cls(steps)

    def predict(self, x: np.ndarray) -> np.ndarray:
        out = np.asarray(x, np.float32)
        for step in self.steps:
            out = step(out)
        return out
