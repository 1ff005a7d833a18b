"""The feature registry: for each feature file a model may be trained on, how to compute a new movie's row."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from movie_genres import paths
from movie_genres.params import EmbedTextParams, VggExtractParams, WordVectorsParams
from movie_genres.predict.movie import MovieInput, PredictError

Settings = TypeVar("Settings", bound=BaseModel)


@cache
def pickled_model(name: str) -> Any:
    path = paths.model_file(name)
    if not path.is_file():
        raise PredictError(f"{path} is missing: run `dvc repro` (or `dvc pull`) first")
    with open(path, "rb") as f:
        return pickle.load(f)


def trained_settings(features: Path, model: type[Settings]) -> Settings:
    """The settings `features` was computed with when the models were trained, not today's params.yaml:
    a new movie must be described exactly as the training movies were."""
    path = paths.featurizer_settings(features)
    if not path.is_file():
        raise PredictError(f"{path} is missing: run `dvc repro` (or `dvc pull`) first")
    return model.model_validate(json.loads(path.read_text()))


def _word_vectors_row(movie: MovieInput) -> np.ndarray:
    from movie_genres.features.word_vectors import load_word_vectors, mean_word_vectors

    params = trained_settings(paths.TEXT_WORD_VECTORS, WordVectorsParams)
    return mean_word_vectors(pd.Series([movie.overview]), load_word_vectors(params), params.lowercase).matrix


def _poster_row(movie: MovieInput) -> np.ndarray:
    from movie_genres.features.cnn import build_backbone
    from movie_genres.features.poster_features import prepare_image

    if movie.poster is None:
        raise PredictError("this model needs a poster: give --poster")
    params = trained_settings(paths.POSTER_FEATURES, VggExtractParams)
    model = build_backbone(params)
    return np.asarray(model.predict_on_batch(prepare_image(movie.poster, params.image_input)[None]))


def _minilm_row(movie: MovieInput) -> np.ndarray:
    from movie_genres.features.sentence_encoder import SentenceEncoder, find_model_dir, movie_texts

    params = trained_settings(paths.TEXT_MINILM, EmbedTextParams)
    encoder = SentenceEncoder(find_model_dir(params.model_dir), params.batch_size)
    return encoder.encode(movie_texts(movie.frame(), params.text))


# Feature file -> (the inputs it needs, how to compute its row for a new movie).
FEATURES: dict[str, tuple[set[str], Callable[[MovieInput], Any]]] = {
    str(paths.TEXT_COUNTS): ({"overview"}, lambda m: pickled_model("bag_of_words").counts(m.frame()["overview"])),
    str(paths.TEXT_TFIDF): ({"overview"}, lambda m: pickled_model("bag_of_words").tfidf(m.frame()["overview"])),
    str(paths.TEXT_WORD_VECTORS): ({"overview"}, _word_vectors_row),
    str(paths.DETAIL_FEATURES): (
        {"overview", "details"},
        lambda m: pickled_model("detail_featurizer").transform(m.frame()),
    ),
    str(paths.POSTER_FEATURES): ({"poster"}, _poster_row),
    str(paths.TEXT_MINILM): ({"overview"}, _minilm_row),
}
