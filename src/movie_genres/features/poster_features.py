"""Poster features: each poster through a CNN backbone (`cnn`), one pooled vector per movie."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import movie_genres.tf_runtime  # noqa: F401  (before keras: quiet, machine-independent TensorFlow)

# isort: split
import keras
import numpy as np
import pandas as pd
from tqdm import tqdm

from movie_genres import keras_batches
from movie_genres.data.posters import PosterArchive
from movie_genres.features import cnn, image_input, poster_batches
from movie_genres.features.feature_cache import (
    FeatureCache,
    arrays_digest,
    cached_row_chunks,
    code_digest,
    content_key,
    tensorflow_runtime,
)
from movie_genres.features.store import Features
from movie_genres.parallel import usable_cores
from movie_genres.params import ImageInputParams, VggExtractParams

log = logging.getLogger(__name__)

SKIPPED_COLUMNS = ["movie_id", "reason"]


def poster_fingerprint(model: keras.Model, params: VggExtractParams) -> dict[str, object]:
    """Everything besides the poster that decides its features: the feature cache's fingerprint.

    The batch size is in it: a poster's features are the same bits wherever it is in a batch of one
    size (every batch is full, see `keras_batches.predict_in_batches`), not always in a batch of
    another size.
    """
    return {
        "backbone": params.backbone,
        "weights": arrays_digest(model.get_weights()),
        "image_input": params.image_input.model_dump(),
        "batch_size": params.batch_size,
        "code": code_digest(cnn, image_input, poster_batches, keras_batches, sys.modules[__name__]),
        "runtime": tensorflow_runtime("pillow"),
    }


def extract_features(
    model: keras.Model,
    archive_path: Path,
    movie_ids: np.ndarray,
    rule: ImageInputParams,
    batch_size: int,
    cache: FeatureCache | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> tuple[Features, pd.DataFrame]:
    """`feature_chunks` of every movie's poster as one matrix, and the movies skipped, with reasons."""
    skipped: dict[int, str] = {}
    chunks = list(feature_chunks(model, archive_path, movie_ids, rule, batch_size, skipped, cache, workers, progress))
    if chunks:
        features = Features(np.concatenate([ids for ids, _ in chunks]), np.concatenate([rows for _, rows in chunks]))
    else:
        features = Features(np.zeros(0, np.int64), np.zeros((0, model.output_shape[-1]), np.float32))
    return features, skipped_table(movie_ids, skipped)


def feature_chunks(
    model: keras.Model,
    archive_path: Path,
    movie_ids: np.ndarray,
    rule: ImageInputParams,
    batch_size: int,
    skipped: dict[int, str],
    cache: FeatureCache | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Features of every movie's poster, a chunk of movies at a time (their ids, their rows, in
    `movie_ids` order): memory holds one chunk however many posters.

    Posters whose features `cache` has (by the poster's bytes) are not run again. `workers` batches run
    at once (default: one per CPU). Unreadable posters are
    skipped, not fatal (one bad file must not cost a long run): each is added to `skipped` with why.
    """
    workers = workers or usable_cores()
    ids = movie_ids.tolist()
    unread = len(skipped)
    with PosterArchive(archive_path) as archive:
        keys: dict[int, str] = {}
        for movie_id in ids:
            try:
                keys[movie_id] = content_key(archive.read(movie_id))
            except KeyError:
                skipped[movie_id] = "not in the poster archive"
        in_archive = [movie_id for movie_id in ids if movie_id in keys]

        def compute(positions: list[int]) -> tuple[list[int], np.ndarray]:
            posters = ((position, archive.read(in_archive[position])) for position in positions)
            done, rows, unreadable = run_network(model, posters, len(positions), rule, batch_size, workers, progress)
            skipped.update({in_archive[position]: reason for position, reason in unreadable.items()})
            return done, rows

        dimension = model.output_shape[-1]
        for kept, rows in cached_row_chunks(cache, [keys[m] for m in in_archive], compute, dimension):
            yield np.array([in_archive[position] for position in kept], dtype=np.int64), rows
    if len(skipped) > unread:
        log.warning("%d of %d posters could not be read and were skipped", len(skipped) - unread, len(ids))


def skipped_table(movie_ids: np.ndarray, skipped: dict[int, str]) -> pd.DataFrame:
    """The movies whose poster gave no features and why, in `movie_ids` order."""
    reasons = [(movie_id, skipped[movie_id]) for movie_id in movie_ids.tolist() if movie_id in skipped]
    return pd.DataFrame(reasons, columns=SKIPPED_COLUMNS)


def run_network(
    model: keras.Model,
    posters: Iterable[tuple[int, bytes]],
    count: int,
    rule: ImageInputParams,
    batch_size: int,
    workers: int,
    progress: bool,
) -> tuple[list[int], np.ndarray, dict[int, str]]:
    """Features of the `count` (position, file) posters: the positions read, their rows, the others' reasons.

    `workers` batches run at once, each decoded, resized and run on a thread of its own
    (`poster_batches`). Files are read as they are needed: memory stays flat.
    """
    predict = keras_batches.predict_in_batches(model, batch_size)
    done: list[int] = []
    rows: list[np.ndarray] = []
    unreadable: dict[int, str] = {}
    with tqdm(total=count, desc="posters", unit="poster", disable=not progress) as bar:
        for positions, matrix, reasons in poster_batches.poster_batches(predict, posters, rule, batch_size, workers):
            done += positions
            rows += [] if matrix is None else [matrix]
            unreadable |= reasons
            bar.update(len(positions) + len(reasons))
    matrix = np.concatenate(rows) if rows else np.zeros((0, model.output_shape[-1]), np.float32)
    return done, matrix, unreadable
