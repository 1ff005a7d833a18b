import pytest
import yaml

from src.params import (
    EmbedTextParams,
    FetchListParams,
    ParamError,
    TrainSvmParams,
    load_section,
    load_seed,
    read_params,
)
from tests.conftest import ROOT


def test_the_shipped_params_load():
    raw = read_params(ROOT / "params.yaml")
    assert load_section(raw, "train_svm", TrainSvmParams).C == [0.01, 0.1, 1.0]
    assert load_section(raw, "fetch_list", FetchListParams).tmdb.popular_pages == 50
    assert isinstance(load_seed(raw), int)
    assert load_section(raw, "embed_text", EmbedTextParams).model_dir is None


def _with(section: str, key: str, value):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw[section][key] = value
    return raw


@pytest.mark.parametrize(
    ("section", "cls", "key", "value", "message"),
    [
        ("train_svm", TrainSvmParams, "C", [0.1, -1], "`train_svm.C` must be a list of positive numbers"),
        ("train_svm", TrainSvmParams, "C", "high", "`train_svm.C` must be a list"),
        ("train_svm", TrainSvmParams, "scoring", "accuracy", "`train_svm.scoring` must be one of"),
        ("train_svm", TrainSvmParams, "cv_folds", 1.5, "`train_svm.cv_folds` must be int"),
        ("fetch_list", FetchListParams, "source", "imdb", "`fetch_list.source` must be one of ['bundled', 'tmdb']"),
        ("fetch_list", FetchListParams, "max_movies", 3, "`fetch_list.max_movies` must be null or >= 10"),
        ("embed_text", EmbedTextParams, "text", "plot", "`embed_text.text` must be one of ['overview', 'title_overview']"),
        ("embed_text", EmbedTextParams, "batch_size", 0, "`embed_text.batch_size` must be 1..1024"),
        ("embed_text", EmbedTextParams, "model_dir", "", "`embed_text.model_dir` must be null or a folder"),
    ],
)
def test_a_bad_value_names_its_key(section, cls, key, value, message):
    with pytest.raises(ParamError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_section(_with(section, key, value), section, cls)


def test_an_unknown_key_is_named():
    raw = _with("train_svm", "Cs", [1])
    with pytest.raises(ParamError, match=r"unknown key `train_svm\.Cs`"):
        load_section(raw, "train_svm", TrainSvmParams)


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
    with pytest.raises(ParamError, match=r"`train_nb\.alpha` must be > 0"):
        train_nb.main()
