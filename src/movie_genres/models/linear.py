"""Classical one-vs-rest models on sparse features: linear SVM, logistic regression, naive Bayes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer
from sklearn.model_selection import KFold
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC
from sklearn.utils.parallel import Parallel, delayed

from movie_genres.features.store import StoredRows
from movie_genres.models.out_of_fold import FitAndScore
from movie_genres.models.predictions import ScoreKind
from movie_genres.params import LinearModelParams, TrainNbParams

log = logging.getLogger(__name__)

SCORE_CHUNK_ROWS = 50_000  # movies scored at a time when their features stay on disk

# The margin of a genre no training movie has: far below any fitted margin, so never predicted.
ABSENT_MARGIN = -1e6


class OneVsRestGenres(ClassifierMixin, BaseEstimator):
    """One binary `estimator` per genre, like scikit-learn's OneVsRestClassifier on a label matrix, except
    for a genre whose training movies are all negative (or all positive): that genre is not fitted and
    scores as never present (probability 0, margin ABSENT_MARGIN; the reverse for always present), with
    no warning. OneVsRestClassifier would warn "Label not N is present in all training examples" and give
    a margin of 0, which a margin > 0 rule reads as a tie. The columns stay one per genre.
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, x: Any, y: np.ndarray) -> OneVsRestGenres:
        y = np.asarray(y)
        positives = y.sum(axis=0)
        # per genre: nan where fitted, else the constant "present" value (0 or 1)
        self.classes_ = np.arange(y.shape[1])  # as OneVsRestClassifier's on a label matrix
        self.constant_ = np.where(positives == 0, 0.0, np.where(positives == len(y), 1.0, np.nan))
        self.estimators_ = [
            None if not np.isnan(self.constant_[j]) else clone(self.estimator).fit(x, y[:, j])
            for j in range(y.shape[1])
        ]
        return self

    def _columns(self, fitted: Callable[[Any], np.ndarray], absent: float, present: float, n: int) -> np.ndarray:
        return np.column_stack(
            [
                fitted(e) if e is not None else np.full(n, present if self.constant_[j] else absent)
                for j, e in enumerate(self.estimators_)
            ]
        )

    def predict_proba(self, x: Any) -> np.ndarray:
        return self._columns(lambda e: e.predict_proba(x)[:, 1], 0.0, 1.0, x.shape[0])

    def decision_function(self, x: Any) -> np.ndarray:
        return self._columns(lambda e: e.decision_function(x), ABSENT_MARGIN, -ABSENT_MARGIN, x.shape[0])

    def predict(self, x: Any) -> np.ndarray:
        """As OneVsRestClassifier: margin > 0 where the estimator has margins, else probability > 0.5."""

        def binary(e: Any) -> np.ndarray:
            if hasattr(e, "decision_function"):
                return e.decision_function(x) > 0
            return e.predict_proba(x)[:, 1] > 0.5

        return self._columns(binary, 0, 1, x.shape[0]).astype(int)


def log_absent_genres(y: np.ndarray, genre_names: Sequence[str] | None = None) -> list[int]:
    """One log line naming the genres no training movie has (they are skipped); returns their columns."""
    absent = [j for j in range(y.shape[1]) if not y[:, j].any()]
    if absent:
        names = [genre_names[j] if genre_names is not None else f"column {j}" for j in absent]
        log.info(
            "%d genre(s) without a training movie, not fitted and scored as never present: %s",
            len(absent),
            ", ".join(names),
        )
    return absent


def log_genres_missing_from_folds(
    y: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]], genre_names: Sequence[str] | None = None
) -> dict[int, int]:
    """One log line naming the genres that the training part of some folds lacks (though the training
    movies have them): skipped in those folds. Returns genre column -> number of such folds."""
    missing: dict[int, int] = {}
    for train, _ in folds:
        for j in np.flatnonzero(~y[train].any(axis=0) & y.any(axis=0)):
            missing[int(j)] = missing.get(int(j), 0) + 1
    if missing:
        log.info(
            "cross-validation: genre(s) without a training movie in some folds, not fitted there: %s",
            ", ".join(
                f"{genre_names[j] if genre_names is not None else f'column {j}'} ({n} of {len(folds)} folds)"
                for j, n in sorted(missing.items())
            ),
        )
    return missing


