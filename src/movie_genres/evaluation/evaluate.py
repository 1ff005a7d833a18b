"""Judging one model's predictions on the test movies under each decision rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movie_genres.evaluation.metrics import (
    micro_pr_curve,
    per_genre_table,
    summary,
    threshold_decision,
    top_k_decision,
    tune_thresholds,
)
from movie_genres.models.predictions import DEFAULT_THRESHOLD, Predictions

# The rule whose per-genre table and thresholds are reported in detail.
DETAILED_RULE = "tuned_thresholds"


@dataclass
class Evaluation:
    metrics: dict[str, dict[str, float]]  # rule -> metric -> value, on the test movies
    per_genre: pd.DataFrame  # per-genre precision/recall/F1 on the test movies, under DETAILED_RULE
    pr_curve: pd.DataFrame  # micro-averaged precision-recall curve on the test movies
    thresholds: np.ndarray  # the tuned per-genre thresholds
    val_f1_micro: float  # micro-F1 on the validation movies with those thresholds (what `predict` ranks by)


def evaluate(
    predictions: Predictions,
    val_ids: np.ndarray,
    val_labels: np.ndarray,
    test_ids: np.ndarray,
    test_labels: np.ndarray,
    genre_names: list[str],
    top_k: int,
    min_val_positives: int,
) -> Evaluation:
    """Three decision rules, all applied to the same test scores:

    - fixed_threshold: 0.5 for probabilities, 0 for SVM margins (each model's own `predict`);
    - top_k: the tutorial's k best genres per movie;
    - tuned_thresholds: per-genre thresholds that maximise F1 on the validation movies (genres with
      fewer than `min_val_positives` validation movies keep the fixed threshold).
    """
    default = DEFAULT_THRESHOLD[predictions.kind]
    test_scores, val_scores = predictions.rows(test_ids), predictions.rows(val_ids)
    thresholds = tune_thresholds(val_scores, val_labels, default, min_val_positives)
    decisions = {
        "fixed_threshold": threshold_decision(test_scores, default),
        "top_k": top_k_decision(test_scores, top_k),
        DETAILED_RULE: threshold_decision(test_scores, thresholds),
    }
    return Evaluation(
        metrics={rule: summary(test_labels, decision) for rule, decision in decisions.items()},
        per_genre=per_genre_table(test_labels, decisions[DETAILED_RULE], genre_names),
        pr_curve=micro_pr_curve(test_labels, test_scores),
        thresholds=thresholds,
        val_f1_micro=summary(val_labels, threshold_decision(val_scores, thresholds))["f1_micro"],
    )
