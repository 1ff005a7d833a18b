"""Everything the results page shows, read from the pipeline's outputs into plain values.

The only module of the report that opens files; the rest builds the page from what it returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movie_genres import paths
from movie_genres.data.dataset import label_matrix, read_table, subset_mask
from movie_genres.evaluation.default_models import INPUTS
from movie_genres.files import file_digest
from movie_genres.models.predictions import load_predictions
from movie_genres.predict.api import Predictor

# The decision rules `evaluate` judges every model under, in the order the page lists them.
RULES = ("fixed_threshold", "top_k", "tuned_thresholds")
# The figures of each rule the leaderboard shows, in its column order.
FIGURES = ("f1_micro", "f1_samples", "f1_macro", "per_movie_precision", "per_movie_recall")
# The PNGs of `genre_analysis` the page embeds, in its order.
GENRE_PLOTS = ("genre_coclusters.png", "genre_cooccurrence.png")
# The params sections training stages share; each model's own section is `train_<model>` or `stack`
# (tests/evaluation/test_report.py checks that no training stage reads another).
SHARED_TRAINING_PARAMS = ("seed", "out_of_fold", "training_input")


@dataclass(frozen=True)
class Figure:
    """One test figure and, where the evaluation gives one, its bootstrap interval."""

    value: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Breakdown:
    """A model's test figures under every decision rule."""

    predict_rule: str  # the rule `predict` uses (its tuned thresholds, models/decisions/<model>.json)
    rules: dict[str, dict[str, Figure]]  # rule -> figure name -> figure
    bootstrap: dict[str, Any]  # how the intervals were drawn: draws, confidence, movies, seed


@dataclass(frozen=True)
class Provenance:
    """What a model reads and what it was built from."""

    inputs: list[str]  # what `predict` must be given for it: overview, poster, details (INPUTS order)
    features: list[str]  # the feature files it was trained on (its model card)
    components: list[str]  # a stacked model: the models whose scores it reads
    artifact: str  # the trained model file
    md5: str  # of that file, as dvc.lock records it: the build's revision (a commit cannot be in a file git tracks)
    stage: str  # the training stage
    params: dict[str, Any]  # the stage's own params section (a stack: C and its models)


@dataclass(frozen=True)
class ModelResults:
    name: str
    provenance: Provenance
    breakdown: Breakdown
    per_genre: pd.DataFrame  # genre, precision, recall, f1, support: test movies, under the tuned thresholds
    thresholds: dict[str, float]  # genre -> tuned threshold (what `predict` applies)
    out_of_fold_f1_micro: float  # what `predict` ranks models by


@dataclass(frozen=True)
class DataSummary:
    fetch_list: dict[str, Any]  # movies_in, kept, dropped (reason -> count), unknown_genre_ids
    posters: dict[str, Any]  # movies, with_poster, without_poster
    missing_posters: dict[str, int]  # reason -> movies without a usable poster
    split: dict[str, int]  # subset -> movies
    genres: pd.DataFrame  # genre_id, name, n_movies: most frequent first


@dataclass(frozen=True)
class TestMovies:
    """The test movies, their true genres and every model's scores for them."""

    table: pd.DataFrame  # movie_id, title, release_date, popularity: one row per test movie
    labels: np.ndarray  # movies x genres, 0/1
    genre_names: list[str]  # the columns of `labels` and of the scores
    scores: dict[str, np.ndarray]  # model -> movies x genres


def parse_rules(rules: dict[str, dict[str, float]]) -> dict[str, dict[str, Figure]]:
    """Each rule's figures, an interval attached where `<figure>_low` and `<figure>_high` are given."""
    parsed = {}
    for rule, values in rules.items():
        parsed[rule] = {
            name: Figure(float(value), _optional(values.get(f"{name}_low")), _optional(values.get(f"{name}_high")))
            for name, value in values.items()
            if not name.endswith(("_low", "_high"))
        }
    return parsed


def _optional(value: float | None) -> float | None:
    return None if value is None else float(value)


def breakdown_file(model: str) -> Path:
    """Where `evaluate` writes a model's figures under every decision rule (not the DVC metric, its headline)."""
    return paths.model_report(model)


def read_breakdown(model: str) -> Breakdown:
    """A model's figures under every decision rule: with `breakdown_file`, the one place that knows their format.

    `evaluate` writes {"headline_rule": rule, "bootstrap": {...}, "rules": {rule: {figure: value, figure_low: ...,
    figure_high: ...}}}.
    """
    breakdown = json.loads(breakdown_file(model).read_text())
    return Breakdown(breakdown["headline_rule"], parse_rules(breakdown["rules"]), breakdown.get("bootstrap", {}))


def training_params(model: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The stage that trains `model` and its own params section: `train_<model>`, or `stack` for a stacked
    model (its C and the models it stacks)."""
    own = f"train_{model}"
    if own in params:
        return own, params[own]
    return "stack", {"C": params["stack"]["C"], "models": params["stack"]["models"][model]}


def read_provenance(model: str, predictor: Predictor, params: dict[str, Any]) -> Provenance:
    card = predictor.card(model)
    needs = predictor.needed_inputs(model)
    stage, own = training_params(model, params)
    return Provenance(
        inputs=[name for name in INPUTS if name in needs],
        features=list(card.features),
        components=list(card.components),
        artifact=card.artifact,
        md5=file_digest(Path(card.artifact), "md5"),  # the hash dvc.lock records
        stage=stage,
        params=own,
    )


def read_model(model: str, predictor: Predictor, params: dict[str, Any]) -> ModelResults:
    """A model's results; `predictor` reads its card (what it reads), `params` is params.yaml."""
    decision = json.loads(paths.model_decision(model).read_text())
    return ModelResults(
        name=model,
        provenance=read_provenance(model, predictor, params),
        breakdown=read_breakdown(model),
        per_genre=pd.read_csv(paths.PLOTS / "per_genre" / f"{model}.csv"),
        thresholds={genre: float(value) for genre, value in decision["thresholds"].items()},
        out_of_fold_f1_micro=float(decision["out_of_fold_f1_micro"]),
    )


def read_default_models() -> dict[str, dict]:
    """predict's default model for each set of inputs (models/defaults.json)."""
    return _json(paths.DEFAULT_MODELS)


def read_data_summary() -> DataSummary:
    missing = pd.read_csv(paths.MISSING_POSTERS)
    return DataSummary(
        fetch_list=_json(paths.data_report("fetch_list")),
        posters=_json(paths.data_report("fetch_posters")),
        missing_posters={str(k): int(v) for k, v in sorted(missing["reason"].value_counts().items())},
        split=_json(paths.data_report("split")),
        genres=pd.read_csv(paths.GENRES),
    )


def read_test_movies(models: Iterable[str]) -> TestMovies:
    genres = pd.read_csv(paths.GENRES)
    dataset = read_table(paths.DATASET)
    test = dataset[subset_mask(dataset, "test")].reset_index(drop=True)
    ids = test["movie_id"].to_numpy()
    return TestMovies(
        table=test[["movie_id", "title", "release_date", "popularity"]],
        labels=label_matrix(test["genre_ids"], genres["genre_id"].tolist()),
        genre_names=genres["name"].tolist(),
        scores={model: load_predictions(paths.predictions_file(model)).rows(ids) for model in models},
    )


def read_genre_plots() -> dict[str, bytes]:
    """The genre co-occurrence heatmaps of `genre_analysis` (PNG), by file name."""
    return {name: (paths.PLOTS / name).read_bytes() for name in GENRE_PLOTS}


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
