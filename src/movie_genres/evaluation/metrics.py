"""Multi-label metrics: the tutorial's per-movie precision and recall, F1s, decision rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)


def per_movie_precision_recall(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float]:
    """The tutorial's metric, averaged over movies (scikit-learn's samples average).

    precision = |predicted ∩ true| / |predicted| (0 when nothing is predicted),
    recall = |predicted ∩ true| / |true| (0 for a movie without true genres).
    """
    precision = precision_score(y_true, y_pred, average="samples", zero_division=0)
    recall = recall_score(y_true, y_pred, average="samples", zero_division=0)
    return float(precision), float(recall)


def summary(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    precision, recall = per_movie_precision_recall(y_true, y_pred)
    scores = {"per_movie_precision": precision, "per_movie_recall": recall}
    for average in ("samples", "micro", "macro", "weighted"):
        scores[f"f1_{average}"] = float(f1_score(y_true, y_pred, average=average, zero_division=0))
    return {name: round(value, 4) for name, value in scores.items()}


def per_genre_table(y_true: np.ndarray, y_pred: np.ndarray, genre_names: list[str]) -> pd.DataFrame:
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    return pd.DataFrame(
        {"genre": genre_names, "precision": precision, "recall": recall, "f1": f1, "support": support}
    ).round(4)


def top_k_decision(scores: np.ndarray, k: int) -> np.ndarray:
    """The tutorial's rule: each movie gets its k highest-scoring genres."""
    k = min(k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    decision = np.zeros(scores.shape, dtype=np.int8)
    np.put_along_axis(decision, top, 1, axis=1)
    return decision


def tune_thresholds(scores: np.ndarray, y_true: np.ndarray, default: float, min_positives: int = 1) -> np.ndarray:
    """Per genre, the score threshold that maximises that genre's F1 on the given (out-of-fold) rows.

    A genre with fewer than `min_positives` positive movies there keeps `default`: a threshold fitted
    to a handful of movies would mostly fit noise.
    """
    return np.array(
        [_best_threshold(scores[:, j], y_true[:, j], default, min_positives) for j in range(scores.shape[1])]
    )


def _best_threshold(scores: np.ndarray, positive: np.ndarray, default: float, min_positives: int) -> float:
    n_positive = int(positive.sum())
    if n_positive < max(1, min_positives):
        return default
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_positive = scores[order], positive[order]
    true_pos = np.cumsum(sorted_positive)
    predicted = np.arange(1, len(scores) + 1)
    f1 = 2 * true_pos / (predicted + n_positive)
    # Only cut between distinct scores: a threshold predicts every movie scoring at least it.
    distinct = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    best = int(np.argmax(np.where(distinct, f1, -1.0)))
    return float(sorted_scores[best])


def micro_pr_curve(y_true: np.ndarray, scores: np.ndarray, max_points: int = 200) -> pd.DataFrame:
    """The micro-averaged precision-recall curve, thinned to at most `max_points` points."""
    precision, recall, _ = precision_recall_curve(y_true.ravel(), scores.ravel())
    keep = np.unique(np.linspace(0, len(precision) - 1, min(max_points, len(precision))).astype(int))
    return pd.DataFrame({"recall": recall[keep], "precision": precision[keep]}).round(4)
