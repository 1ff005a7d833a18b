"""What every training stage needs: features and labels per subset, and saving what it learned."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from src import paths
from src.dataset import label_matrix, read_table
from src.features_io import load_features
from src.predictions import Predictions, ScoreKind, save_predictions


@dataclass
class Subset:
    movie_ids: np.ndarray
    x: Any  # dense array or sparse matrix
    y: np.ndarray


@dataclass
class ModellingData:
    train: Subset
    val: Subset
    test: Subset
    genre_names: list[str]

    @property
    def evaluated(self) -> Subset:
        """Validation and test movies together: the rows every model scores for `evaluate`."""
        return Subset(
            np.concatenate([self.val.movie_ids, self.test.movie_ids]),
            _stack(self.val.x, self.test.x),
            np.vstack([self.val.y, self.test.y]),
        )


def _stack(a: Any, b: Any) -> Any:
    import scipy.sparse as sp

    return sp.vstack([a, b]).tocsr() if sp.issparse(a) else np.vstack([a, b])


def load_labels() -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The modelling table, its label matrix and the genre names (columns in genres.csv order)."""
    genres = pd.read_csv(paths.GENRES)
    dataset = read_table(paths.DATASET)
    return dataset, label_matrix(dataset["genre_ids"], genres["genre_id"].tolist()), genres["name"].tolist()


def load_modelling_data(features_path: Path) -> ModellingData:
    dataset, labels, genre_names = load_labels()
    features = load_features(features_path)

    def subset(name: str) -> Subset:
        mask = (dataset["subset"] == name).to_numpy()
        ids = dataset["movie_id"].to_numpy()[mask]
        return Subset(ids, features.rows(ids), labels[mask])

    return ModellingData(subset("train"), subset("val"), subset("test"), genre_names)


def save_model(name: str, model: Any) -> None:
    path = paths.model_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(model, f)


def save_scores(name: str, data: ModellingData, scores: np.ndarray, kind: ScoreKind) -> None:
    save_predictions(paths.predictions_file(name), Predictions(data.evaluated.movie_ids, scores, kind))
