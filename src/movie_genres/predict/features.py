"""The feature registry: for each feature file a model may be trained on, how to compute new movies' rows.

Each featurizer (the fitted bag of words, the detail featurizer, the word vectors, the MiniLM
encoder, the poster CNN) is loaded once per `Featurizers` (safely from several threads) and then
describes many movies at a time:
sparse transforms on all rows at once, MiniLM in batches of similar length, the CNN on stacked posters.
Its settings are the ones the feature stage recorded when the models were trained
(models/<features>.featurizer.json), not today's params.yaml.
The networks (MiniLM, the poster CNN) run on one of two engines: `tensorflow`, the pipeline's own
(the same bits as its feature files, fastest on many movies), or `numpy` (the same networks to float32
rounding, without importing TensorFlow: a one-movie call in a third of the time). TensorFlow is
imported only by the tensorflow engine's networks, when a model needs them.
"""

from __future__ import annotations

import importlib
import json
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel

from movie_genres import paths
from movie_genres.errors import NumpyEngineUnsupported
from movie_genres.parallel import LoadedOnce, usable_cores
from movie_genres.params import EmbedTextParams, VggExtractParams, WordVectorsParams
from movie_genres.predict.movie import ModelFilesError, MovieInput, PredictError, movies_frame

Settings = TypeVar("Settings", bound=BaseModel)

FIX = "run `dvc repro` (or `dvc pull`) to restore it"
Engine = Literal["tensorflow", "numpy"]
ENGINES: tuple[Engine, ...] = ("tensorflow", "numpy")


def model_file_error(path: Path, err: Exception | None = None) -> ModelFilesError:
    """The one-line error for a missing, corrupt or truncated file the pipeline wrote."""
    if err is None:
        return ModelFilesError(f"{path} is missing: run `dvc repro` (or `dvc pull`) first")
    reason = f"{type(err).__name__}: {err}".replace("\n", " ")
    if len(reason) > 160:
        reason = reason[:157] + "..."
    return ModelFilesError(f"{path} is corrupt or truncated ({reason}): {FIX}")


def load_pickle(path: Path) -> Any:
    if not path.is_file():
        raise model_file_error(path)
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception as err:  # unpickling a damaged file raises almost anything
        raise model_file_error(path, err) from None


def load_json(path: Path) -> Any:
    if not path.is_file():
        raise model_file_error(path)
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise model_file_error(path, err) from None


def trained_settings(features: Path, model: type[Settings]) -> Settings:
    """The settings `features` was computed with when the models were trained, not today's params.yaml:
    a new movie must be described exactly as the training movies were."""
    path = paths.featurizer_settings(features)
    try:
        return model.model_validate(load_json(path))
    except ValueError as err:  # pydantic's ValidationError
        raise model_file_error(path, err) from None


@dataclass
class FeatureRows:
    matrix: Any  # movies x columns, dense or sparse, in the order of the movies given
    no_known_word: np.ndarray | None = None  # bool per movie: the overview has no word this featurizer knows


_WORD = re.compile(r"\w+")


