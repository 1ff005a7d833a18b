import numpy as np
import pytest

from src.mlp import build_mlp, make_deterministic, predict_probabilities, train_mlp
from src.params import MlpParams
from src.training import Subset

PARAMS = MlpParams(hidden_units=[32, 16], dropout=0.1, learning_rate=0.01, batch_size=16, max_epochs=30, patience=3)


def _subsets(seed: int = 0) -> tuple[Subset, Subset]:
    """Two genres that depend on the sign of two input features, plus noise features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    y = np.stack([x[:, 0] > 0, x[:, 1] > 0.5], axis=1).astype(np.int8)
    ids = np.arange(300)
    return Subset(ids[:240], x[:240], y[:240]), Subset(ids[240:], x[240:], y[240:])


def test_the_network_has_the_tutorials_shape():
    train, _ = _subsets()
    model = build_mlp(train.x, 2, PARAMS)
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert [layer.units for layer in dense] == [32, 16, 2]
    assert dense[-1].activation.__name__ == "sigmoid" and dense[0].activation.__name__ == "relu"


def test_training_learns_and_early_stopping_watches_validation():
    make_deterministic(0)
    train, val = _subsets()
    model = train_mlp(train, val, PARAMS)
    accuracy = ((predict_probabilities(model, val.x) > 0.5) == val.y).mean()
    assert accuracy > 0.85


def test_same_seed_same_model():
    train, val = _subsets()
    outputs = []
    for _ in range(2):
        make_deterministic(7)
        outputs.append(predict_probabilities(train_mlp(train, val, PARAMS), val.x))
    assert np.array_equal(outputs[0], outputs[1])
