"""The results page as one self-contained HTML string: inline CSS, images as `data:` URIs, no script.

Pure functions from the values `report.inputs` reads to text. Every piece of text from the data is
escaped; every number is formatted with a fixed number of digits and every list is in a fixed order,
so the same inputs give the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from movie_genres.models.predictions import at_least_one_genre
from movie_genres.report.gallery import best_and_worst, genre_marks, per_movie_f1, threshold_vector
from movie_genres.report.images import data_uri, thumbnail
from movie_genres.report.inputs import FIGURES, RULES, DataSummary, Figure, ModelResults, TestMovies
from movie_genres.report.settings import ReportParams

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

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f;
       margin: 0 auto; padding: 0 24px 48px; max-width: 1400px; }
h1 { font-size: 24px; margin: 24px 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-top: 8px; border-top: 1px solid #ddd; }
h3 { font-size: 16px; margin: 20px 0 8px; }
nav a { margin-right: 16px; }
p.note { color: #555; max-width: 900px; margin: 4px 0 12px; }
table { border-collapse: collapse; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
th { font-weight: 600; background: #f6f6f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.interval { display: block; color: #777; font-size: 11px; }
tr.model-start td { border-top: 2px solid #bbb; }
tr.predict-rule td { background: #eef5ff; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; background: #2463c7;
         color: #fff; margin-left: 4px; white-space: nowrap; }
.badge.default { background: #6b3fb5; }
table.heat td.num { min-width: 38px; padding: 3px 4px; }
table.heat th.genre-name { vertical-align: bottom; padding: 6px 2px; font-weight: 500; }
table.heat th.genre-name span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; }
table.data-summary th { white-space: nowrap; }
figure { display: inline-block; margin: 0 24px 16px 0; vertical-align: top; }
figure img { width: 640px; max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 12px; }
.movie { display: flex; gap: 12px; border: 1px solid #e2e2e2; border-radius: 6px; padding: 10px; }
.movie img { width: 100px; height: auto; flex: none; align-self: flex-start; border-radius: 3px; }
.movie h4 { margin: 0 0 4px; font-size: 15px; }
.movie .year { color: #777; font-weight: normal; }
.movie .line { margin: 3px 0; }
.movie .label { color: #555; display: inline-block; min-width: 118px; }
.movie .f1 { color: #555; font-size: 12px; margin-left: 4px; }
.genre { display: inline-block; padding: 0 6px; margin: 1px 2px 1px 0; border-radius: 4px; font-size: 12px;
         background: #f0f0f0; }
.genre.hit { background: #d7f0d7; color: #146614; }
.genre.false_positive { background: #fbdcdc; color: #a51d1d; }
.genre.miss { background: #f3f3f3; color: #8a8a8a; text-decoration: line-through; }
footer { margin-top: 40px; color: #777; font-size: 12px; }
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def number(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}"


def count(value: int) -> str:
    return f"{value:,}"


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


# --- Sections ------------------------------------------------------------------------------------


def figure_cell(figure: Figure | None) -> str:
    if figure is None:
        return '<td class="num">–</td>'
    interval = ""
    if figure.low is not None and figure.high is not None:
        interval = f'<span class="interval">{number(figure.low)}–{number(figure.high)}</span>'
    return f'<td class="num">{number(figure.value)}{interval}</td>'


def interval_description(bootstrap: dict) -> str:
    """How the intervals were drawn, in words, from the breakdown's `bootstrap` entry."""
    confidence = bootstrap.get("confidence")
    text = "its bootstrap interval" if confidence is None else f"its {float(confidence) * 100:g} % bootstrap interval"
    if "draws" in bootstrap and "movies" in bootstrap:
        text += f" ({count(int(bootstrap['draws']))} resamples of the {count(int(bootstrap['movies']))} test movies)"
    return text


