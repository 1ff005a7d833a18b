"""Poster features: each poster through a CNN backbone (`cnn`), one pooled vector per movie."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import movie_genres.tf_runtime  # noqa: F401  (before keras: quiet, machine-independent TensorFlow)

# isort: split
import keras
import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from movie_genres.data.posters import PosterArchive, describe_image_error
from movie_genres.features.store import Features
from movie_genres.params import ImageInputParams

log = logging.getLogger(__name__)

SKIPPED_COLUMNS = ["movie_id", "reason"]

_RESAMPLING = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def prepare_image(image: Image.Image, rule: ImageInputParams) -> np.ndarray:
    """An RGB image as the network's input: resized by the rule, normalised, float32 (H, W, 3)."""
    width, height = image.size
    box = None
    if rule.resize == "center_crop":
        side = min(width, height) * (rule.crop_fraction or 1.0)
        left, top = (width - side) / 2, (height - side) / 2
        box = (left, top, left + side, top + side)
    size = (rule.image_size, rule.image_size)
    resized = image.convert("RGB").resize(size, _RESAMPLING[rule.interpolation], box=box)
    pixels = (np.asarray(resized, np.float32) - np.asarray(rule.mean, np.float32)) / np.asarray(rule.std, np.float32)
    return pixels[..., ::-1] if rule.channel_order == "bgr" else pixels


def predict_in_batches(model: keras.Model, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a stack of inputs (at most `batch_size`) to the model's outputs.

    Every call runs on a full batch (short ones are padded with zeros and trimmed after), so the
    compiled graph sees a single input shape: one trace, and the same arithmetic on every run.
    """

    def predict(inputs: np.ndarray) -> np.ndarray:
        count = len(inputs)
        if count < batch_size:
            inputs = np.concatenate([inputs, np.zeros((batch_size - count, *inputs.shape[1:]), inputs.dtype)])
        return np.asarray(model.predict_on_batch(inputs))[:count]

    return predict


def _read_poster(archive: PosterArchive, movie_id: int) -> Image.Image | str:
    """The decoded poster, or why it cannot be had."""
    try:
        return archive.image(movie_id)
    except KeyError:
        return "not in the poster archive"
    except Exception as err:  # PIL raises many types for bad data
        return f"unreadable image: {describe_image_error(err)}"


def extract_features(
    model: keras.Model,
    archive_path: Path,
    movie_ids: np.ndarray,
    rule: ImageInputParams,
    batch_size: int,
    progress: bool = True,
) -> tuple[Features, pd.DataFrame]:
    """Features of every movie's poster, and the movies whose poster could not be read, with reasons.

    Unreadable posters are skipped, not fatal: one bad file must not cost a long run.
    """
    predict = predict_in_batches(model, batch_size)
    skipped: list[tuple[int, str]] = []
    kept_ids: list[int] = []
    rows: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    with PosterArchive(archive_path) as archive:
        for movie_id in tqdm(movie_ids.tolist(), desc="posters", unit="poster", disable=not progress):
            poster = _read_poster(archive, movie_id)
            if isinstance(poster, str):
                skipped.append((movie_id, poster))
                continue
            batch.append(prepare_image(poster, rule))
            kept_ids.append(movie_id)
            if len(batch) == batch_size:
                rows.append(predict(np.stack(batch)))
                batch.clear()
        if batch:
            rows.append(predict(np.stack(batch)))
    if skipped:
        log.warning("%d of %d posters could not be read and were skipped", len(skipped), len(movie_ids))
    matrix = np.concatenate(rows) if rows else np.zeros((0, model.output_shape[-1]), np.float32)
    features = Features(np.array(kept_ids, dtype=np.int64), matrix.astype(np.float32))
    return features, pd.DataFrame(skipped, columns=SKIPPED_COLUMNS)
