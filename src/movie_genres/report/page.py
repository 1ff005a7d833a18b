"""The results page as one self-contained HTML string: inline CSS, images as `data:` URIs, no script.

Pure functions from the values `report.inputs` reads to the values the template `page.html.j2` lays
out; Jinja2 escapes every one of them (autoescape), so no text from the data can become markup.
Every number is formatted here with a fixed number of digits and every list is in a fixed order, so
the same inputs give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from movie_genres.models.predictions import at_least_one_genre
from movie_genres.report.gallery import best_and_worst, genre_marks, per_movie_f1, threshold_vector
from movie_genres.report.images import data_uri, thumbnail
from movie_genres.report.inputs import FIGURES, RULES, DataSummary, Figure, ModelResults, TestMovies
from movie_genres.report.settings import ReportParams

TEMPLATE = Path(__file__).with_name("page.html.j2")  # a dep of the report stage in dvc.yaml

TITLE = "Movie genres from plots and posters: results"

SECTIONS = {
    "leaderboard": "Leaderboard",
    "per-genre": "F1 per genre",
    "genre-cooccurrence": "Genre co-occurrence",
    "data": "Data",
    "gallery": "Test movies",
}

FIGURE_LABELS = {
    "f1_micro": "micro-F1",
    "f1_samples": "samples-F1",
    "f1_macro": "macro-F1",
    "per_movie_precision": "per-movie P",
    "per_movie_recall": "per-movie R",
}

MARK_LABELS = {"hit": "hit", "false_positive": "false positive", "miss": "missed"}

GENRE_PLOT_CAPTIONS = {
    "genre_coclusters.png": "Genres ordered by spectral co-clustering (clusters outlined).",
    "genre_cooccurrence.png": "Genres from most to fewest movies.",
}


def number(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}"


def count(value: int) -> str:
    return f"{value:,}"


def param_text(value: Any) -> str:
    """A params.yaml value as it reads there: strings bare, everything else as JSON (lists, null)."""
    return value if isinstance(value, str) else json.dumps(value)


def flat_params(section: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """A params section as (dotted key, value text) pairs, nested sections flattened, in the file's order."""
    pairs = []
    for key, value in section.items():
        if isinstance(value, dict):
            pairs += flat_params(value, f"{prefix}{key}.")
        else:
            pairs.append((f"{prefix}{key}", param_text(value)))
    return pairs


# --- Ranking -------------------------------------------------------------------------------------


def predict_figure(model: ModelResults, figure: str = "f1_micro") -> float:
    """A model's test figure under the rule `predict` uses."""
    return model.breakdown.rules[model.breakdown.predict_rule][figure].value


def rank_models(models: Iterable[ModelResults]) -> list[ModelResults]:
    """Best first by test micro-F1 under the rule `predict` uses (the tuned thresholds); ties by name."""
    return sorted(models, key=lambda m: (-predict_figure(m), m.name))


def default_model(defaults: dict[str, dict]) -> str:
    """The model `predict` takes without `--model` for a movie with every input (models/defaults.json)."""
    return defaults[max(defaults, key=lambda inputs: len(inputs.split("+")))]["model"]


def rule_label(rule: str, top_k: int) -> str:
    return {"fixed_threshold": "fixed threshold", "top_k": f"top-{top_k}", "tuned_thresholds": "tuned thresholds"}.get(
        rule, rule.replace("_", " ")
    )


# --- Leaderboard ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureCell:
    value: str  # "–" where the rule has no such figure
    interval: str = ""  # "low–high", "" without an interval


@dataclass(frozen=True)
class RuleRow:
    rule: str
    label: str
    predict: bool  # the rule `predict` applies
    classes: str  # the row's CSS classes: a model's first row, the predict rule's row
    cells: list[FigureCell]


@dataclass(frozen=True)
class LeaderboardEntry:
    rank: int
    name: str
    default: bool  # predict's default for a movie with every input
    reads: str  # "overview + poster"
    components: list[str]  # a stacked model's models
    features: list[str]
    artifact: str
    md5: str
    stage: str
    params: list[tuple[str, str]]
    rules: list[RuleRow]


def figure_cell(figure: Figure | None) -> FigureCell:
    if figure is None:
        return FigureCell("–")
    if figure.low is None or figure.high is None:
        return FigureCell(number(figure.value))
    return FigureCell(number(figure.value), f"{number(figure.low)}–{number(figure.high)}")


