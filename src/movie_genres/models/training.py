"""What every training stage needs: features and labels per subset, and saving what it learned."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from movie_genres import paths
from movie_genres.data.dataset import label_matrix, read_table, subset_mask
from movie_genres.features.store import StoredRows, joined_bytes, read_rows
from movie_genres.files import atomic_path
from movie_genres.models.predictions import Predictions, ScoreKind, save_predictions


@dataclass
class Subset:
    movie_ids: np.ndarray
    x: Any  # dense array, sparse matrix, or StoredRows (dense rows left on disk)
    y: np.ndarray


@dataclass
class ModellingData:
    train: Subset
    val: Subset
    test: Subset
    evaluated: Subset  # validation and test movies together: the rows every model scores for `evaluate`
    share: Subset  # training and validation movies together: every movie a model may learn from
    genre_names: list[str] = field(default_factory=list)  # the label columns, in genres.csv order


def load_labels(
    genres_file: Path | IO[bytes] = paths.GENRES, dataset_file: Path | IO[bytes] = paths.DATASET
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The modelling table's ids, subsets and genres, its label matrix and the genre names (columns in
    genres.csv order). Only those columns: the texts and details would take ~1 KB a movie. From the
    pipeline's files, or from other ones' bytes (a past revision's, movie-genres compare)."""
    genres = pd.read_csv(genres_file)
    dataset = read_table(dataset_file, columns=["movie_id", "subset", "genre_ids"])
    return dataset, label_matrix(dataset["genre_ids"], genres["genre_id"].tolist()), genres["name"].tolist()


def labels_of(movie_ids: np.ndarray, dataset: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    """The label rows of these movies, in their order (`labels` has one row per `dataset` row)."""
    row = {movie_id: i for i, movie_id in enumerate(dataset["movie_id"].tolist())}
    return labels[[row[movie_id] for movie_id in movie_ids.tolist()]]


def load_modelling_data(*features_paths: Path, max_in_memory_bytes: int | None = None) -> ModellingData:
    """Features (several files are joined column-wise) and labels of the train, val and test movies.

    The features of all three are read once, as one matrix of train, then val, then test rows; each
    subset (and val + test, `evaluated`; train + val, `share`) is a range of its rows: a view of a dense
    matrix, not a copy. Features that would take more than `max_in_memory_bytes` stay on disk: the
    subsets' `x` are then `StoredRows`, read a batch or a sample at a time by whoever trains on them.
    """
    dataset, labels, genre_names = load_labels()
    train, val, test = (
        np.flatnonzero(subset_mask(dataset, "train")),
        np.flatnonzero(subset_mask(dataset, "val")),
        np.flatnonzero(subset_mask(dataset, "test")),
    )
    order = np.concatenate([train, val, test])
    ids = dataset["movie_id"].to_numpy()[order]
    on_disk = max_in_memory_bytes is not None and joined_bytes(features_paths, len(ids)) > max_in_memory_bytes
    x: Any = StoredRows(features_paths, ids) if on_disk else read_rows(features_paths, ids)
    y = labels[order]
    n_train, n_val = len(train), len(val)

    def subset(start: int, stop: int) -> Subset:
        return Subset(ids[start:stop], x[start:stop], y[start:stop])

    return ModellingData(
        train=subset(0, n_train),
        val=subset(n_train, n_train + n_val),
        test=subset(n_train + n_val, len(order)),
        evaluated=subset(n_train, len(order)),
        share=subset(0, n_train + n_val),
        genre_names=genre_names,
    )


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
