"""The results page (stage `report`): built from small real data, checked in headless Chromium.

Six real test movies (TMDB 5000 rows and their bundled posters), two models (svm, nb) with the
project's committed figures, and scores written by hand so that every movie's hits, misses and false
positives are known. The stage runs twice on them and must write the same bytes; the page is opened
in headless Chromium with every host name unresolvable, and must show every section and every
image, log no console error or warning, and ask for nothing but itself and its `data:` images.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from movie_genres import paths
from movie_genres.data.dataset import genre_table, normalise_movies, write_table
from movie_genres.data.posters import bundled_source, collect_posters
from movie_genres.models.predictions import Predictions, at_least_one_genre, save_predictions
from movie_genres.params import FetchListParams, load_section, read_params
from movie_genres.report.gallery import best_and_worst, genre_marks, per_movie_f1
from movie_genres.report.images import thumbnail
from movie_genres.report.inputs import GENRE_PLOTS, SHARED_TRAINING_PARAMS, Figure, breakdown_file, parse_rules
from movie_genres.report.page import TEMPLATE
from tests.conftest import ROOT
from tests.dvc_repo import set_params
from tests.headless_browser import CHROMIUM

# --- The pieces ---------------------------------------------------------------------------------------


def test_rules_get_their_intervals_where_given():
    rules = parse_rules(
        {
            "tuned_thresholds": {
                "f1_micro": 0.53,
                "f1_micro_low": 0.51,
                "f1_micro_high": 0.55,
                "per_movie_recall": 0.6,
            },
            "top_k": {"f1_micro": 0.5},
        }
    )
    assert rules == {
        "tuned_thresholds": {"f1_micro": Figure(0.53, 0.51, 0.55), "per_movie_recall": Figure(0.6)},
        "top_k": {"f1_micro": Figure(0.5)},
    }


GENRES = ["Drama", "Comedy", "Action", "Fantasy"]


def test_genres_are_marked_hit_false_positive_or_missed():
    truth = np.array([[0, 0, 1, 1], [1, 0, 0, 0], [0, 1, 0, 0]], dtype=np.int8)
    scores = np.array([[0.9, 0.1, 0.8, 0.2], [0.5, 0.4, 0.0, 0.0], [0.0, 0.2, 0.0, 0.0]])
    # As predict decides: a score equal to its threshold counts, and a movie with none gets the closest genre.
    predicted = at_least_one_genre(scores, np.array([0.5, 0.5, 0.5, 0.5]))
    marks = [(m.genre, m.mark) for m in genre_marks(truth[0], predicted[0], GENRES)]
    assert marks == [("Action", "hit"), ("Drama", "false_positive"), ("Fantasy", "miss")]
    assert predicted[2].tolist() == [0, 1, 0, 0]
    assert per_movie_f1(truth, predicted).tolist() == [0.5, 1.0, 1.0]
    assert per_movie_f1(np.zeros((1, 4), np.int8), np.zeros((1, 4), np.int8)).tolist() == [0.0]


def test_best_and_worst_movies_are_chosen_the_same_way_every_time():
    f1 = np.array([1.0, 1.0, 0.0, 0.0, 0.5, 1.0])
    n_true = np.array([1, 3, 2, 2, 2, 3])
    popularity = np.array([9.0, 1.0, 5.0, 7.0, 3.0, 1.0])
    ids = np.array([10, 20, 30, 40, 50, 15])
    # Best: most genres first, then the more popular, then the smaller id; worst: the more popular first.
    assert best_and_worst(f1, n_true, popularity, ids, 2) == ([5, 1], [3, 2])
    # Too few movies for both lists: nobody is shown twice.
    assert best_and_worst(f1, n_true, popularity, ids, 4) == ([5, 1, 0, 4], [3, 2])


def test_a_thumbnail_is_narrow_plain_and_the_same_every_time():
    poster = (ROOT / paths.BUNDLED_POSTERS / "603.jpg").read_bytes()
    small = thumbnail(poster, 100, 80)
    assert small == thumbnail(poster, 100, 80)
    with Image.open(ROOT / paths.BUNDLED_POSTERS / "603.jpg") as original, Image.open(io.BytesIO(small)) as image:
        assert image.format == "JPEG" and image.width == 100
        assert image.height == round(original.height * 100 / original.width)
        assert not image.info.get("exif") and not image.info.get("progressive")
    assert len(small) < len(poster)


# --- The stage on small real data ---------------------------------------------------------------------

MODELS = ["svm", "nb"]
REPORT = paths.REPORTS / "report.html"
TEST_IDS = [
    19995,
    603,
    862,
    680,
    13,
    787,
]  # Avatar, The Matrix, Toy Story, Pulp Fiction, Forrest Gump, Mr. & Mrs. Smith
TRAIN_ID = 285  # a training movie: never in the gallery
NO_POSTER_ID = 36597  # Wuthering Heights: no bundled poster, so not modelled; counted in the manifest

# What each model predicts for each test movie. Avatar under nb is the hand-checked movie: true Action,
# Adventure, Fantasy, Science Fiction; predicted Action, Adventure, Drama.
PREDICTED = {
    "nb": {
        19995: ["Action", "Adventure", "Drama"],  # F1 2*2/(3+4) = 0.57
        603: ["Action", "Science Fiction"],  # F1 1
        862: ["Animation", "Comedy", "Family"],  # F1 1, three genres: the best movie
        680: ["Drama"],  # F1 0, the more popular of the two worst; Drama only under its tuned threshold
        13: ["Comedy", "Drama"],  # F1 2*2/(2+3) = 0.8
        787: [],  # F1 0
    },
    "svm": {
        19995: ["Action", "Science Fiction"],
        603: ["Action", "Thriller"],
        862: ["Animation", "Family"],
        680: ["Crime", "Thriller"],
        13: ["Drama", "Romance"],
        787: ["Action", "Comedy"],
    },
}
# nb's tuned thresholds: 0.5 but Drama's 0.3 (Pulp Fiction scores Drama 0.4: a false positive only under
# the tuned threshold) and Comedy's 0.62 (Forrest Gump scores exactly that: predicted).
NB_THRESHOLDS = {"Drama": 0.3, "Comedy": 0.62}
# Each model's card (what it was trained on) and model file, whose MD5 the leaderboard shows.
CARDS = {
    "svm": {"kind": "margin", "artifact": str(paths.model_file("svm")), "features": [str(paths.TEXT_TFIDF)]},
    "nb": {"kind": "probability", "artifact": str(paths.model_file("nb")), "features": [str(paths.TEXT_COUNTS)]},
}


def _scores(model: str, genre_names: list[str]) -> np.ndarray:
    scores = np.full((len(TEST_IDS), len(genre_names)), -1.0 if model == "svm" else 0.1)
    for i, movie_id in enumerate(TEST_IDS):
        for genre in PREDICTED[model][movie_id]:
            scores[i, genre_names.index(genre)] = 1.0 if model == "svm" else 0.9
    if model == "nb":
        scores[TEST_IDS.index(680), genre_names.index("Drama")] = 0.4
        scores[TEST_IDS.index(13), genre_names.index("Comedy")] = 0.62
    return scores


def build_inputs(repo: Path, bundled: tuple[pd.DataFrame, dict[int, str]]) -> None:
    """Every file the report stage reads, for the movies above: real rows, posters and committed figures."""
    raw, genre_names = bundled
    for name in ("params.yaml", "paths.yaml"):
        shutil.copy(ROOT / name, repo / name)
    set_params(repo, {("report", "gallery_movies"): 3, ("report", "gallery_models"): 2})
    min_genre_movies = load_section(read_params(ROOT / "params.yaml"), "fetch_list", FetchListParams).min_genre_movies
    all_movies, report = normalise_movies(raw, None, min_genre_movies)
    genres = genre_table(all_movies, genre_names, report)
    (repo / paths.GENRES).parent.mkdir(parents=True)
    genres.to_csv(repo / paths.GENRES, index=False)
    movies = all_movies[all_movies["movie_id"].isin([*TEST_IDS, TRAIN_ID, NO_POSTER_ID])]
    missing = collect_posters(movies, bundled_source(ROOT / paths.BUNDLED_POSTERS), repo / paths.POSTERS, False)
    missing.to_csv(repo / paths.MISSING_POSTERS, index=False)
    dataset = movies[movies["movie_id"] != NO_POSTER_ID].sort_values("movie_id").reset_index(drop=True)
    subset = ["train" if movie_id == TRAIN_ID else "test" for movie_id in dataset["movie_id"]]
    write_table(dataset.assign(subset=pd.Series(subset, dtype="string")), repo / paths.DATASET)

    names = genres["name"].tolist()
    for model in MODELS:
        kind = "margin" if model == "svm" else "probability"
        save_predictions(
            repo / paths.predictions_file(model), Predictions(np.array(TEST_IDS), _scores(model, names), kind)
        )
        default = 0.0 if model == "svm" else 0.5
        thresholds = {g: (NB_THRESHOLDS.get(g, default) if model == "nb" else default) for g in names}
        decision = {"thresholds": thresholds, "out_of_fold_f1_micro": 0.55 if model == "svm" else 0.5}
        (repo / paths.model_decision(model)).parent.mkdir(parents=True, exist_ok=True)
        (repo / paths.model_decision(model)).write_text(json.dumps(decision))
        (repo / paths.model_card(model)).parent.mkdir(parents=True, exist_ok=True)
        (repo / paths.model_card(model)).write_text(json.dumps({"name": model, **CARDS[model]}))
        (repo / CARDS[model]["artifact"]).write_bytes(f"the trained {model}".encode())
        # The project's own figures for these models (the data summary's too), and its genre plots.
        for path in (breakdown_file(model), paths.PLOTS / "per_genre" / f"{model}.csv"):
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / path, repo / path)
    for path in (paths.data_report("fetch_list"), paths.data_report("fetch_posters"), paths.data_report("split")):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, repo / path)
    for name in GENRE_PLOTS:
        shutil.copy(ROOT / paths.PLOTS / name, repo / paths.PLOTS / name)
    defaults = {"overview": {"model": "nb"}, "overview+poster": {"model": "svm"}}
    (repo / paths.DEFAULT_MODELS).write_text(json.dumps(defaults))


def run_stage(repo: Path) -> bytes:
    """`python -m stages.report --models svm nb` in `repo`, as DVC runs it; the page it wrote."""
    (repo / REPORT).unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-m", "stages.report", "--models", *MODELS], cwd=repo, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return (repo / REPORT).read_bytes()


@pytest.fixture(scope="module")
def report_page(tmp_path_factory, bundled) -> Path:
    repo = tmp_path_factory.mktemp("report_repo")
    build_inputs(repo, bundled)
    first = run_stage(repo)
    assert run_stage(repo) == first, "the same inputs gave different bytes"
    return repo / REPORT


def test_the_page_is_self_contained(report_page):
    page = report_page.read_text()
    assert len(page) < 1_500_000
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "a link to the network"
    assert "<script" not in page
    sources = re.findall(r'<img src="([^"]*)"', page)
    assert len(sources) == len(GENRE_PLOTS) + len(TEST_IDS)
    assert all(source.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")) for source in sources)
    assert "Mr. &amp; Mrs. Smith" in page  # titles are escaped
    assert "Wuthering Heights" not in page and "At World&#39;s End" not in page  # not a test movie


def test_the_leaderboard_ranks_by_tuned_micro_f1_and_marks_the_predict_rule(report_page):
    page = report_page.read_text()
    breakdowns = {m: json.loads((ROOT / breakdown_file(m)).read_text()) for m in MODELS}
    tuned = {m: breakdowns[m]["rules"]["tuned_thresholds"] for m in MODELS}
    ranked = sorted(MODELS, key=lambda m: -tuned[m]["f1_micro"])
    rows = re.findall(r'<tr class="([^"]*)" data-model="(\w+)" data-rule="(\w+)"', page)
    assert [(model, rule) for _, model, rule in rows] == [
        (model, rule) for model in ranked for rule in ("fixed_threshold", "top_k", "tuned_thresholds")
    ]
    assert [rule for classes, _, rule in rows if "predict-rule" in classes] == ["tuned_thresholds"] * len(MODELS)
    # Each F1 with its interval, as the breakdown gives them.
    for model in MODELS:
        f1 = tuned[model]
        cell = f'{f1["f1_micro"]:.3f}<span class="interval">{f1["f1_micro_low"]:.3f}–{f1["f1_micro_high"]:.3f}</span>'
        assert cell in page
    assert "95 % bootstrap interval (1,000 resamples of the 950 test movies)" in page
    # The default model of `predict` for a movie with every input: the defaults file's largest input set.
    assert re.search(r'<b>svm</b> <span class="badge default">', page)


def test_the_leaderboard_says_what_each_model_reads_and_what_it_was_built_from(report_page):
    page = report_page.read_text()
    repo = report_page.parents[1]
    for model in MODELS:
        reads = re.search(rf'data-model="{model}".*?<td class="reads" rowspan="3">([^<]*)<', page, re.DOTALL)
        assert reads and reads.group(1) == "overview", model
        md5 = hashlib.md5((repo / CARDS[model]["artifact"]).read_bytes()).hexdigest()  # what dvc.lock records
        assert f'<code>{CARDS[model]["artifact"]}</code> md5 <code class="md5">{md5}</code>' in page
    # Each model's own training params, as params.yaml has them; the shared ones once, in the note.
    assert "<code>train_svm</code>: C=[0.01, 0.1, 1], class_weight=balanced, cv_folds=5," in page
    assert "<code>train_nb</code>: alpha=1.0<" in page
    assert "Every training stage also reads <code>seed</code> 42, <code>out_of_fold.folds</code> 5," in page


# --- In a browser ---------------------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs a headless browser: apt-get install chromium (.ci/run installs it)"
)

PROBE = """document.readyState !== 'complete' ? null : {
  sections: [...document.querySelectorAll('section[id]')].map(s => [s.id, s.offsetHeight > 0]),
  images: [...document.images].map(img => img.complete && img.naturalWidth > 0),
  best: [...document.querySelectorAll('.cards.best .movie')].map(a => Number(a.dataset.movieId)),
  worst: [...document.querySelectorAll('.cards.worst .movie')].map(a => Number(a.dataset.movieId)),
  marks: Object.fromEntries([...document.querySelectorAll('.movie')].map(a => [a.dataset.movieId,
    Object.fromEntries([...a.querySelectorAll('.prediction')].map(p => [p.dataset.model,
      [...p.querySelectorAll('.genre')].map(g => ({genre: g.dataset.genre, mark: g.classList[1],
        style: [getComputedStyle(g).textDecorationLine, getComputedStyle(g).color]}))]))])),
  heatCells: document.querySelectorAll('table.heat tbody td').length,
}"""


@needs_chromium
def test_the_page_shows_everything_offline(report_page, browser):
    def done(value: dict | None) -> bool:
        return value is not None and all(value["images"])

    log, page = browser.open(report_page.as_uri(), PROBE, done)
    assert page is not None, f"the page never finished loading: {log}"
    assert page["sections"] == [
        [s, True] for s in ("leaderboard", "per-genre", "genre-cooccurrence", "data", "gallery")
    ]
    assert page["images"] == [True] * (len(GENRE_PLOTS) + len(TEST_IDS)), "an image did not decode"
    genres = pd.read_csv(report_page.parents[1] / paths.GENRES)
    assert page["heatCells"] == len(MODELS) * len(genres)  # every model x every genre
    assert log.problems() == []
    assert log.requests, "no request recorded at all: the DevTools log is not working"
    assert [url for url in log.requests if not url.startswith("data:")] == [report_page.as_uri()]

    # nb is the top model (the better tuned micro-F1 of the two): its per-movie F1 picks the movies.
    assert page["best"] == [862, 603, 13]  # Toy Story and The Matrix (F1 1, three genres first), Forrest Gump (0.8)
    assert page["worst"] == [680, 787, 19995]  # F1 0: Pulp Fiction (more popular), Mr. & Mrs. Smith; Avatar (0.57)
    avatar = page["marks"]["19995"]
    assert list(avatar) == ["nb", "svm"]
    hit, false_positive, miss = (
        ("none", "rgb(20, 102, 20)"),
        ("none", "rgb(165, 29, 29)"),
        ("line-through", "rgb(138, 138, 138)"),
    )
    assert [(g["genre"], g["mark"], tuple(g["style"])) for g in avatar["nb"]] == [
        ("Action", "hit", hit),
        ("Adventure", "hit", hit),
        ("Drama", "false_positive", false_positive),
        ("Science Fiction", "miss", miss),  # within each kind, genres from most to fewest movies
        ("Fantasy", "miss", miss),
    ]
    # Decided by nb's tuned thresholds, not 0.5: Drama at 0.4 >= 0.3, Comedy at exactly its 0.62.
    assert [(g["genre"], g["mark"]) for g in page["marks"]["680"]["nb"]] == [
        ("Drama", "false_positive"),
        ("Thriller", "miss"),
        ("Crime", "miss"),
    ]
    assert [(g["genre"], g["mark"]) for g in page["marks"]["13"]["nb"]] == [
        ("Drama", "hit"),
        ("Comedy", "hit"),
        ("Romance", "miss"),
    ]


# --- In the pipeline ----------------------------------------------------------------------------------


def test_the_report_stage_reads_its_template_and_every_param():
    """The models it reads: tests/test_dvc_model_lists.py. The leaderboard shows each model's params section."""
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        stage = next(s for s in repo.index.stages if s.name == "report")
    assert TEMPLATE.relative_to(ROOT) in {Path(dep.def_path) for dep in stage.deps}, "no dep on its template"
    assert [Path(out.def_path) for out in stage.outs] == [REPORT]
    (params,) = [dep for dep in stage.deps if hasattr(dep, "params")]
    assert Path(params.def_path).name == "params.yaml" and not params.params  # no key list: all of them


def test_the_leaderboard_shows_every_param_a_training_stage_reads():
    """A training stage reads its own section (train_<model>, stack) and the shared ones, nothing else."""
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        for stage in repo.index.stages:
            cards = [Path(out.def_path) for out in stage.outs if Path(out.def_path).parent == paths.CARDS]
            if not cards:
                continue
            own = {"stack"} if stage.name == "stack" else {f"train_{card.stem}" for card in cards}
            read = {key.split(".")[0] for dep in stage.deps if hasattr(dep, "params") for key in dep.params}
            assert read <= {*own, *SHARED_TRAINING_PARAMS}, f"{stage.addressing} reads {sorted(read)}"


def test_the_shipped_report_params_load_and_a_bad_one_is_named():
    from movie_genres.params import ParamError, load_section, read_params
    from movie_genres.report.settings import ReportParams

    raw = read_params(ROOT / "params.yaml")
    assert load_section(raw, "report", ReportParams).gallery_movies == 12
    raw["report"]["thumbnail_width"] = 0
    with pytest.raises(ParamError, match="report.thumbnail_width"):
        load_section(raw, "report", ReportParams)
