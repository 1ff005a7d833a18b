"""Genres for a movie the pipeline has never seen, from a trained model.

    python -m src.predict --overview "A young wizard ..." [--poster poster.jpg] [--model NAME] [--json]
    python -m src.predict --tmdb-id 603 | --tmdb-title "The Matrix"   (with TMDB_API_KEY: overview, details, poster)

Without --model, the best model by validation micro-F1 among those the given inputs can feed.
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from PIL import Image

from src import paths
from src.dataset import DETAIL_COLUMNS
from src.params import WordVectorsParams, load_section, read_params
from src.predictions import DEFAULT_THRESHOLD
from src.training import ModelCard, load_card


class PredictError(RuntimeError):
    """The inputs or the trained models do not allow a prediction; the message says what to do."""


@dataclass
class MovieInput:
    title: str = ""
    overview: str | None = None
    poster: Image.Image | None = None
    details: dict[str, Any] = field(default_factory=dict)  # tagline, keywords, companies, release_date, runtime

    def available(self) -> set[str]:
        have = set()
        if self.overview:
            have.add("overview")
        if self.poster is not None:
            have.add("poster")
        if self.details:
            have.add("details")
        return have


def read_poster(path: Path) -> Image.Image:
    try:
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            return image.convert("RGB")
    except FileNotFoundError:
        raise PredictError(f"poster {path} not found") from None
    except Exception as err:  # PIL raises many types for bad data
        raise PredictError(f"poster {path} is not a readable image: {err}") from None


def _frame(movie: MovieInput) -> pd.DataFrame:
    row = {**DETAIL_COLUMNS, "release_date": "", **movie.details, "title": movie.title, "overview": movie.overview or ""}
    return pd.DataFrame([row])


@cache
def _pickled(name: str) -> Any:
    path = paths.model_file(name)
    if not path.is_file():
        raise PredictError(f"{path} is missing: run `dvc repro` (or `dvc pull`) first")
    with open(path, "rb") as f:
        return pickle.load(f)


def _word_vectors_row(movie: MovieInput) -> np.ndarray:
    from src.word_vectors import load_word_vectors, mean_word_vectors

    params = load_section(read_params(), "word_vectors", WordVectorsParams)
    return mean_word_vectors(pd.Series([movie.overview]), load_word_vectors(params), params.lowercase).matrix


def _poster_row(movie: MovieInput) -> np.ndarray:
    from src.image_features import build_backbone, prepare_image
    from src.params import VggExtractParams

    params = load_section(read_params(), "vgg_extract", VggExtractParams)
    model = build_backbone(params)
    return np.asarray(model.predict_on_batch(prepare_image(movie.poster, params.image_input)[None]))


def _minilm_row(movie: MovieInput) -> np.ndarray:
    from src.params import EmbedTextParams
    from src.sentence_encoder import SentenceEncoder, find_model_dir, movie_texts

    params = load_section(read_params(), "embed_text", EmbedTextParams)
    encoder = SentenceEncoder(find_model_dir(params.model_dir), params.batch_size)
    return encoder.encode(movie_texts(_frame(movie), params.text))


# Feature file -> (the inputs it needs, how to compute its row for a new movie).
FEATURES: dict[str, tuple[set[str], Callable[[MovieInput], Any]]] = {
    str(paths.TEXT_COUNTS): ({"overview"}, lambda m: _pickled("bag_of_words").counts(_frame(m)["overview"])),
    str(paths.TEXT_TFIDF): ({"overview"}, lambda m: _pickled("bag_of_words").tfidf(_frame(m)["overview"])),
    str(paths.TEXT_WORD_VECTORS): ({"overview"}, _word_vectors_row),
    str(paths.DETAIL_FEATURES): ({"overview", "details"}, lambda m: _pickled("detail_featurizer").transform(_frame(m))),
    str(paths.POSTER_FEATURES): ({"poster"}, _poster_row),
    str(paths.TEXT_MINILM): ({"overview"}, _minilm_row),
}


def _card(name: str) -> ModelCard:
    if not paths.model_card(name).is_file():
        raise PredictError(f"model `{name}` is not trained here: run `dvc repro` (or `dvc pull`) first")
    return load_card(name)


def needed_inputs(card: ModelCard) -> set[str]:
    if card.components:
        return set().union(*(needed_inputs(_card(part)) for part in card.components))
    return set().union(*(FEATURES[f][0] for f in card.features))


def model_scores(card: ModelCard, movie: MovieInput) -> np.ndarray:
    """The model's per-genre scores for one movie."""
    if card.components:
        return sum(weight * model_scores(_card(part), movie) for part, weight in card.components.items())
    blocks = [FEATURES[f][1](movie) for f in card.features]
    x = sp.hstack(blocks).tocsr() if any(sp.issparse(b) for b in blocks) else np.hstack(blocks).astype(np.float32)
    if card.artifact.endswith(".keras"):
        from src.mlp import load_keras_model, predict_probabilities

        return predict_probabilities(load_keras_model(Path(card.artifact)), x)[0]
    model = _pickled(card.name)
    return (model.decision_function(x) if card.kind == "margin" else model.predict_proba(x))[0]


