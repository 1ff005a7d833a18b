"""The Keras MLPs in NumPy: what `model.predict` gives, from the saved archive alone."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from movie_genres.errors import NumpyEngineUnsupported
from movie_genres.models.mlp import build_mlp, make_deterministic, predict_probabilities, save_keras_model
from movie_genres.models.mlp_numpy import NumpyMlp
from tests.models.test_mlp import PARAMS, _subsets


def test_a_saved_mlp_scores_as_keras_does(tmp_path):
    """Also when its layers' names got suffixes from models built before it (dense_7, ...)."""
    make_deterministic(0)
    train, val = _subsets()
    build_mlp(train.x, 2, PARAMS)
    model = build_mlp(train.x, 2, PARAMS)
    assert model.layers[-1].name != "dense_2"  # not the names Keras stores the weights under
    model.fit(train.x, train.y.astype(np.float32), epochs=3, batch_size=16, verbose=0)
    save_keras_model(model, tmp_path / "mlp.keras")
    np.testing.assert_allclose(
        NumpyMlp.load(tmp_path / "mlp.keras").predict(val.x), predict_probabilities(model, val.x), atol=1e-6
    )


def test_a_layer_it_does_not_compute_is_refused_with_the_engine_to_use(tmp_path):
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.BatchNormalization(), keras.layers.Dense(2)])
    model.save(tmp_path / "other.keras")
    with pytest.raises(NumpyEngineUnsupported, match=r"BatchNormalization layer.*--engine tensorflow"):
        NumpyMlp.load(tmp_path / "other.keras")
