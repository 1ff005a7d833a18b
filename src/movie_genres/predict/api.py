"""Genres for a movie the pipeline has never seen, from a trained model.

Without a model name, the best model by validation micro-F1 among those the given inputs can feed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from movie_genres import paths
from movie_genres.features.store import join_columns
from movie_genres.models.predictions import DEFAULT_THRESHOLD
from movie_genres.models.training import ModelCard, load_card
from movie_genres.predict.features import FEATURES, pickled_model
from movie_genres.predict.movie import MovieInput, PredictError


def _card(name: str) -> ModelCard:
    if not paths.model_card(name).is_file():
        raise PredictError(f"model `{name}` is not trained here: run `dvc repro` (or `dvc pull`) first")
    return load_card(name)


def needed_inputs(card: ModelCard) -> set[str]:
    if card.components:
        return set().union(*(needed_inputs(_card(part)) for part in card.components))
    return set().union(*(FEATURES[f][0] for f in card.features))


def model_scores(card: ModelCard, movie: MovieInput) -> np.ndarray:
    """The model's per-genre scores for one movie."""
    if card.components:
        parts = [weight * model_scores(_card(part), movie) for part, weight in card.components.items()]
        return np.sum(parts, axis=0)
    x = join_columns([FEATURES[f][1](movie) for f in card.features])
    if card.artifact.endswith(".keras"):
        from movie_genres.models.mlp import load_keras_model, predict_probabilities

        return predict_probabilities(load_keras_model(Path(card.artifact)), x)[0]
    model = pickled_model(card.name)
    return (model.decision_function(x) if card.kind == "margin" else model.predict_proba(x))[0]


def _decision(name: str) -> dict:
    path = paths.model_decision(name)
    if not path.is_file():
        raise PredictError(f"{path} is missing: run `dvc repro` (or `dvc pull`) first")
    return json.loads(path.read_text())


def choose_model(movie: MovieInput, trained: list[str]) -> str:
    """The best model by validation micro-F1 whose inputs this movie has."""
    if not trained:
        raise PredictError(f"no trained model in {paths.MODELS}/: run `dvc repro` (or `dvc pull`) first")
    have = movie.available()
    usable = [name for name in trained if needed_inputs(_card(name)) <= have]
    if not usable:
        raise PredictError(f"no trained model can use only {sorted(have) or 'nothing'}: give an overview or a poster")
    return max(usable, key=lambda name: _decision(name)["val_f1_micro"])


def trained_models() -> list[str]:
    return sorted(p.name.removesuffix(".card.json") for p in paths.MODELS.glob("*.card.json"))


def predict(movie: MovieInput, model: str | None = None) -> dict:
    if movie.overview is not None and not movie.overview.strip():
        raise PredictError("the overview is empty: give the movie's plot summary")
    name = model or choose_model(movie, trained_models())
    card = _card(name)
    missing = needed_inputs(card) - movie.available()
    if missing:
        raise PredictError(f"model `{name}` needs {sorted(missing)} as well")
    scores = model_scores(card, movie)
    decision = _decision(name)
    genres = [
        {"genre": genre, "score": round(float(score), 4), "predicted": bool(score >= decision["thresholds"][genre])}
        for genre, score in zip(pd.read_csv(paths.GENRES)["name"], scores)
    ]
    genres.sort(key=lambda g: -g["score"])
    return {"model": name, "score_kind": card.kind, "default_threshold": DEFAULT_THRESHOLD[card.kind], "genres": genres}