@dataclass
class GridSearch:
    model: OneVsRestGenres  # refitted with best_C on all the training movies
    best_C: float
    cv_score: float  # the mean cross-validated score at best_C
    cv_scores: np.ndarray  # C values x folds


def _fold_score(
    i: int, j: int, model: OneVsRestGenres, x: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray, scoring: str
) -> tuple[int, int, float, float]:
    """Candidate i fitted on fold j's training part and scored on its held-out part, and the seconds it took."""
    start = time.perf_counter()
    fitted = clone(model).fit(x[train], y[train])
    return i, j, float(get_scorer(scoring)(fitted, x[test], y[test])), time.perf_counter() - start


def cv_sample(n_movies: int, max_movies: int | None, seed: int) -> np.ndarray | None:
    """The rows a grid search cross-validates on: None for all `n_movies`, else a seeded sample of
    `max_movies` rows in their original order."""
    if max_movies is None or n_movies <= max_movies:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_movies, size=max_movies, replace=False))


def rows_in_memory(x: Any, rows: np.ndarray | None) -> Any:
    """These rows (all if None) of a matrix, or read from the feature files (`StoredRows`)."""
    if isinstance(x, StoredRows):
        return x.read() if rows is None else x.read(rows)
    return x if rows is None else x[rows]


def fitting_rows(x: Any, y: np.ndarray, max_movies: int | None, seed: int) -> tuple[Any, np.ndarray]:
    """The movies a model is fitted on: all, or beyond `max_movies` a seeded sample of that many."""
    sample = cv_sample(len(y), max_movies, seed)
    if sample is not None:
        log.info("fitted on %d of %d movies (fit_max_movies)", len(sample), len(y))
    return rows_in_memory(x, sample), y if sample is None else y[sample]


def grid_search_one_vs_rest(
    estimator: ClassifierMixin,
    x: sp.csr_matrix,
    y: np.ndarray,
    params: LinearModelParams,
    seed: int,
    genre_names: Sequence[str] | None = None,
) -> GridSearch:
    """One binary `estimator` per genre, its C chosen by seeded k-fold cross-validation.

    The same search as scikit-learn's GridSearchCV over `estimator__C` (same folds, scorer, tie-break
    and refit), run in parallel, with a log line as each fold finishes and as each C is complete.
    Beyond `params.cv_max_movies` training movies, the folds are cut from a seeded sample of that
    many: a liblinear fit's time grows faster than the number of movies (docs/scaling.md), and the
    search fits every C on every fold; the chosen C is refitted on all the training movies, or on a
    seeded sample of `params.fit_max_movies` of them (liblinear copies its input: the memory bound).
    `x` may be `StoredRows`: only the rows fitted on are read into memory.
    """
    log_absent_genres(y, genre_names)
    sample = cv_sample(len(y), params.cv_max_movies, seed)
    x_cv, y_cv = rows_in_memory(x, sample), y if sample is None else y[sample]
    if sample is not None:
        log.info("grid search on %d of the %d training movies (cv_max_movies)", len(sample), len(y))
    folds = list(KFold(n_splits=params.cv_folds, shuffle=True, random_state=seed).split(x_cv))
    log_genres_missing_from_folds(y_cv, folds, genre_names)
    candidates = [OneVsRestGenres(clone(estimator).set_params(C=c)) for c in params.C]
    tasks = [(i, j) for i in range(len(candidates)) for j in range(len(folds))]
    log.info("grid search: %d C values x %d folds = %d fits", len(candidates), len(folds), len(tasks))
    scores = np.full((len(candidates), len(folds)), np.nan)
    start = time.perf_counter()
    results = Parallel(n_jobs=-1, return_as="generator_unordered")(
        delayed(_fold_score)(i, j, candidates[i], x_cv, y_cv, *folds[j], params.scoring) for i, j in tasks
    )
    for done, (i, j, score, seconds) in enumerate(results, start=1):
        scores[i, j] = score
        log.info(
            "C=%g fold %d/%d: %s %.4f (fit %.1f s; %d/%d fits done, %.0f s)",
            params.C[i], j + 1, len(folds), params.scoring, score, seconds, done, len(tasks),
            time.perf_counter() - start,
        )  # fmt: skip
        if not np.isnan(scores[i]).any():
            log.info("C=%g: mean %s %.4f over %d folds", params.C[i], params.scoring, scores[i].mean(), len(folds))
    means = scores.mean(axis=1)
    best = int(np.argmax(means))  # the first of equal means, as GridSearchCV's ranking
    model = clone(candidates[best]).fit(*fitting_rows(x, y, params.fit_max_movies, seed))
    return GridSearch(model, params.C[best], float(means[best]), scores)