def interval_description(bootstrap: dict) -> str:
    """How the intervals were drawn, in words, from the breakdown's `bootstrap` entry."""
    confidence = bootstrap.get("confidence")
    text = "its bootstrap interval" if confidence is None else f"its {float(confidence) * 100:g} % bootstrap interval"
    if "draws" in bootstrap and "movies" in bootstrap:
        text += f" ({count(int(bootstrap['draws']))} resamples of the {count(int(bootstrap['movies']))} test movies)"
    return text


def leaderboard_entry(rank: int, model: ModelResults, top_k: int, default: str) -> LeaderboardEntry:
    rules = []
    for i, rule in enumerate(rule for rule in RULES if rule in model.breakdown.rules):
        predict = rule == model.breakdown.predict_rule
        classes = " ".join([*(["model-start"] if i == 0 else []), *(["predict-rule"] if predict else [])])
        cells = [figure_cell(model.breakdown.rules[rule].get(f)) for f in FIGURES]
        rules.append(RuleRow(rule, rule_label(rule, top_k), predict, classes, cells))
    built = model.provenance
    return LeaderboardEntry(
        rank=rank,
        name=model.name,
        default=model.name == default,
        reads=" + ".join(built.inputs),
        components=built.components,
        features=built.features,
        artifact=built.artifact,
        md5=built.md5,
        stage=built.stage,
        params=flat_params(built.params),
        rules=rules,
    )


def leaderboard(ranked: list[ModelResults], top_k: int, default: str, shared: dict[str, Any]) -> dict[str, Any]:
    with_intervals = any(
        f.low is not None for m in ranked for rule in m.breakdown.rules.values() for f in rule.values()
    )
    return {
        "entries": [leaderboard_entry(rank, model, top_k, default) for rank, model in enumerate(ranked, start=1)],
        "figure_labels": [FIGURE_LABELS[f] for f in FIGURES],
        "top_k": top_k,
        "intervals": interval_description(ranked[0].breakdown.bootstrap) if with_intervals else "",
        "shared_params": flat_params(shared),
    }


# --- F1 per genre, genre plots, data -------------------------------------------------------------


def heat_colour(value: float) -> str:
    """A cell's background and text colour for a value in [0, 1]: white to deep blue."""
    value = min(max(value, 0.0), 1.0)
    low, high = (247, 251, 255), (8, 69, 148)
    red, green, blue = (round(a + (b - a) * value) for a, b in zip(low, high))
    text = "#fff" if value > 0.55 else "#1d1d1f"
    return f"background:#{red:02x}{green:02x}{blue:02x};color:{text}"


def per_genre(ranked: list[ModelResults]) -> dict[str, Any]:
    genres: list[str] = ranked[0].per_genre["genre"].tolist()
    support = ranked[0].per_genre.set_index("genre")["support"]
    rows = []
    for model in ranked:
        f1 = model.per_genre.set_index("genre")["f1"]
        cells = [(heat_colour(float(f1[g])), g, number(float(f1[g]), 2)) for g in genres]
        rows.append({"name": model.name, "cells": cells})
    return {"genres": genres, "support": [count(int(support[g])) for g in genres], "rows": rows}


def genre_plots(plots: dict[str, bytes]) -> list[dict[str, str]]:
    return [
        {"uri": data_uri(png, "image/png"), "name": name, "caption": GENRE_PLOT_CAPTIONS.get(name, name)}
        for name, png in plots.items()
    ]


def data_summary(summary: DataSummary) -> list[tuple[str, str]]:
    fetched, posters, split = summary.fetch_list, summary.posters, summary.split
    dropped = "; ".join(f"{reason.replace('_', ' ')}: {count(n)}" for reason, n in fetched["dropped"].items())
    missing = "; ".join(f"{reason}: {count(n)}" for reason, n in summary.missing_posters.items())
    subsets = " · ".join(f"{name.lower()} {count(int(n))}" for name, n in split.items())
    genres = summary.genres
    genre_counts = " · ".join(f"{name} {count(int(n))}" for name, n in zip(genres["name"], genres["n_movies"]))
    rows = [
        ("movies in the source list", count(fetched["movies_in"])),
        ("dropped, by reason", dropped or "none"),
        ("kept", count(fetched["kept"])),
        ("without a usable poster", f"{count(posters['without_poster'])}" + (f" ({missing})" if missing else "")),
        ("modelled (kept, with a poster)", count(posters["with_poster"])),
        ("split", subsets),
        (f"genres ({len(genres)}), movies each", genre_counts),
    ]
    not_modelled = fetched.get("genres_not_modelled", {})
    if not_modelled:
        reasons = "; ".join(f"{g['name']} ({g['why']}, {count(g['movies'])} movies)" for g in not_modelled.values())
        rows.append(("genres not modelled", reasons))
    if fetched.get("unknown_genre_ids"):
        rows.append(("unknown genre ids", ", ".join(str(i) for i in fetched["unknown_genre_ids"])))
    return rows