class Featurizers:
    """The fitted featurizers, each loaded on first use and kept; the networks on `engine`."""

    def __init__(self, engine: Engine = "tensorflow") -> None:
        self.engine = engine
        self._loaded: LoadedOnce[Any] = LoadedOnce()  # features compute on threads

    def _get(self, key: str, load: Callable[[], Any]) -> Any:
        return self._loaded.get(key, load)

    def _import(self, module: str) -> ModuleType:
        """A module that computing a feature needs, imported as a load (one at a time: see LoadedOnce)."""
        return self._get(f"module {module}", lambda: importlib.import_module(module))

    # --- scikit-learn featurizers ---------------------------------------------------------------

    def bag_of_words(self) -> Any:
        return self._get("bag_of_words", lambda: load_pickle(paths.model_file("bag_of_words")))

    def detail_featurizer(self) -> Any:
        return self._get("detail_featurizer", lambda: load_pickle(paths.model_file("detail_featurizer")))

    def unknown_to_training_words(self, movies: list[MovieInput]) -> np.ndarray:
        """Per movie: whether its overview has no word of the bag-of-words vocabulary, the words
        frequent in the training overviews (a text no model has seen the like of)."""
        counts = self.bag_of_words().counts(movies_frame(movies)["overview"])
        return np.diff(counts.indptr) == 0

    def counts(self, movies: list[MovieInput]) -> FeatureRows:
        matrix = self.bag_of_words().counts(movies_frame(movies)["overview"])
        return FeatureRows(matrix, np.diff(matrix.indptr) == 0)

    def tfidf(self, movies: list[MovieInput]) -> FeatureRows:
        bag = self.bag_of_words()
        counts = bag.counts(movies_frame(movies)["overview"])
        return FeatureRows(bag.tfidf_weighting.transform(counts).tocsr(), np.diff(counts.indptr) == 0)

    def details(self, movies: list[MovieInput]) -> FeatureRows:
        return FeatureRows(self.detail_featurizer().transform(movies_frame(movies)))

    def detail_blocks(self) -> set[str]:
        """The detail fields the fitted featurizer uses (a block can be off, or empty on tiny data)."""
        field_of = {
            "tagline": "tagline",
            "keyword": "keywords",
            "company": "companies",
            "year": "release_date",
            "runtime": "runtime",
        }
        return {field_of[name] for name, _ in self.detail_featurizer().blocks}

    # --- word vectors (gensim) ------------------------------------------------------------------

    def word_vectors(self, movies: list[MovieInput]) -> FeatureRows:
        word_vectors = self._import("movie_genres.features.word_vectors")
        params = self._get(
            "word_vectors_settings", lambda: trained_settings(paths.TEXT_WORD_VECTORS, WordVectorsParams)
        )
        vectors = self._get("word_vectors", lambda: word_vectors.load_word_vectors(params))
        means = word_vectors.mean_word_vectors(movies_frame(movies)["overview"], vectors, params.lowercase)
        return FeatureRows(means.matrix, means.no_known_word)

    # --- the networks ---------------------------------------------------------------------------

    def minilm_settings(self) -> EmbedTextParams:
        return self._get("minilm_settings", lambda: trained_settings(paths.TEXT_MINILM, EmbedTextParams))

    def encoder(self) -> Any:
        from movie_genres.features.sentence_encoder import find_model_dir

        params = self.minilm_settings()

        def load() -> Any:
            model_dir = find_model_dir(params.model_dir)
            if self.engine == "numpy":
                from movie_genres.features.minilm_numpy import NumpySentenceEncoder

                return NumpySentenceEncoder(model_dir)
            from movie_genres.features.sentence_encoder import SentenceEncoder

            return SentenceEncoder(model_dir, params.batch_size)

        return self._get("minilm", load)

    def _minilm_known_words(self) -> set[str]:
        """The whole words of MiniLM's vocabulary that carry meaning: no word pieces, letters, stop words."""

        def load() -> set[str]:
            from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

            from movie_genres.features.sentence_encoder import find_model_dir

            vocab = (find_model_dir(self.minilm_settings().model_dir) / "vocab.txt").read_text().split("\n")
            return {token for token in vocab if token.isalpha() and len(token) > 1} - ENGLISH_STOP_WORDS

        return self._get("minilm_known_words", load)

    def minilm(self, movies: list[MovieInput]) -> FeatureRows:
        from movie_genres.features.sentence_encoder import movie_texts

        encoder = self.encoder()
        frame = movies_frame(movies)
        rows = encoder.encode(movie_texts(frame, self.minilm_settings().text))  # first: others load meanwhile
        known = self._minilm_known_words()
        unknown = np.array(
            [not any(word in known for word in _WORD.findall(encoder.normalize(text))) for text in frame["overview"]]
        )
        return FeatureRows(rows, unknown)

    def cnn_settings(self) -> VggExtractParams:
        return self._get("cnn_settings", lambda: trained_settings(paths.POSTER_FEATURES, VggExtractParams))

    def cnn(self) -> Callable[[np.ndarray], np.ndarray]:
        """The poster CNN: on tensorflow padded to the pipeline's batch size (vgg_extract's arithmetic,
        one compiled shape); on numpy a poster at a time."""
        params = self.cnn_settings()

        def load() -> Callable[[np.ndarray], np.ndarray]:
            if self.engine == "numpy":
                from movie_genres.features.cnn_numpy import NumpyEfficientNetLite0
                from movie_genres.features.imagenet_weights import efficientnet_lite0_weights_file

                if params.backbone != "efficientnet_lite0":
                    raise NumpyEngineUnsupported(
                        f"the numpy engine computes the efficientnet_lite0 poster CNN, not {params.backbone}: "
                        "predict with --engine tensorflow"
                    )
                return NumpyEfficientNetLite0(efficientnet_lite0_weights_file()).features
            from movie_genres.features.cnn import build_backbone
            from movie_genres.keras_batches import predict_in_batches

            return predict_in_batches(build_backbone(params), params.batch_size)

        return self._get("cnn", load)

    def poster_cnn(self, movies: list[MovieInput]) -> FeatureRows:
        from movie_genres.features.poster_batches import poster_batches

        posters = [movie.poster for movie in movies if movie.poster is not None]
        if len(posters) < len(movies):
            raise PredictError("this model needs a poster: give --poster")
        params = self.cnn_settings()
        rows = []
        for _, matrix, unreadable in poster_batches(
            self.cnn(), enumerate(posters), params.image_input, params.batch_size, usable_cores()
        ):
            if unreadable or matrix is None:  # movie_from_mapping checks files; a MovieInput made in Python may not
                raise PredictError(f"a poster is not a readable image ({next(iter(unreadable.values()))})")
            rows.append(matrix)
        return FeatureRows(np.concatenate(rows).astype(np.float32))


