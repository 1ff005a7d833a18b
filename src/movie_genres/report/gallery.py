"""The gallery's test movies: which to show, and which genres each model got right, missed or added."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Mark = Literal["hit", "false_positive", "miss"]
MARK_ORDER: tuple[Mark, ...] = ("hit", "false_positive", "miss")


@dataclass(frozen=True)
class GenreMark:
    genre: str
    mark: Mark


def threshold_vector(thresholds: dict[str, float], genre_names: list[str]) -> np.ndarray:
    """Per-genre thresholds (a model's decision file) in the order of the score columns."""
    missing = [genre for genre in genre_names if genre not in thresholds]
    if missing:
        raise ValueError(f"no threshold for {missing}")
    return np.array([thresholds[genre] for genre in genre_names])


def per_movie_f1(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Each movie's F1 over its genres: 2 |predicted ∩ true| / (|predicted| + |true|), 0 when both are empty."""
    hits = (labels & predicted).sum(axis=1)
    sizes = labels.sum(axis=1) + predicted.sum(axis=1)
    return np.divide(2 * hits, sizes, out=np.zeros(len(labels)), where=sizes > 0)


def best_and_worst(
    f1: np.ndarray, n_true: np.ndarray, popularity: np.ndarray, movie_ids: np.ndarray, n: int
) -> tuple[list[int], list[int]]:
    """Row positions of the `n` best and the `n` worst predicted movies, never the same movie twice.

    Ties are broken the same way every time: among equally good movies, those with more true genres
    first (a perfect Drama alone is easy), then the more popular (better known); among equally bad
    movies, the more popular; last, the smaller TMDB id.
    """
    best_order = np.lexsort((movie_ids, -popularity, -n_true, -f1))
    best = [int(i) for i in best_order[:n]]
    taken = set(best)
    worst_order = np.lexsort((movie_ids, -popularity, f1))
    worst = [int(i) for i in worst_order if int(i) not in taken][:n]
    return best, worst


def genre_marks(true_row: np.ndarray, predicted_row: np.ndarray, genre_names: list[str]) -> list[GenreMark]:
    """A movie's true and predicted genres marked: hits, then false positives, then misses (each in genre order)."""
    kind: dict[tuple[bool, bool], Mark] = {(True, True): "hit", (False, True): "false_positive", (True, False): "miss"}
    marks = [
        GenreMark(genre, kind[(bool(is_true), bool(is_predicted))])
        for genre, is_true, is_predicted in zip(genre_names, true_row, predicted_row)
        if is_true or is_predicted
    ]
    return sorted(marks, key=lambda m: MARK_ORDER.index(m.mark))