def _decision(name: str) -> dict:
    path = paths.model_decision(name)
    if not path.is_file():
        raise PredictError(f"{path} is missing: run `dvc repro` (or `dvc pull`) first")
    return json.loads(path.read_text())


def choose_model(movie: MovieInput, trained: list[str]) -> str:
    """The best model by validation micro-F1 whose inputs this movie has."""
    if not trained:
        raise PredictError(f"no trained model in {paths.MODELS}/: run `dvc repro` (or `dvc pull`) first")
    have = movie.available()
    usable = [name for name in trained if needed_inputs(_card(name)) <= have]
    if not usable:
        raise PredictError(f"no trained model can use only {sorted(have) or 'nothing'}: give an overview or a poster")
    return max(usable, key=lambda name: _decision(name)["val_f1_micro"])


def trained_models() -> list[str]:
    return sorted(p.name.removesuffix(".card.json") for p in paths.MODELS.glob("*.card.json"))


def predict(movie: MovieInput, model: str | None = None) -> dict:
    if movie.overview is not None and not movie.overview.strip():
        raise PredictError("the overview is empty: give the movie's plot summary")
    name = model or choose_model(movie, trained_models())
    card = _card(name)
    missing = needed_inputs(card) - movie.available()
    if missing:
        raise PredictError(f"model `{name}` needs {sorted(missing)} as well")
    scores = model_scores(card, movie)
    decision = _decision(name)
    genres = [
        {"genre": genre, "score": round(float(score), 4), "predicted": bool(score >= decision["thresholds"][genre])}
        for genre, score in zip(pd.read_csv(paths.GENRES)["name"], scores)
    ]
    genres.sort(key=lambda g: -g["score"])
    return {"model": name, "score_kind": card.kind, "default_threshold": DEFAULT_THRESHOLD[card.kind], "genres": genres}


def movie_from_tmdb(movie_id: int | None, title: str | None) -> MovieInput:
    """Overview, details and poster of a TMDB movie, by id or by the best title match."""
    from src.params import FetchListParams, FetchPostersParams, TmdbHttpParams
    from src.posters import check_downloaded_image
    from src.tmdb_client import detail_fields, open_tmdb

    raw = read_params()
    client = open_tmdb(load_section(raw, "fetch_list", FetchListParams).tmdb, load_section(raw, "tmdb_http", TmdbHttpParams))
    if movie_id is None:
        matches = [m for m in client.search(title or "") if isinstance(m.get("id"), int)]
        if not matches:
            raise PredictError(f"no TMDB movie matches {title!r}")
        movie_id = matches[0]["id"]
    answer = client.details(movie_id)
    poster = None
    if answer.get("poster_path"):
        base = client.poster_url_base(load_section(raw, "fetch_posters", FetchPostersParams).tmdb_poster_size)
        data = client.http.get_bytes(base + answer["poster_path"], check_downloaded_image)
        poster = Image.open(io.BytesIO(data)).convert("RGB")
    details = {**detail_fields(answer), "release_date": str(answer.get("release_date") or "")}
    return MovieInput(str(answer.get("title") or ""), str(answer.get("overview") or "") or None, poster, details)


def _movie_from_args(args: argparse.Namespace) -> MovieInput:
    if args.tmdb_id is not None or args.tmdb_title is not None:
        return movie_from_tmdb(args.tmdb_id, args.tmdb_title)
    overview = args.overview
    if args.overview_file is not None:
        overview = args.overview_file.read_text()
    poster = read_poster(args.poster) if args.poster else None
    return MovieInput(title=args.title or "", overview=overview, poster=poster)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--overview", help="the plot overview")
    text.add_argument("--overview-file", type=Path, help="a file holding the plot overview")
    parser.add_argument("--title", help="the movie's title (used where the text model embeds title + overview)")
    parser.add_argument("--poster", type=Path, help="a poster image")
    parser.add_argument("--tmdb-id", type=int, help="fetch overview, details and poster from TMDB (needs TMDB_API_KEY)")
    parser.add_argument("--tmdb-title", help="like --tmdb-id, for the best TMDB search match of this title")
    parser.add_argument("--model", help="a trained model's name (default: the best usable one)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        result = predict(_movie_from_args(args), args.model)
    except (RuntimeError, ValueError, FileNotFoundError) as err:  # PredictError, TMDB, credentials, params, model folder
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"model: {result['model']} ({result['score_kind']})")
        for g in result["genres"]:
            print(f"{'*' if g['predicted'] else ' '} {g['genre']:<16} {g['score']:.3f}")
        print("* predicted (per-genre thresholds tuned on the validation movies)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