# --- Gallery -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GalleryModel:
    name: str
    predicted: np.ndarray  # test movies x genres, 0/1 under the tuned thresholds
    f1: np.ndarray  # per test movie


def gallery_models(ranked: list[ModelResults], movies: TestMovies, n: int) -> list[GalleryModel]:
    chosen = []
    for model in ranked[:n]:
        predicted = at_least_one_genre(
            movies.scores[model.name], threshold_vector(model.thresholds, movies.genre_names)
        )
        chosen.append(GalleryModel(model.name, predicted, per_movie_f1(movies.labels, predicted)))
    return chosen


def movie_card(row: int, movies: TestMovies, shown: list[GalleryModel], poster: str | None) -> dict[str, Any]:
    movie = movies.table.iloc[row]
    names = movies.genre_names
    predictions = [
        {
            "model": model.name,
            "f1": number(float(model.f1[row]), 2),
            "marks": [
                (m.genre, m.mark, MARK_LABELS[m.mark])
                for m in genre_marks(movies.labels[row], model.predicted[row], names)
            ],
        }
        for model in shown
    ]
    return {
        "movie_id": int(movie["movie_id"]),
        "title": str(movie["title"]),
        "year": str(movie["release_date"])[:4] if isinstance(movie["release_date"], str) else "",
        "poster": poster,
        "truth": [g for g, is_true in zip(names, movies.labels[row]) if is_true],
        "predictions": predictions,
    }


def gallery(
    ranked: list[ModelResults], movies: TestMovies, poster: Callable[[int], bytes | None], params: ReportParams
) -> dict[str, Any]:
    shown = gallery_models(ranked, movies, params.gallery_models)
    table = movies.table
    best, worst = best_and_worst(
        shown[0].f1,
        movies.labels.sum(axis=1),
        table["popularity"].to_numpy(dtype=float),
        table["movie_id"].to_numpy(),
        params.gallery_movies,
    )

    def card(row: int) -> dict[str, Any]:
        data = poster(int(table["movie_id"].iloc[row]))
        uri = None
        if data is not None:
            uri = data_uri(thumbnail(data, params.thumbnail_width, params.thumbnail_quality), "image/jpeg")
        return movie_card(row, movies, shown, uri)

    return {
        "top": shown[0].name,
        "shown": len(shown),
        "marks": MARK_LABELS,
        "best": [card(r) for r in best],
        "worst": [card(r) for r in worst],
    }


# --- The page ------------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    # Autoescape everything the page is given; StrictUndefined makes a misspelt name an error, not "".
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def build_page(
    models: list[ModelResults],
    movies: TestMovies,
    summary: DataSummary,
    defaults: dict[str, dict],
    plots: dict[str, bytes],
    poster: Callable[[int], bytes | None],
    params: ReportParams,
    top_k: int,
    shared_params: dict[str, Any],
) -> str:
    """The whole page. `poster(movie_id)` gives a movie's poster file, or None when it has none;
    `shared_params` are the params sections every training stage may read (SHARED_TRAINING_PARAMS)."""
    ranked = rank_models(models)
    return (
        _environment()
        .get_template(TEMPLATE.name)
        .render(
            title=TITLE,
            sections=SECTIONS,
            models=len(ranked),
            test_movies=count(len(movies.table)),
            leaderboard=leaderboard(ranked, top_k, default_model(defaults), shared_params),
            per_genre=per_genre(ranked),
            genre_plots=genre_plots(plots),
            data=data_summary(summary),
            gallery=gallery(ranked, movies, poster, params),
        )
    )
