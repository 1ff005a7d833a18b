"""The scale benchmark's catalogue (real bundled movies, perturbed), its measurements and projections."""

from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.model_selection import KFold

from bench.scale import (
    SOURCES_FILE,
    PipelineCuts,
    build_catalogue,
    distinct_overview,
    extend_catalogue,
    growth_exponent,
    modelled_sources,
    perturb_overview,
    perturb_poster,
    poster_variant,
    project,
    run_measured,
    source_revision,
)
from movie_genres import paths
from movie_genres.data.bundled import read_bundled_movies
from movie_genres.data.dataset import build_dataset, normalise_movies
from movie_genres.models.linear import cv_sample
from movie_genres.models.out_of_fold import fold_rows
from movie_genres.params import SplitParams
from tests.conftest import ROOT
from tests.dvc_repo import git


@pytest.fixture(scope="module")
def sources() -> pd.DataFrame:
    return modelled_sources(ROOT / paths.BUNDLED_CSV, ROOT / paths.BUNDLED_POSTERS)


def test_sources_are_the_modelled_movies(sources):
    assert len(sources) == 4748  # README and docs/results.md: 4,748 movies have a poster, an overview and a genre


def test_overview_keeps_the_words_in_another_arrangement(sources):
    text = sources["overview"].iloc[0]
    perturbed = perturb_overview(text, np.random.default_rng(1))
    assert perturbed != text
    assert perturbed == perturb_overview(text, np.random.default_rng(1))
    words = text.split()
    assert set(perturbed.split()) <= set(words)
    assert 0.8 * len(words) <= len(perturbed.split()) < len(words)


def test_copies_of_one_overview_are_all_different(sources):
    seen: set[str] = set()
    rng = np.random.default_rng(0)
    texts = [distinct_overview(sources["overview"].iloc[3], seen, rng) for _ in range(50)]
    assert len(set(texts)) == 50


def test_poster_copies_differ_in_bytes_and_decode(sources):
    source_id = int(sources["id"].iloc[0])
    original = (ROOT / paths.BUNDLED_POSTERS / f"{source_id}.jpg").read_bytes()
    variants = [poster_variant(copy, source_id, seed=0) for copy in range(200)]
    assert len(set(variants)) == 200
    posters = {perturb_poster(original, *variant) for variant in variants[:5]}
    assert len(posters) == 5 and original not in posters
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(next(iter(posters)))) as after:
        after.load()
        assert before.width - 8 <= after.width <= before.width
        assert before.height - 8 <= after.height <= before.height


SPLIT = SplitParams(test_size=0.2, val_size=0.1)
CUTS = PipelineCuts(SPLIT, seed=42, out_of_fold_folds=3, cv_folds=3, cv_max_movies=60)


def test_catalogue_is_bundled_shaped_and_seeded(sources, tmp_path):
    few = sources.head(20)
    for name in ("a", "b"):
        build_catalogue(few, ROOT / paths.BUNDLED_POSTERS, 30, 7, CUTS, tmp_path / name)
    for name in ["movies.csv", *(f"posters/{p.name}" for p in (tmp_path / "a" / "posters").iterdir())]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()

    raw, _ = read_bundled_movies(tmp_path / "a" / "movies.csv")
    movies, report = normalise_movies(raw, None)
    assert report.kept == 30 and movies["movie_id"].is_unique and movies["overview"].is_unique
    assert len(list((tmp_path / "a" / "posters").iterdir())) == 30
    source_by_title = few.set_index("title")
    recorded_source = pd.read_csv(tmp_path / "a" / SOURCES_FILE).set_index("id")["source_id"]
    for row in pd.read_csv(tmp_path / "a" / "movies.csv").itertuples():
        source = source_by_title.loc[row.title]
        assert recorded_source[row.id] == int(source["id"])  # what --prefill-features copies vectors from
        assert (row.genres, row.keywords, row.release_date) == (
            source["genres"],
            source["keywords"],
            source["release_date"],
        )
        assert row.id != int(source["id"])


