import numpy as np
import pytest

from movie_genres.models.fusion import fuse, tune_text_weight
from movie_genres.models.predictions import Predictions


def _predictions(scores, kind="probability"):
    return Predictions(np.arange(len(scores)), np.asarray(scores, dtype=float), kind)


def test_fusion_is_the_weighted_average_by_movie_id():
    text = _predictions([[0.8, 0.2], [0.4, 0.6]])
    image = Predictions(np.array([1, 0]), np.array([[0.0, 1.0], [1.0, 0.0]]), "probability")  # other row order
    fused = fuse(text, image, 0.25)
    np.testing.assert_allclose(fused.scores, [[0.25 * 0.8 + 0.75, 0.25 * 0.2], [0.25 * 0.4, 0.25 * 0.6 + 0.75]])


def test_the_weight_follows_the_informative_model():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=(200, 3))
    informative = _predictions(labels * 0.6 + rng.uniform(0, 0.4, size=labels.shape))
    noise = _predictions(rng.uniform(size=labels.shape))
    ids = np.arange(200)
    weight, ap = tune_text_weight(informative, noise, ids, labels, np.linspace(0, 1, 11))
    assert weight >= 0.9 and ap > 0.95
    weight, _ = tune_text_weight(noise, informative, ids, labels, np.linspace(0, 1, 11))
    assert weight <= 0.1


def test_margins_are_refused():
    with pytest.raises(ValueError, match="needs probabilities, the text model gives margins"):
        fuse(_predictions([[1.0]], "margin"), _predictions([[0.5]]), 0.5)
