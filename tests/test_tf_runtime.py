"""TensorFlow loads quietly, with the settings that make its numbers machine-independent."""

from __future__ import annotations

import importlib
import logging
import os
import re
import subprocess
import sys

import pytest

from movie_genres.tf_runtime import not_importable
from tests.conftest import ROOT

# Train a tiny MLP and embed nothing: TensorFlow's whole start-up, its first ops and tf.data.
TRAIN_A_TINY_MLP = """
import stages.train_mlp  # what the stage imports first (dvclive's Keras callback loads keras)
import os
import numpy as np
from movie_genres.models.mlp import make_deterministic, train_mlp, predict_probabilities
from movie_genres.models.training import Subset
from movie_genres.params import MlpParams
make_deterministic(0)
x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
y = (x[:, :2] > 0).astype(np.int8)
params = MlpParams(hidden_units=[8], dropout=0.0, learning_rate=0.01, batch_size=16, max_epochs=2, patience=1)
model, _ = train_mlp(Subset(np.arange(48), x[:48], y[:48]), Subset(np.arange(16), x[48:], y[48:]), params)
predict_probabilities(model, x)
import tensorflow as tf
print(os.environ["ONEDNN_MAX_CPU_ISA"], tf.config.threading.get_intra_op_parallelism_threads())
"""

TENSORFLOW_NOISE = re.compile(r"[IWE]0000 |oneDNN|cuInit|CUDA|absl::InitializeLog|NodeDef mentions")


def test_a_tensorflow_run_prints_no_start_up_noise_and_is_configured():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "ONEDNN_", "KERAS_"))}
    done = subprocess.run(
        [sys.executable, "-c", TRAIN_A_TINY_MLP], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["AVX2", "1"]
    noise = [line for line in done.stderr.splitlines() if TENSORFLOW_NOISE.search(line)]
    assert noise == []


def test_not_importable_holds_back_only_modules_not_loaded_and_only_inside():
    assert "tabnanny" not in sys.modules and "json" in sys.modules
    with not_importable(("tabnanny", "json")):
        with pytest.raises(ImportError):
            importlib.import_module("tabnanny")
        assert importlib.import_module("json") is sys.modules["json"]  # loaded before: unaffected
    assert importlib.import_module("tabnanny") is sys.modules["tabnanny"]


def test_only_the_keras_predict_retracing_warning_is_dropped():
    """Loading TensorFlow through tf_runtime (imported above) filters TensorFlow's log."""
    tensorflow_log = logging.getLogger("tensorflow")
    retrace = "5 out of the last 12 calls to <function TensorFlowTrainer.make_predict_function.<locals>."
    retrace += "one_step_on_data_distributed at 0x7f> triggered tf.function retracing. Tracing is expensive"
    kept = [
        record.getMessage()
        for message in (retrace, "5 out of the last 9 calls to <function f> triggered tf.function retracing", "other")
        for record in [tensorflow_log.makeRecord("tensorflow", logging.WARNING, __file__, 1, message, (), None)]
        if tensorflow_log.filter(record)
    ]
    assert kept == ["5 out of the last 9 calls to <function f> triggered tf.function retracing", "other"]
