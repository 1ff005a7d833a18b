import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from movie_genres.features.store import Features, StoredRows, save_features
from movie_genres.models.mlp import (
    build_mlp,
    load_keras_model,
    make_deterministic,
    predict_probabilities,
    refit_mlp,
    save_keras_model,
    train_mlp,
)
from movie_genres.models.out_of_fold import fold_rows, out_of_fold_scores
from movie_genres.models.training import Subset
from movie_genres.params import MlpParams
from tests.conftest import ROOT

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


def test_training_learns():
    make_deterministic(0)
    train, val = _subsets()
    model, _ = train_mlp(train, val, PARAMS)
    accuracy = ((predict_probabilities(model, val.x) > 0.5) == val.y).mean()
    assert accuracy > 0.85


def test_early_stopping_stops_on_validation_loss_and_keeps_the_best_epoch():
    """A learning rate that overfits fast: training ends `patience` epochs after the best validation
    loss, long before max_epochs, and the returned model is the best epoch's, not the last one's."""
    make_deterministic(0)
    train, val = _subsets()
    params = PARAMS.model_copy(update={"learning_rate": 0.05, "max_epochs": 200, "patience": 3, "dropout": 0.0})
    history = keras.callbacks.History()
    model, epochs = train_mlp(train, val, params, callbacks=[history])
    val_losses = history.history["val_loss"]
    best = int(np.argmin(val_losses))
    assert len(val_losses) == best + 1 + params.patience < params.max_epochs
    assert epochs == best + 1  # what the out-of-fold MLPs train for
    final_val_loss = model.evaluate(val.x, val.y.astype(np.float32), verbose=0)
    assert final_val_loss == pytest.approx(val_losses[best], rel=1e-5)
    assert final_val_loss < val_losses[-1]


def _stored(subset: Subset, path) -> Subset:
    save_features(path, Features(subset.movie_ids, subset.x))
    return Subset(subset.movie_ids, StoredRows([path], subset.movie_ids), subset.y)


def test_training_from_rows_on_disk_learns_and_is_seeded(tmp_path):
    """The inputs left in the feature files (training_input.max_in_memory_mib exceeded): tf.data batches
    read as needed, shuffled each epoch; the model learns as from memory, and one seed gives one model."""
    train, val = _subsets()
    train, val = _stored(train, tmp_path / "train.npz"), _stored(val, tmp_path / "val.npz")
    outputs = []
    for _ in range(2):
        make_deterministic(7)
        model, epochs = train_mlp(train, val, PARAMS)
        outputs.append(predict_probabilities(model, val.x))
    assert ((outputs[0] > 0.5) == val.y).mean() > 0.85
    np.testing.assert_array_equal(outputs[0], outputs[1])
    np.testing.assert_array_equal(outputs[0], predict_probabilities(model, val.x.read()))  # scored in order
    folds = fold_rows(len(train.y), 3, seed=0)
    scores = out_of_fold_scores(train, folds, refit_mlp(PARAMS, epochs, seed=0))
    assert scores.shape == train.y.shape and ((scores > 0.5) == train.y).mean() > 0.8


def test_same_seed_same_model():
    train, val = _subsets()
    outputs = []
    for _ in range(2):
        make_deterministic(7)
        outputs.append(predict_probabilities(train_mlp(train, val, PARAMS)[0], val.x))
    assert np.array_equal(outputs[0], outputs[1])


def test_a_saved_model_has_the_same_bytes_every_time(tmp_path):
    """Keras stamps `.keras` archives with the time; the saved archive must not change with it."""
    make_deterministic(0)
    train, val = _subsets()
    model, _ = train_mlp(train, val, PARAMS.model_copy(update={"max_epochs": 2}))
    first, second = tmp_path / "first.keras", tmp_path / "second.keras"
    save_keras_model(model, first)
    time.sleep(1.1)  # zip timestamps have a 2-second resolution: cross one boundary at least
    save_keras_model(model, second)
    time.sleep(1.1)
    save_keras_model(model, first)
    assert first.read_bytes() == second.read_bytes()
    reloaded = load_keras_model(second)
    assert np.array_equal(predict_probabilities(reloaded, val.x), predict_probabilities(model, val.x))


TRAIN_AND_SAVE = """
import sys
from pathlib import Path
from movie_genres.models.mlp import make_deterministic, save_keras_model, train_mlp
from tests.models.test_mlp import PARAMS, _subsets
make_deterministic(0)
train, val = _subsets()
save_keras_model(train_mlp(train, val, PARAMS.model_copy(update={"max_epochs": 2}))[0], Path(sys.argv[1]))
"""


def test_training_and_saving_in_two_processes_gives_the_same_bytes(tmp_path):
    """As two runs of a training stage: Keras marks shared objects by their memory address, new in
    every process; the saved archive must not depend on it."""
    archives = [tmp_path / "first.keras", tmp_path / "second.keras"]
    for archive in archives:
        subprocess.run([sys.executable, "-c", TRAIN_AND_SAVE, str(archive)], cwd=ROOT, check=True, capture_output=True)
    assert archives[0].read_bytes() == archives[1].read_bytes()


def test_out_of_fold_mlps_train_for_the_given_epochs_and_are_seeded():
    """Each fold's MLP trains `epochs` epochs on the other folds (no validation movies) and scores the
    held-out fold; the same seed gives the same scores."""
    train, _ = _subsets()
    folds = fold_rows(len(train.y), 3, seed=0)
    fit_and_score = refit_mlp(PARAMS, epochs=3, seed=5)
    scores = out_of_fold_scores(train, folds, fit_and_score)
    assert scores.shape == train.y.shape and (scores > 0).all()
    fitted, held_out = folds[1]
    keras.utils.set_random_seed(5 + 1 + 1)
    model = build_mlp(train.x[fitted], train.y.shape[1], PARAMS)
    history = model.fit(
        train.x[fitted], train.y[fitted].astype(np.float32), epochs=3, batch_size=PARAMS.batch_size, verbose=0
    )
    assert len(history.epoch) == 3
    np.testing.assert_array_equal(scores[held_out], predict_probabilities(model, train.x[held_out]))
    np.testing.assert_array_equal(out_of_fold_scores(train, folds, fit_and_score), scores)
