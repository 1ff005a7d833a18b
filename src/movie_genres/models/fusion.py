"""Late fusion: a weighted average of a text model's and a poster model's genre probabilities."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score

from movie_genres.models.predictions import Predictions


def fuse(text: Predictions, image: Predictions, text_weight: float) -> Predictions:
    """text_weight * text + (1 - text_weight) * image, on the movies both scored."""
    for name, predictions in (("text", text), ("image", image)):
        if predictions.kind != "probability":
            raise ValueError(f"late fusion needs probabilities, the {name} model gives {predictions.kind}s")
    ids = text.movie_ids
    scores = text_weight * text.scores + (1 - text_weight) * image.rows(ids)
    return Predictions(ids, scores, "probability")


def tune_text_weight(
    text: Predictions, image: Predictions, val_ids: np.ndarray, val_labels: np.ndarray, grid: np.ndarray
) -> tuple[float, float]:
    """The weight with the best micro-averaged average precision on the validation movies.

    Average precision judges the ranking of scores, so the weight is chosen before, and independent
    of, any decision threshold. Returns (weight, its validation average precision).
    """
    text_val, image_val = text.rows(val_ids), image.rows(val_ids)
    scores = [average_precision_score(val_labels, w * text_val + (1 - w) * image_val, average="micro") for w in grid]
    best = int(np.argmax(scores))
    return float(grid[best]), float(scores[best])