def test_extending_a_catalogue_keeps_its_movies_and_adds_new_ones(sources, tmp_path):
    few = sources.head(20)
    (tmp_path / "params.yaml").write_bytes((ROOT / "params.yaml").read_bytes())
    bundled = tmp_path / paths.BUNDLED_CSV.parent
    build_catalogue(few, ROOT / paths.BUNDLED_POSTERS, 30, 7, CUTS, bundled)
    (bundled / "catalogue.json").write_text("{}")
    before = pd.read_csv(bundled / "movies.csv")
    posters_before = {p.name: p.read_bytes() for p in (bundled / "posters").iterdir()}

    assert extend_catalogue(tmp_path, few, ROOT / paths.BUNDLED_POSTERS, 10, 7) == 40
    after = pd.read_csv(bundled / "movies.csv")
    pd.testing.assert_frame_equal(after.head(30), before)
    assert after["id"].is_unique and len(list((bundled / "posters").iterdir())) == 40
    assert all((bundled / "posters" / name).read_bytes() == data for name, data in posters_before.items())
    assert not (bundled / "catalogue.json").exists()  # the stamp no longer describes the catalogue


def test_copies_of_a_source_stay_on_one_side_of_every_cut_of_the_pipeline(sources, tmp_path):
    """No fit of the pipeline is scored on a near-copy of a movie it was fitted on: copies of one source
    share a subset, an out-of-fold fold and a grid-search fold (cut here with the pipeline's functions)."""
    few = sources.head(160)
    build_catalogue(few, ROOT / paths.BUNDLED_POSTERS, 400, 0, CUTS, tmp_path)
    raw, _ = read_bundled_movies(tmp_path / "movies.csv")
    movies, _ = normalise_movies(raw, None)
    dataset = build_dataset(movies, set(), SPLIT.test_size, SPLIT.val_size, seed=42)  # as split_dataset does
    assert set(dataset["subset"]) == {"train", "val", "test"}
    cut = dataset["subset"].astype(str).to_numpy().astype(object)
    train = np.flatnonzero(cut == "train")
    share = np.concatenate([train, np.flatnonzero(cut == "val")])  # as models.training orders them
    for fold, (_, held_out) in enumerate(fold_rows(len(share), CUTS.out_of_fold_folds, CUTS.seed)):
        cut[share[held_out]] += f" oof{fold}"
    searched = train[cv_sample(len(train), CUTS.cv_max_movies, CUTS.seed)]
    for fold, (_, held_out) in enumerate(KFold(CUTS.cv_folds, shuffle=True, random_state=CUTS.seed).split(searched)):
        cut[searched[held_out]] += f" cv{fold}"
    assert (pd.Series(cut).groupby(dataset["title"].to_numpy()).nunique() == 1).all()
    copies = dataset["title"].value_counts()
    assert copies.max() - copies.min() <= 3  # every source used about 400 / 160 times


def test_growth_and_projection():
    assert growth_exponent(1000, 2.0, 4000, 32.0) == pytest.approx(2.0)
    assert project(1000, 2.0, 4000, 32.0, 8000) == pytest.approx(128.0)  # a power law above 1: the power law
    assert project(1000, 12.0, 2000, 14.0, 10000) == pytest.approx(30.0)  # a start-up cost: the straight line


def test_measures_a_child_peak_memory(tmp_path):
    allocate = "x = bytearray(300 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"
    run = run_measured([sys.executable, "-c", allocate], tmp_path, {}, tmp_path / "log")
    assert run.peak_rss_mib >= 300 and run.peak_tree_rss_mib >= run.peak_rss_mib
    with pytest.raises(RuntimeError, match="boom"):
        run_measured([sys.executable, "-c", "raise SystemExit('boom')"], tmp_path, {}, tmp_path / "log")


def test_a_small_child_of_a_big_benchmark_measures_small(tmp_path):
    held = bytearray(300 * 1024 * 1024)
    held[::4096] = b"1" * len(held[::4096])  # resident in this process, which starts the stage
    run = run_measured([sys.executable, "-c", "pass"], tmp_path, {}, tmp_path / "log")
    assert run.peak_rss_mib < 100


def test_the_recorded_revision_says_when_the_copied_code_was_not_committed(tmp_path):
    for name in ("src/movie_genres/a.py", "bench/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("1\n")
    git("init", "-q", cwd=tmp_path)
    git("add", ".", cwd=tmp_path)
    git("commit", "-qm", "first", cwd=tmp_path)
    commit = git("rev-parse", "--short", "HEAD", cwd=tmp_path).strip()
    assert source_revision(tmp_path) == commit
    (tmp_path / "bench/notes.txt").write_text("2\n")  # not copied into a scratch project
    assert source_revision(tmp_path) == commit
    (tmp_path / "src/movie_genres/a.py").write_text("2\n")
    assert source_revision(tmp_path) == f"{commit} + uncommitted changes"