@dataclass(frozen=True)
class Feature:
    needs: frozenset[str]  # the kinds of input it cannot do without: overview, poster, details
    compute: Callable[[Featurizers, list[MovieInput]], FeatureRows]
    vocabulary: str = ""  # what "a known word" means for it, for the no-known-word warning
    network: Callable[[Featurizers], object] | None = None  # loads its network, if it has one


TRAINING_WORDS = "the training overviews' vocabulary (bag of words)"


# Feature file -> what it needs and how to compute new movies' rows.
FEATURES: dict[str, Feature] = {
    str(paths.TEXT_COUNTS): Feature(frozenset({"overview"}), Featurizers.counts, TRAINING_WORDS),
    str(paths.TEXT_TFIDF): Feature(frozenset({"overview"}), Featurizers.tfidf, TRAINING_WORDS),
    str(paths.TEXT_WORD_VECTORS): Feature(frozenset({"overview"}), Featurizers.word_vectors, "the word vectors"),
    str(paths.DETAIL_FEATURES): Feature(frozenset({"details"}), Featurizers.details),
    str(paths.POSTER_FEATURES): Feature(frozenset({"poster"}), Featurizers.poster_cnn, network=Featurizers.cnn),
    str(paths.TEXT_MINILM): Feature(
        frozenset({"overview"}), Featurizers.minilm, "MiniLM's word list", network=Featurizers.encoder
    ),
}


def inputs_read(feature: str, featurizers: Featurizers) -> set[str]:
    """The input fields (INPUT_FIELDS) that `feature` reads of a movie, when given."""
    if feature == str(paths.DETAIL_FEATURES):
        return featurizers.detail_blocks()
    read = set(FEATURES[feature].needs)
    if feature == str(paths.TEXT_MINILM) and featurizers.minilm_settings().text == "title_overview":
        read.add("title")
    return read
