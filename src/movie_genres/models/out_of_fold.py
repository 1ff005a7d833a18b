"""Out-of-fold scores: every movie of the training share (train and val) scored by a model fitted without it.

Each training stage refits its model, with the settings it chose, on k-1 folds of the training share and
scores the held-out fold. Decision thresholds and the stacked models learn from these scores: about 3,800
movies instead of the 380 validation movies, none of them seen by the model that scored it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from sklearn.model_selection import KFold
from sklearn.utils.parallel import Parallel, delayed

from movie_genres import paths
from movie_genres.models.predictions import Predictions, ScoreKind, save_predictions
from movie_genres.models.training import ModellingData, Subset

log = logging.getLogger(__name__)

# Fits a model on the first subset and returns its scores of the second (movies x genres); the int is
# the fold's number, for seeding.
FitAndScore = Callable[[Subset, Subset, int], np.ndarray]


def fold_rows(n_movies: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fitted rows, held-out rows) of each seeded fold."""
    return list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(np.zeros((n_movies, 1))))


def take(subset: Subset, rows: np.ndarray) -> Subset:
    return Subset(subset.movie_ids[rows], subset.x[rows], subset.y[rows])


def out_of_fold_scores(
    share: Subset, folds: list[tuple[np.ndarray, np.ndarray]], fit_and_score: FitAndScore, n_jobs: int = 1
) -> np.ndarray:
    """Every movie's score from the fold that held it out, in the share's row order.

    n_jobs > 1 (or -1) fits the folds in parallel processes (scikit-learn models); Keras models use 1.
    """
    results = Parallel(n_jobs=n_jobs)(
        delayed(fit_and_score)(take(share, fitted), take(share, held_out), fold)
        for fold, (fitted, held_out) in enumerate(folds)
    )
    scores = np.zeros((len(share.y), results[0].shape[1]), dtype=np.float64)
    for (_, held_out), fold_scores in zip(folds, results):
        scores[held_out] = fold_scores
    log.info("out-of-fold scores: %d movies, %d folds", len(share.y), len(folds))
    return scores


def write_out_of_fold(
    name: str, data: ModellingData, folds: int, seed: int, fit_and_score: FitAndScore, kind: ScoreKind, n_jobs: int = 1
) -> None:
    """Model `name`'s out-of-fold scores of the training share, to paths.out_of_fold_file(name)."""
    scores = out_of_fold_scores(data.share, fold_rows(len(data.share.y), folds, seed), fit_and_score, n_jobs)
    save_predictions(paths.out_of_fold_file(name), Predictions(data.share.movie_ids, scores, kind))
