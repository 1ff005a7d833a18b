"""What every training stage needs: features and labels per subset, and saving what it learned."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movie_genres import paths
from movie_genres.data.dataset import SubsetName, label_matrix, read_table, subset_mask
from movie_genres.features.store import join_columns, load_features
from movie_genres.files import atomic_path
from movie_genres.models.predictions import Predictions, ScoreKind, save_predictions


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
    genre_names: list[str] = field(default_factory=list)  # the label columns, in genres.csv order

    @property
    def evaluated(self) -> Subset:
        """Validation and test movies together: the rows every model scores for `evaluate`."""
        return Subset(
            np.concatenate([self.val.movie_ids, self.test.movie_ids]),
            stack_rows(self.val.x, self.test.x),
            np.vstack([self.val.y, self.test.y]),
        )


def stack_rows(a: Any, b: Any) -> Any:
    """The rows of `b` under those of `a`, sparse or dense."""
    return sp.vstack([a, b]).tocsr() if sp.issparse(a) else np.vstack([a, b])


def load_labels() -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The modelling table, its label matrix and the genre names (columns in genres.csv order)."""
    genres = pd.read_csv(paths.GENRES)
    dataset = read_table(paths.DATASET)
    return dataset, label_matrix(dataset["genre_ids"], genres["genre_id"].tolist()), genres["name"].tolist()


def labels_of(movie_ids: np.ndarray, dataset: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    """The label rows of these movies, in their order (`labels` has one row per `dataset` row)."""
    row = {movie_id: i for i, movie_id in enumerate(dataset["movie_id"].tolist())}
    return labels[[row[movie_id] for movie_id in movie_ids.tolist()]]


def load_modelling_data(*features_paths: Path) -> ModellingData:
    """Features (several files are joined column-wise) and labels of the train, val and test movies."""
    dataset, labels, genre_names = load_labels()
    features = [load_features(path) for path in features_paths]

    def subset(name: SubsetName) -> Subset:
        mask = subset_mask(dataset, name)
        ids = dataset["movie_id"].to_numpy()[mask]
        return Subset(ids, join_columns([f.rows(ids) for f in features]), labels[mask])

    return ModellingData(subset("train"), subset("val"), subset("test"), genre_names)


def save_scores(name: str, data: ModellingData, scores: np.ndarray, kind: ScoreKind) -> None:
    save_predictions(paths.predictions_file(name), Predictions(data.evaluated.movie_ids, scores, kind))


@dataclass
class ModelCard:
    """What `predict` needs to know to run a trained model on a new movie."""

    name: str
    kind: ScoreKind
    artifact: str  # the saved model file
    features: list[str]  # the feature files it was trained on, joined column-wise in this order
    components: list[str] = field(default_factory=list)  # a stacked model: the models whose scores it reads


def save_card(card: ModelCard) -> None:
    with atomic_path(paths.model_card(card.name)) as partial:
        partial.write_text(json.dumps(asdict(card), indent=2) + "\n")
