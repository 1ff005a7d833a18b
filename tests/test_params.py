import re

import pytest
import yaml

from movie_genres.params import (
    EmbedTextParams,
    FeatureCacheParams,
    FetchListParams,
    FetchPostersParams,
    LinearModelParams,
    ParamError,
    TextFeaturesParams,
    TmdbHttpParams,
    load_section,
    load_seed,
    read_params,
)
from tests.conftest import ROOT


def test_the_shipped_params_load():
    raw = read_params(ROOT / "params.yaml")
    assert load_section(raw, "train_svm", LinearModelParams).C == [0.01, 0.1, 1.0]
    assert load_section(raw, "fetch_list", FetchListParams).tmdb.popular_pages == 50
    assert load_section(raw, "tmdb_http", TmdbHttpParams).requests_per_second < 40  # below TMDB's soft cap
    assert isinstance(load_seed(raw), int)
    assert load_section(raw, "embed_text", EmbedTextParams).model_dir is None
    assert load_section(raw, "feature_cache", FeatureCacheParams).dir == "data/feature_cache"
    assert load_section({"feature_cache": {"dir": None}}, "feature_cache", FeatureCacheParams).dir is None  # no cache


def _with(section: str, key: str, value):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw[section][key] = value
    return raw


@pytest.mark.parametrize(
    ("section", "cls", "key", "value", "message"),
    [
        ("train_svm", LinearModelParams, "C", [0.1, -1], "`train_svm.C[1]`: Input should be greater than 0, got -1"),
        ("train_svm", LinearModelParams, "C", "high", "`train_svm.C`: Input should be a valid list, got 'high'"),
        ("train_svm", LinearModelParams, "scoring", "accuracy", "`train_svm.scoring`: Input should be 'f1_micro',"),
        ("train_svm", LinearModelParams, "cv_folds", 1.5, "`train_svm.cv_folds`: Input should be a valid integer"),
        (
            "train_details_logreg",
            LinearModelParams,
            "cv_max_movies",
            50,
            "`train_details_logreg.cv_max_movies`: Input should be greater than or equal to 100",
        ),
        (
            "fetch_list",
            FetchListParams,
            "source",
            "imdb",
            "`fetch_list.source`: Input should be 'bundled', 'tmdb' or 'export'",
        ),
        (
            "fetch_list",
            FetchListParams,
            "max_movies",
            3,
            "`fetch_list.max_movies`: Input should be greater than or equal to 10",
        ),
        ("tmdb_http", TmdbHttpParams, "requests_per_second", 100, "less than or equal to 50, got 100 (TMDB's soft cap"),
        ("tmdb_http", TmdbHttpParams, "workers", 0, "`tmdb_http.workers`: Input should be greater than or equal to 1"),
        (
            "tmdb_http",
            TmdbHttpParams,
            "max_retries",
            -1,
            "`tmdb_http.max_retries`: Input should be greater than or equal to 0",
        ),
        (
            "tmdb_http",
            TmdbHttpParams,
            "stop_after_failures",
            2,
            "`tmdb_http.stop_after_failures`: Input should be greater than or equal to 3",
        ),
        (
            "tmdb_http",
            TmdbHttpParams,
            "cache_dir",
            " ",
            "`tmdb_http.cache_dir`: String should match pattern '\\S', got ' ' (a folder path)",
        ),
        (
            "feature_cache",
            FeatureCacheParams,
            "dir",
            "",
            "`feature_cache.dir`: String should match pattern '\\S', got '' (a folder path, or null for no cache)",
        ),
        (
            "fetch_posters",
            FetchPostersParams,
            "tmdb_poster_size",
            "",
            "`fetch_posters.tmdb_poster_size`: String should have at least 1",
        ),
        (
            "embed_text",
            EmbedTextParams,
            "text",
            "plot",
            "`embed_text.text`: Input should be 'overview' or 'title_overview'",
        ),
        (
            "embed_text",
            EmbedTextParams,
            "batch_size",
            0,
            "`embed_text.batch_size`: Input should be greater than or equal to 1",
        ),
        ("embed_text", EmbedTextParams, "model_dir", "", "`embed_text.model_dir`: String should match pattern"),
        ("embed_text", EmbedTextParams, "batch_size", True, "`embed_text.batch_size`: Input should be a valid integer"),
        ("text_features", TextFeaturesParams, "min_df", 0.99, "`text_features`: min_df must be below max_df"),
    ],
)
def test_a_bad_value_names_its_key_and_rule(section, cls, key, value, message):
    with pytest.raises(ParamError, match=re.escape(message)):
        load_section(_with(section, key, value), section, cls)