def leaderboard(ranked: list[ModelResults], top_k: int, default: str) -> str:
    with_intervals = any(
        f.low is not None for m in ranked for rule in m.breakdown.rules.values() for f in rule.values()
    )
    header = "".join(f'<th class="num">{esc(FIGURE_LABELS[f])}</th>' for f in FIGURES)
    rows = []
    for rank, model in enumerate(ranked, start=1):
        rules = [rule for rule in RULES if rule in model.breakdown.rules]
        for i, rule in enumerate(rules):
            classes = ["model-start"] if i == 0 else []
            if rule == model.breakdown.predict_rule:
                classes.append("predict-rule")
            badge = ' <span class="badge">predict</span>' if rule == model.breakdown.predict_rule else ""
            cells = "".join(figure_cell(model.breakdown.rules[rule].get(f)) for f in FIGURES)
            lead = ""
            if i == 0:
                default_badge = ' <span class="badge default">default model</span>' if model.name == default else ""
                lead = (
                    f'<td class="num" rowspan="{len(rules)}">{rank}</td>'
                    f'<td rowspan="{len(rules)}"><b>{esc(model.name)}</b>{default_badge}</td>'
                )
            rows.append(
                f'<tr class="{" ".join(classes)}" data-model="{esc(model.name)}" data-rule="{esc(rule)}">'
                f"{lead}<td>{esc(rule_label(rule, top_k))}{badge}</td>{cells}</tr>"
            )
    intervals = f" Under each F1, {interval_description(ranked[0].breakdown.bootstrap)}." if with_intervals else ""
    note = (
        "Every model on the same test movies under three decision rules, applied to the same scores: "
        "<i>fixed threshold</i> (0.5 on probabilities, 0 on SVM margins: the model's own predict), "
        f"<i>top-{top_k}</i> (the tutorial's {top_k} best genres per movie) and <i>tuned thresholds</i> "
        "(per genre, the threshold with the best F1 on the out-of-fold scores of the training movies; a movie "
        "left without a genre gets the one closest to its threshold). "
        '<span class="badge">predict</span> marks the rule <code>movie-genres predict</code> applies, '
        '<span class="badge default">default model</span> the model it picks without <code>--model</code> '
        "for a movie with every input (stage <code>choose_defaults</code>: a model replaces the default of fewer "
        "inputs only with a significant gain). Models sorted by test micro-F1 under "
        "the tuned thresholds; per-movie P and R are the tutorial's metric." + intervals
    )
    return (
        f'<p class="note">{note}</p>'
        '<table class="leaderboard"><thead><tr><th class="num">#</th><th>model</th><th>rule</th>'
        f"{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def heat_colour(value: float) -> str:
    """A cell's background and text colour for a value in [0, 1]: white to deep blue."""
    value = min(max(value, 0.0), 1.0)
    low, high = (247, 251, 255), (8, 69, 148)
    red, green, blue = (round(a + (b - a) * value) for a, b in zip(low, high))
    text = "#fff" if value > 0.55 else "#1d1d1f"
    return f"background:#{red:02x}{green:02x}{blue:02x};color:{text}"


def per_genre(ranked: list[ModelResults]) -> str:
    genres: list[str] = ranked[0].per_genre["genre"].tolist()
    support = ranked[0].per_genre.set_index("genre")["support"]
    header = "".join(f'<th class="genre-name"><span>{esc(g)}</span></th>' for g in genres)
    movies = "".join(f'<td class="num">{count(int(support[g]))}</td>' for g in genres)
    rows = []
    for model in ranked:
        f1 = model.per_genre.set_index("genre")["f1"]
        cells = "".join(
            f'<td class="num" style="{heat_colour(float(f1[g]))}" title="{esc(model.name)}, {esc(g)}">'
            f"{number(float(f1[g]), 2)}</td>"
            for g in genres
        )
        rows.append(f'<tr data-model="{esc(model.name)}"><th>{esc(model.name)}</th>{cells}</tr>')
    note = (
        "F1 of each genre on the test movies under each model's tuned thresholds, genres from most to "
        "fewest movies (<code>plots/per_genre/&lt;model&gt;.csv</code>, which also hold precision and recall)."
    )
    return (
        f'<p class="note">{note}</p><table class="heat"><thead><tr><th>model</th>{header}</tr>'
        f"<tr><th>test movies</th>{movies}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def genre_plots(plots: dict[str, bytes]) -> str:
    figures = "".join(
        f'<figure><img src="{data_uri(png, "image/png")}" alt="{esc(name)}">'
        f"<figcaption>{esc(GENRE_PLOT_CAPTIONS.get(name, name))} <code>plots/{esc(name)}</code></figcaption></figure>"
        for name, png in plots.items()
    )
    note = (
        "How often two genres go together, over all kept movies: pairs on a log colour scale, every count "
        "in its cell, the diagonal (movies per genre) apart in white."
    )
    return f'<p class="note">{note}</p>{figures}'


def data_summary(summary: DataSummary) -> str:
    fetched, posters, split = summary.fetch_list, summary.posters, summary.split
    dropped = "; ".join(f"{esc(reason.replace('_', ' '))}: {count(n)}" for reason, n in fetched["dropped"].items())
    missing = "; ".join(f"{esc(reason)}: {count(n)}" for reason, n in summary.missing_posters.items())
    subsets = " · ".join(f"{name.lower()} {count(int(n))}" for name, n in split.items())
    genres = summary.genres
    genre_counts = " · ".join(f"{esc(name)} {count(int(n))}" for name, n in zip(genres["name"], genres["n_movies"]))
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
        rows.append(
            (
                "genres not modelled",
                "; ".join(
                    f"{esc(g['name'])} ({esc(g['why'])}, {count(g['movies'])} movies)" for g in not_modelled.values()
                ),
            )
        )
    if fetched.get("unknown_genre_ids"):
        rows.append(("unknown genre ids", esc(", ".join(str(i) for i in fetched["unknown_genre_ids"]))))
    body = "".join(f"<tr><th>{esc(label)}</th><td>{value}</td></tr>" for label, value in rows)
    note = (
        "From <code>reports/data/*.json</code>, <code>metrics/split.json</code> and the poster manifest: "
        "what the pipeline kept and why."
    )
    return f'<p class="note">{note}</p><table class="data-summary">{body}</table>'


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


def movie_card(row: int, movies: TestMovies, shown: list[GalleryModel], poster: str | None) -> str:
    movie = movies.table.iloc[row]
    names = movies.genre_names
    true_genres = [g for g, is_true in zip(names, movies.labels[row]) if is_true]
    truth = "".join(f'<span class="genre">{esc(g)}</span>' for g in true_genres)
    lines = [f'<div class="line truth"><span class="label">true genres</span>{truth}</div>']
    for model in shown:
        marks = "".join(
            f'<span class="genre {m.mark}" data-genre="{esc(m.genre)}" title="{MARK_LABELS[m.mark]}">'
            f"{esc(m.genre)}</span>"
            for m in genre_marks(movies.labels[row], model.predicted[row], names)
        )
        lines.append(
            f'<div class="line prediction" data-model="{esc(model.name)}"><span class="label">{esc(model.name)}'
            f'<span class="f1">F1 {number(float(model.f1[row]), 2)}</span></span>{marks}</div>'
        )
    year = str(movie["release_date"])[:4] if isinstance(movie["release_date"], str) else ""
    image = f'<img src="{poster}" alt="poster of {esc(movie["title"])}">' if poster else ""
    return (
        f'<article class="movie" data-movie-id="{int(movie["movie_id"])}">{image}<div>'
        f'<h4>{esc(movie["title"])} <span class="year">{esc(year)}</span></h4>{"".join(lines)}</div></article>'
    )


def gallery(
    ranked: list[ModelResults], movies: TestMovies, poster: Callable[[int], bytes | None], params: ReportParams
) -> str:
    shown = gallery_models(ranked, movies, params.gallery_models)
    table = movies.table
    best, worst = best_and_worst(
        shown[0].f1,
        movies.labels.sum(axis=1),
        table["popularity"].to_numpy(dtype=float),
        table["movie_id"].to_numpy(),
        params.gallery_movies,
    )

    def card(row: int) -> str:
        data = poster(int(table["movie_id"].iloc[row]))
        uri = None
        if data is not None:
            uri = data_uri(thumbnail(data, params.thumbnail_width, params.thumbnail_quality), "image/jpeg")
        return movie_card(row, movies, shown, uri)

    legend = " ".join(f'<span class="genre {mark}">{label}</span>' for mark, label in MARK_LABELS.items())
    note = (
        f"Test movies the top model, <b>{esc(shown[0].name)}</b>, predicts best and worst (its per-movie F1 over "
        f"genres), with the genres the top {len(shown)} models predict under their tuned thresholds "
        f"(<code>models/&lt;model&gt;.decision.json</code>, as <code>predict</code> applies them): {legend}. "
        "Ties go to movies with more genres (best) and to better-known movies (TMDB popularity)."
    )
    return (
        f'<p class="note">{note}</p>'
        f'<h3 id="gallery-best">Best predicted</h3><div class="cards best">{"".join(card(r) for r in best)}</div>'
        f'<h3 id="gallery-worst">Worst predicted</h3><div class="cards worst">{"".join(card(r) for r in worst)}</div>'
    )


# --- The page ------------------------------------------------------------------------------------


def build_page(
    models: list[ModelResults],
    movies: TestMovies,
    summary: DataSummary,
    defaults: dict[str, dict],
    plots: dict[str, bytes],
    poster: Callable[[int], bytes | None],
    params: ReportParams,
    top_k: int,
) -> str:
    """The whole page. `poster(movie_id)` gives a movie's poster file, or None when it has none."""
    ranked = rank_models(models)
    bodies = {
        "leaderboard": leaderboard(ranked, top_k, default_model(defaults)),
        "per-genre": per_genre(ranked),
        "genre-cooccurrence": genre_plots(plots),
        "data": data_summary(summary),
        "gallery": gallery(ranked, movies, poster, params),
    }
    nav = "".join(f'<a href="#{key}">{esc(title)}</a>' for key, title in SECTIONS.items())
    sections = "\n".join(
        f'<section id="{key}"><h2>{esc(SECTIONS[key])}</h2>\n{body}\n</section>' for key, body in bodies.items()
    )
    intro = (
        f"{len(ranked)} models, each judged on the same {count(len(movies.table))} test movies. Written by the "
        "<code>report</code> stage (<code>dvc repro</code>) from the pipeline's outputs; the page needs no network."
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'  # no favicon request
        f"<title>{esc(TITLE)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<h1>{esc(TITLE)}</h1>\n<p class="note">{intro}</p>\n<nav>{nav}</nav>\n{sections}\n'
        "<footer>Movie data and posters from TMDB (https://www.themoviedb.org). This product uses the TMDB API "
        "but is not endorsed or certified by TMDB.</footer>\n</body>\n</html>\n"
    )
