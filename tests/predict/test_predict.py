"""`predict` end to end on the small trained profile: the same scores as the pipeline, clear errors."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.models.predictions import load_predictions
from movie_genres.predict.cli import main
from tests.dvc_repo import set_params

pytestmark = pytest.mark.e2e


@pytest.fixture
def trained(small_profile_repo, monkeypatch):
    monkeypatch.chdir(small_profile_repo)
    return small_profile_repo


def _predict(capsys, *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _a_test_movie(repo):
    dataset = read_table(repo / paths.DATASET)
    return dataset[dataset["subset"] == "test"].iloc[0]


def _scores(result: dict, genre_order: list[str]) -> np.ndarray:
    by_genre = {g["genre"]: g["score"] for g in result["genres"]}
    return np.array([by_genre[g] for g in genre_order])


def test_text_and_poster_models_reproduce_the_pipelines_scores(trained, capsys, tmp_path):
    movie = _a_test_movie(trained)
    genres = pd.read_csv(trained / paths.GENRES)["name"].tolist()
    with zipfile.ZipFile(trained / paths.POSTERS) as zf:
        (tmp_path / "poster.jpg").write_bytes(zf.read(f"{movie['movie_id']}.jpg"))
    for model, args in [
        ("text_mlp", ["--overview", movie["overview"]]),
        ("poster_mlp", ["--poster", str(tmp_path / "poster.jpg")]),
    ]:
        result = _predict(capsys, *args, "--model", model)
        stored = load_predictions(trained / paths.predictions_file(model)).rows(np.array([movie["movie_id"]]))[0]
        np.testing.assert_allclose(_scores(result, genres), stored, atol=2e-4)  # scores are printed rounded


def test_predict_describes_a_movie_as_the_models_were_trained_not_as_params_say_today(trained, capsys, tmp_path):
    """Changing the featurizers' params after training changes nothing: predict uses the settings the
    feature stages recorded, and a repro would retrain the models with the new ones anyway."""
    movie = _a_test_movie(trained)
    with zipfile.ZipFile(trained / paths.POSTERS) as zf:
        (tmp_path / "poster.jpg").write_bytes(zf.read(f"{movie['movie_id']}.jpg"))
    inputs = ["--overview", movie["overview"], "--title", movie["title"], "--poster", str(tmp_path / "poster.jpg")]
    models = ["text_mlp", "minilm_mlp", "poster_mlp"]
    before = {model: _predict(capsys, *inputs, "--model", model)["genres"] for model in models}
    params = trained / "params.yaml"
    original = params.read_text()
    set_params(
        trained,
        {
            ("embed_text", "text"): "overview",
            ("word_vectors", "lowercase"): False,
            ("vgg_extract", "efficientnet_lite0", "resize"): "stretch",
            ("vgg_extract", "efficientnet_lite0", "crop_fraction"): None,
        },
    )
    try:
        after = {model: _predict(capsys, *inputs, "--model", model)["genres"] for model in models}
    finally:
        params.write_text(original)
    assert after == before


def test_the_default_is_the_best_usable_model_by_validation_f1(trained, capsys, tmp_path):
    movie = _a_test_movie(trained)
    result = _predict(capsys, "--overview", movie["overview"], "--title", movie["title"])
    decisions = {
        p.name.removesuffix(".decision.json"): json.loads(p.read_text())
        for p in (trained / "models").glob("*.decision.json")
    }
    text_only = ["svm", "nb", "text_mlp", "minilm_mlp"]
    chosen = max(text_only, key=lambda m: decisions[m]["val_f1_micro"])
    assert result["model"] == chosen
    assert [g["score"] for g in result["genres"]] == sorted((g["score"] for g in result["genres"]), reverse=True)
    # Its scores are the pipeline's for this movie, and "predicted" applies the model's tuned thresholds.
    genres = pd.read_csv(trained / paths.GENRES)["name"].tolist()
    stored = load_predictions(trained / paths.predictions_file(chosen)).rows(np.array([movie["movie_id"]]))[0]
    np.testing.assert_allclose(_scores(result, genres), stored, atol=2e-4)
    thresholds = decisions[chosen]["thresholds"]
    assert {g["genre"] for g in result["genres"] if g["predicted"]} == {
        genre for genre, score in zip(genres, stored) if score >= thresholds[genre]
    }


def test_clear_errors(trained, capsys, tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    cases = [
        (["--overview", "   "], "the overview is empty"),
        (["--poster", str(tmp_path / "broken.jpg")], "is not a readable image"),
        (["--overview", "A heist.", "--model", "late_fusion"], "needs ['details', 'poster'] as well"),
        (["--overview", "A heist.", "--model", "no_such_model"], "run `dvc repro` (or `dvc pull`) first"),
    ]
    for args, message in cases:
        assert main(args) == 2
        assert message in capsys.readouterr().err


def test_a_missing_model_says_to_reproduce(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--overview", "A heist."]) == 2
    assert "no trained model in models/: run `dvc repro` (or `dvc pull`) first" in capsys.readouterr().err