def test_an_unknown_key_is_named():
    raw = _with("train_svm", "Cs", [1])
    with pytest.raises(ParamError, match=r"unknown key `train_svm\.Cs`"):
        load_section(raw, "train_svm", LinearModelParams)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("n_movies", 0, "`fetch_list.tmdb.n_movies`: Input should be greater than 0"),
        (
            "popular_pages",
            501,
            "`fetch_list.tmdb.popular_pages`: Input should be less than or equal to 500, got 501 (TMDB",
        ),
        ("discover_years_per_genre", 0, "`fetch_list.tmdb.discover_years_per_genre`: Input should be greater than 0"),
        ("details", "yes", "`fetch_list.tmdb.details`: Input should be a valid boolean, got 'yes'"),
    ],
)
def test_a_bad_tmdb_list_value_names_its_key(key, value, message):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["fetch_list"]["tmdb"][key] = value
    with pytest.raises(ParamError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_section(raw, "fetch_list", FetchListParams)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("date", "2026-12-01", "`fetch_list.export.date`: must be a real day, got '2026-12-01' (the export's day"),
        ("date", "02_30_2026", "`fetch_list.export.date`: must be a real day, got '02_30_2026'"),
        ("date", 12012026, "`fetch_list.export.date`: Input should be a valid string, got 12012026"),
        ("url", "https://files.tmdb.org/p/exports/movie_ids.json.gz", "`fetch_list.export.url`: must hold {date} once"),
        ("url", "https://x/{date}/{name}.gz", "`fetch_list.export.url`: must hold {date} once, and no other braces"),
        ("min_popularity", -1, "`fetch_list.export.min_popularity`: Input should be greater than or equal to 0"),
        ("max_ids", 0, "`fetch_list.export.max_ids`: Input should be greater than 0, got 0 (the most popular N ids"),
        ("shard_size", 0, "`fetch_list.export.shard_size`: Input should be greater than or equal to 1"),
        ("dir", "", "`fetch_list.export.dir`: String should match pattern '\\S', got '' (a folder path)"),
    ],
)
def test_a_bad_export_value_names_its_key(key, value, message):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["fetch_list"]["export"][key] = value
    with pytest.raises(ParamError, match=re.escape(message)):
        load_section(raw, "fetch_list", FetchListParams)


def test_the_export_url_is_filled_with_its_date():
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    export = load_section(raw, "fetch_list", FetchListParams).export
    assert export.export_url == f"https://files.tmdb.org/p/exports/movie_ids_{export.date}.json.gz"


def test_a_missing_nested_key_is_named():
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    del raw["fetch_list"]["tmdb"]["popular_pages"]
    with pytest.raises(ParamError, match=r"`fetch_list\.tmdb\.popular_pages` is missing"):
        load_section(raw, "fetch_list", FetchListParams)


def test_a_stage_stops_on_a_bad_param(in_tmp_repo):
    """The stage entry point itself refuses, before touching any data."""
    from stages import train_nb

    raw = yaml.safe_load((in_tmp_repo / "params.yaml").read_text())
    raw["train_nb"]["alpha"] = 0
    (in_tmp_repo / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamError, match=r"`train_nb\.alpha`: Input should be greater than 0"):
        train_nb.main(["nb", "data/features/text_counts.npz"])


def test_params_yaml_is_in_the_form_dvc_writes_back(tmp_path):
    """`dvc exp run -S` rewrites params.yaml with its own YAML writer: a file already in that form
    changes only where a value does (comments kept)."""
    from dvc.utils.hydra import apply_overrides

    copy = tmp_path / "params.yaml"
    copy.write_bytes((ROOT / "params.yaml").read_bytes())
    apply_overrides(copy, [])
    fix = "python -c 'from dvc.utils.hydra import apply_overrides; apply_overrides(\"params.yaml\", [])'"
    assert copy.read_text() == (ROOT / "params.yaml").read_text(), f"rewrite params.yaml in DVC's form: {fix}"


@pytest.mark.e2e
def test_dvc_exp_run_with_one_value_set_changes_one_line_of_params_yaml(tmp_path):
    """The real `dvc exp run -S`, in a repository with the shipped params.yaml and one stage reading one value."""
    from tests.dvc_repo import dvc, git

    (tmp_path / "params.yaml").write_bytes((ROOT / "params.yaml").read_bytes())
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  fit:\n    cmd: echo fitted > fit.txt\n    params: [train_svm.cv_folds]\n    outs: [fit.txt]\n"
    )
    git("init", "-q", cwd=tmp_path)
    dvc("init", "-q", cwd=tmp_path)
    git("add", ".", cwd=tmp_path)
    git("commit", "-qm", "init", cwd=tmp_path)
    dvc("exp", "run", "-S", "train_svm.cv_folds=4", cwd=tmp_path)
    diff = git("diff", "--unified=0", "params.yaml", cwd=tmp_path)
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert [line.split("#")[0].rstrip() for line in changed] == ["-  cv_folds: 5", "+  cv_folds: 4"]