def train_linear_svm(
    x: sp.csr_matrix, y: np.ndarray, params: LinearModelParams, seed: int, genre_names: Sequence[str] | None = None
) -> GridSearch:
    """The tutorial's model. It used SVC(kernel="linear"); liblinear's LinearSVC fits the same kind of
    model (hinge loss, L2 penalty; it also penalises the intercept) many times faster, as
    bench/svm_speed.py measures on this data.
    """
    svm = LinearSVC(class_weight=params.class_weight, random_state=seed)
    return grid_search_one_vs_rest(svm, x, y, params, seed, genre_names)


def train_logistic_regression(
    x: sp.csr_matrix, y: np.ndarray, params: LinearModelParams, seed: int, genre_names: Sequence[str] | None = None
) -> GridSearch:
    """Like the SVM, but with calibrated-ish probabilities."""
    return grid_search_one_vs_rest(logistic_regression(params.class_weight, seed), x, y, params, seed, genre_names)


def logistic_regression(class_weight: str | None, seed: int, c: float = 1.0) -> LogisticRegression:
    """One genre's logistic regression as `train_logistic_regression` searches it (liblinear)."""
    return LogisticRegression(C=c, class_weight=class_weight, max_iter=2000, solver="liblinear", random_state=seed)


def train_multinomial_nb(
    x: sp.csr_matrix, y: np.ndarray, params: TrainNbParams, genre_names: Sequence[str] | None = None
) -> OneVsRestGenres:
    """One-vs-rest multinomial naive Bayes on word counts."""
    log_absent_genres(y, genre_names)
    return OneVsRestGenres(MultinomialNB(alpha=params.alpha)).fit(x, y)


def scores(model: OneVsRestGenres, kind: ScoreKind, x: Any) -> np.ndarray:
    """The model's per-genre scores: SVM margins or probabilities (of `StoredRows`, a chunk at a time)."""
    if isinstance(x, StoredRows):
        return np.concatenate([scores(model, kind, chunk) for chunk in x.chunks(SCORE_CHUNK_ROWS)])
    return model.decision_function(x) if kind == "margin" else model.predict_proba(x)


def refit_and_score(
    model: OneVsRestGenres, kind: ScoreKind, max_movies: int | None = None, seed: int = 0
) -> FitAndScore:
    """For out-of-fold scores: a fresh copy of `model` (same settings) fitted on a fold (at most
    `max_movies` of it, as `grid_search_one_vs_rest`'s refit), scoring another."""

    def fit_and_score(fit: Any, held_out: Any, fold: int) -> np.ndarray:
        return scores(clone(model).fit(*fitting_rows(fit.x, fit.y, max_movies, seed + fold)), kind, held_out.x)

    return fit_and_score
