"""Stacked models: per genre, a logistic regression on several models' scores of every genre.

The stacker learns from the models' out-of-fold scores of the training share, so it weighs each model
by how well it does on movies it has not seen; reading every genre's score lets genres that go
together (Animation and Family, Crime and Thriller) inform each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from movie_genres.models.linear import OneVsRestGenres
from movie_genres.models.out_of_fold import fold_rows
from movie_genres.models.predictions import Predictions, ScoreKind


def build_stacker(C: float, seed: int) -> OneVsRestGenres:
    """One standardised, L2-penalised logistic regression per genre."""
    return OneVsRestGenres(make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed)))


def stacked_inputs(parts: Sequence[Predictions], movie_ids: np.ndarray) -> np.ndarray:
    """The models' scores of these movies side by side, movies x (models x genres), as a stacker reads them."""
    return np.hstack([stacker_input(part.rows(movie_ids), part.kind) for part in parts])


def stacker_input(scores: np.ndarray, kind: ScoreKind) -> np.ndarray:
    """One model's scores as a stacker reads them: probabilities as log-odds (clipped at ±LOGIT_LIMIT),
    the scale a logistic regression adds evidence on; margins as they are."""
    return _log_odds(scores) if kind == "probability" else scores


# Naive Bayes gives probabilities of 1e-30: their log-odds are clipped so no single movie dominates a fit.
LOGIT_LIMIT = 10.0


def _log_odds(probabilities: np.ndarray) -> np.ndarray:
    p = np.clip(probabilities, 1 / (1 + np.exp(LOGIT_LIMIT)), 1 / (1 + np.exp(-LOGIT_LIMIT)))
    return np.log(p / (1 - p))


@dataclass
class Stack:
    model: OneVsRestGenres  # fitted on every movie of the training share
    out_of_fold: np.ndarray  # its own out-of-fold scores of the training share, for its thresholds
    scores: np.ndarray  # its scores of the evaluated movies, from the models' final scores


def fit_stack(
    out_of_fold: Sequence[Predictions],
    final: Sequence[Predictions],
    share_ids: np.ndarray,
    share_labels: np.ndarray,
    evaluated_ids: np.ndarray,
    C: float,
    folds: int,
    seed: int,
) -> Stack:
    """Fit on the models' out-of-fold scores of the training share; score the evaluated movies from the
    models' final scores. The stacker's own out-of-fold scores come from refitting it on k-1 folds."""
    x = stacked_inputs(out_of_fold, share_ids)
    stacker = build_stacker(C, seed)
    own = np.zeros(share_labels.shape)
    # One BLAS thread: the fits are small (~130 columns), and OpenBLAS splitting each product over
    # threads cost more than it saved at every size measured, 10,000 to 640,000 movies (bench/stack_fit.py).
    with threadpool_limits(limits=1, user_api="blas"):
        for fitted, held_out in fold_rows(len(share_ids), folds, seed):
            own[held_out] = clone(stacker).fit(x[fitted], share_labels[fitted]).predict_proba(x[held_out])
        model = stacker.fit(x, share_labels)
        return Stack(model, own, model.predict_proba(stacked_inputs(final, evaluated_ids)))
