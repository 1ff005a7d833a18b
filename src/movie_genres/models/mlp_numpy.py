"""The trained Keras MLPs (models/*.keras) run in NumPy, for predict without TensorFlow.

A `.keras` archive is a zip of config.json (the layers, in order) and model.weights.h5 (each layer's
weights under layers/<name>/vars/<i>). `build_mlp`'s layers are computed as Keras computes them at
inference: Normalization, Dense with its activation, Dropout as the identity. Another layer is refused
with the engine to use instead.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.special import expit

from movie_genres.errors import NumpyEngineUnsupported

KERAS_EPSILON = 1e-7  # keras.backend.epsilon(): Normalization divides by at least this

Step = Callable[[np.ndarray], np.ndarray]
ACTIVATIONS: dict[str, Step] = {"linear": lambda x: x, "relu": lambda x: np.maximum(x, 0), "sigmoid": expit}


def _step(layer: dict, weights: list[np.ndarray], path: Path) -> Step | None:
    kind, config = layer["class_name"], layer["config"]
    if kind == "Dropout":
        return None
    if kind == "Normalization" and not config.get("invert"):
        mean, variance = weights[0], weights[1]
        scale = np.maximum(np.sqrt(variance), np.float32(KERAS_EPSILON))
        return lambda x: (x - mean) / scale
    if kind == "Dense" and config.get("activation") in ACTIVATIONS:
        kernel, bias = weights if config.get("use_bias", True) else (weights[0], 0)
        activation = ACTIVATIONS[config["activation"]]
        return lambda x: activation(x @ kernel + bias)
    raise NumpyEngineUnsupported(
        f"{path} has a {kind} layer ({config.get('name')}) the NumPy engine does not compute: "
        "predict with --engine tensorflow"
    )


def _layers(config: dict) -> list[dict]:
    """The Sequential's layers as it lists them: without its InputLayer."""
    return [layer for layer in config["config"]["layers"] if layer["class_name"] != "InputLayer"]


def _weight_keys(config: dict) -> list[str]:
    """Where Keras' saving stores each layer's weights: by class, not by the layer's name (which depends
    on the models made before in the process): dense, dropout, dense_1, ..."""
    used: dict[str, int] = {}
    keys = []
    for layer in _layers(config):
        name = re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", layer["class_name"])).lower()
        keys.append(f"{name}_{used[name]}" if name in used else name)
        used[name] = used.get(name, 0) + 1
    return keys


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
            raise NumpyEngineUnsupported(
                f"{path} is a {config.get('class_name')}, not a Sequential: use --engine tensorflow"
            )
        steps = []
        with weights_file:
            for layer, key in zip(_layers(config), _weight_keys(config)):
                stored = weights_file.get(f"layers/{key}/vars")
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
