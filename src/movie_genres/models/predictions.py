"""Model outputs on disk: per-genre scores for the validation and test movies.

Every training stage writes one such file, so `evaluate` treats scikit-learn and Keras models alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import numpy as np

from movie_genres.files import atomic_path

ScoreKind = Literal["probability", "margin"]

# The score above which a genre is predicted when no rule was tuned.
DEFAULT_THRESHOLD = {"probability": 0.5, "margin": 0.0}


def threshold_decision(scores: np.ndarray, thresholds: np.ndarray | float) -> np.ndarray:
    return (scores >= thresholds).astype(np.int8)


def at_least_one_genre(scores: np.ndarray, thresholds: np.ndarray | float) -> np.ndarray:
    """Genres whose score reaches their threshold; a movie with none gets the genre that comes closest
    (the highest score minus threshold): every movie has a genre, and "no genre" is never an answer."""
    decision = threshold_decision(scores, thresholds)
    empty = np.flatnonzero(decision.sum(axis=1) == 0)
    closest = np.argmax((scores - thresholds)[empty], axis=1)
    decision[empty, closest] = 1
    return decision


@dataclass
class Predictions:
    movie_ids: np.ndarray
    scores: np.ndarray  # movies x genres, columns in genres.csv order
    kind: ScoreKind

    def rows(self, movie_ids: np.ndarray) -> np.ndarray:
        position = {movie_id: i for i, movie_id in enumerate(self.movie_ids.tolist())}
        return self.scores[[position[m] for m in movie_ids.tolist()]]


def save_predictions(path: Path, predictions: Predictions) -> None:
    with atomic_path(path) as partial, open(partial, "wb") as f:
        np.savez(f, movie_ids=predictions.movie_ids, scores=predictions.scores, kind=predictions.kind)


def load_predictions(path: Path | IO[bytes]) -> Predictions:
    with np.load(path) as npz:
        return Predictions(npz["movie_ids"], npz["scores"], str(npz["kind"]))  # type: ignore[arg-type]
