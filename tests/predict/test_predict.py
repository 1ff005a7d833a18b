"""`predict` end to end on the small trained profile: the same scores as the pipeline, clear errors."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.models.predictions import at_least_one_genre, load_predictions
from movie_genres.predict.api import Predictor
from movie_genres.predict.cli import main
from tests.dvc_repo import run, set_params

pytestmark = pytest.mark.e2e


@pytest.fixture
def trained(small_profile_repo, monkeypatch):
    monkeypatch.chdir(small_profile_repo)
    return small_profile_repo


def _predict(capsys, *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _a_test_movie(repo):
    dataset = read_table(repo / paths.DATASET)
    return dataset[dataset["subset"] == "test"].iloc[0]


def _scores(result: dict, genre_order: list[str]) -> np.ndarray:
    by_genre = {g["genre"]: g["score"] for g in result["genres"]}
    return np.array([by_genre[g] for g in genre_order])


def test_text_and_poster_models_reproduce_the_pipelines_scores(trained, capsys, tmp_path):
    movie = _a_test_movie(trained)
    genres = pd.read_csv(trained / paths.GENRES)["name"].tolist()
    with zipfile.ZipFile(trained / paths.POSTERS) as zf:
        (tmp_path / "poster.jpg").write_bytes(zf.read(f"{movie['movie_id']}.jpg"))
    for model, args in [
        ("text_mlp", ["--overview", movie["overview"]]),
        ("poster_mlp", ["--poster", str(tmp_path / "poster.jpg")]),
    ]:
        result = _predict(capsys, *args, "--model", model)
        stored = load_predictions(trained / paths.predictions_file(model)).rows(np.array([movie["movie_id"]]))[0]
        np.testing.assert_allclose(_scores(result, genres), stored, atol=2e-4)  # scores are printed rounded


def test_predict_describes_a_movie_as_the_models_were_trained_not_as_params_say_today(trained, capsys, tmp_path):
    """Changing the featurizers' params after training changes nothing: predict uses the settings the
    feature stages recorded, and a repro would retrain the models with the new ones anyway."""
    movie = _a_test_movie(trained)
    with zipfile.ZipFile(trained / paths.POSTERS) as zf:
        (tmp_path / "poster.jpg").write_bytes(zf.read(f"{movie['movie_id']}.jpg"))
    inputs = ["--overview", movie["overview"], "--title", movie["title"], "--poster", str(tmp_path / "poster.jpg")]
    models = ["text_mlp", "minilm_mlp", "poster_mlp"]
    before = {model: _predict(capsys, *inputs, "--model", model)["genres"] for model in models}
    params = trained / "params.yaml"
    original = params.read_text()
    set_params(
        trained,
        {
            ("embed_text", "text"): "overview",
            ("word_vectors", "lowercase"): False,
            ("vgg_extract", "efficientnet_lite0", "resize"): "stretch",
            ("vgg_extract", "efficientnet_lite0", "crop_fraction"): None,
        },
    )
    try:
        after = {model: _predict(capsys, *inputs, "--model", model)["genres"] for model in models}
    finally:
        params.write_text(original)
    assert after == before


def test_the_default_is_the_pipelines_choice_for_the_inputs_given(trained, capsys, tmp_path):
    movie = _a_test_movie(trained)
    result = _predict(capsys, "--overview", movie["overview"], "--title", movie["title"])
    chosen = json.loads((trained / paths.DEFAULT_MODELS).read_text())["overview"]["model"]
    assert result["model"] == chosen and result["chosen"] == "the default for overview"
    assert [g["score"] for g in result["genres"]] == sorted((g["score"] for g in result["genres"]), reverse=True)
    # Its scores are the pipeline's for this movie, and "predicted" applies the model's tuned thresholds.
    genres = pd.read_csv(trained / paths.GENRES)["name"].tolist()
    stored = load_predictions(trained / paths.predictions_file(chosen)).rows(np.array([movie["movie_id"]]))[0]
    np.testing.assert_allclose(_scores(result, genres), stored, atol=2e-4)
    thresholds = json.loads((trained / paths.model_decision(chosen)).read_text())["thresholds"]
    decided = at_least_one_genre(stored[None], np.array([thresholds[genre] for genre in genres]))[0]
    assert {g["genre"] for g in result["genres"] if g["predicted"]} == {g for g, d in zip(genres, decided) if d}
    assert any(g["predicted"] for g in result["genres"])


def _one_line_error(capsys, *args: str) -> str:
    assert main(list(args)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    return captured.err


def test_clear_errors(trained, capsys, tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    (tmp_path / "latin1.txt").write_bytes("Une héritière ruinée.".encode("latin-1"))
    cards = (trained / paths.CARDS).glob("*.json")
    trained_names = ", ".join(sorted(p.stem for p in cards))
    cases = [
        (["--overview", "   "], "the overview is empty"),
        (["--poster", str(tmp_path / "broken.jpg")], f"poster {tmp_path / 'broken.jpg'} is not a readable image"),
        (["--poster", str(tmp_path / "none.jpg")], f"poster {tmp_path / 'none.jpg'} not found"),
        (
            ["--overview", "A heist.", "--model", "stack_details"],
            "model `stack_details` needs ['details', 'poster'] as well: give details (--tagline, --keywords,",
        ),
        (
            ["--overview", "A heist.", "--model", "no_such_model"],
            f"unknown model `no_such_model`: the trained models are {trained_names}",
        ),
        (
            ["--title", "Heat"],
            "only title given: every model needs an overview (--overview or --overview-file) or a poster (--poster)",
        ),
        (["--title", "Heat", "--runtime", "170"], "only title, runtime given: every model needs an overview"),
        (
            ["--overview-file", str(tmp_path / "latin1.txt")],
            f"overview file {tmp_path / 'latin1.txt'} is not UTF-8 text (byte 0xe9 at offset 5): save it as UTF-8",
        ),
        (["--overview-file", str(tmp_path / "none.txt")], f"overview file {tmp_path / 'none.txt'} not found"),
        (
            ["--overview", "A heist.", "--runtime", "long", "--model", "details_logreg"],
            "runtime must be a number of minutes, not 'long'",
        ),
        (["--input", str(tmp_path / "none.jsonl")], f"input file {tmp_path / 'none.jsonl'} not found"),
        (
            ["--overview", "A heist.", "--release-date", "2014-13-45", "--model", "details_logreg"],
            "release date 2014-13-45 is not a day of the calendar",
        ),
    ]
    for args, message in cases:
        assert message in _one_line_error(capsys, *args), args


def test_what_the_model_does_not_read_is_ignored_with_a_warning_and_odd_overviews_are_warned_about(
    trained, capsys, tmp_path
):
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    result = _predict(capsys, "--overview", "A heist.", "--poster", str(tmp_path / "broken.jpg"), "--model", "nb")
    assert result["model"] == "nb" and result["inputs_used"] == ["overview"]
    assert any(w.startswith(f"poster {tmp_path / 'broken.jpg'} is not a readable image") for w in result["warnings"])
    french = "Un jeune sorcier découvre son destin dans une école de magie et affronte le mage noir."
    result = _predict(capsys, "--overview", french, "--model", "nb")
    assert "the overview looks like language `fr`, not English" in " ".join(result["warnings"])
    long = " ".join(["A crew plans one last bank heist in the city."] * 200)
    result = _predict(capsys, "--overview", long, "--model", "nb")
    assert result["warnings"] == [
        "the overview has 2000 words: only its first 1000 are read (more than any model reads of an overview)"
    ]


def test_a_damaged_model_file_is_named_with_the_fix(trained, capsys, tmp_path, monkeypatch):
    """A truncated pickle or Keras archive, or a garbled decision file: one line naming the file."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for entry in trained.iterdir():
        if entry.name != "models":
            (repo / entry.name).symlink_to(entry)
    shutil.copytree(trained / "models", repo / "models")
    monkeypatch.chdir(repo)
    for name in ("nb.pkl", "minilm_mlp.keras"):
        path = repo / "models" / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    (repo / paths.model_decision("svm")).write_text('{"thresholds": {')
    for model, file in [("nb", "nb.pkl"), ("minilm_mlp", "minilm_mlp.keras"), ("svm", "decisions/svm.json")]:
        err = _one_line_error(capsys, "--overview", "A heist.", "--model", model)
        assert f"error: models/{file} is corrupt or truncated (" in err
        assert err.endswith("): run `dvc repro` (or `dvc pull`) to restore it\n")
    (repo / "models" / "nb.pkl").unlink()
    err = _one_line_error(capsys, "--overview", "A heist.", "--model", "nb")
    assert err == "error: models/nb.pkl is missing: run `dvc repro` (or `dvc pull`) first\n"


def test_an_overview_without_a_known_word_is_warned_about(trained, capsys):
    for model in ["nb", "svm", "text_mlp", "minilm_mlp", "details_logreg"]:
        extra = ["--keywords", "heist"] if model == "details_logreg" else []
        assert main(["--overview", "zzzz qqqq", "--model", model, "--json", *extra]) == 0
        captured = capsys.readouterr()
        warnings = json.loads(captured.out)["warnings"]
        assert len(warnings) == 1 and warnings[0].startswith("the overview has no word known to "), warnings
        assert captured.err == f"warning: {warnings[0]}\n"
        assert main(["--overview", "zzzz qqqq", "--model", model, *extra]) == 0  # text output: the same warning
        assert capsys.readouterr().err == f"warning: {warnings[0]}\n"
    movie = _a_test_movie(trained)
    assert _predict(capsys, "--overview", movie["overview"], "--model", "nb")["warnings"] == []


def test_output_names_the_model_and_the_inputs_used_and_ignored(trained, capsys, tmp_path):
    movie = _a_test_movie(trained)
    with zipfile.ZipFile(trained / paths.POSTERS) as zf:
        (tmp_path / "poster.jpg").write_bytes(zf.read(f"{movie['movie_id']}.jpg"))
    given = ["--title", movie["title"], "--overview", movie["overview"], "--poster", str(tmp_path / "poster.jpg")]
    result = _predict(capsys, *given, "--keywords", "heist,bank", "--model", "nb")
    assert result["model"] == "nb" and result["chosen"] == "requested"
    assert result["inputs_used"] == ["overview"]
    assert result["inputs_ignored"] == ["title", "poster", "keywords"]
    assert result["predicted_genres"] == [g["genre"] for g in result["genres"] if g["predicted"]]
    assert main([*given, "--keywords", "heist,bank", "--model", "nb"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[:3] == [
        f"model: nb (requested; out-of-fold micro-F1 {result['out_of_fold_f1_micro']:.3f})",
        "inputs used: overview",
        "inputs ignored (not used by nb): title, poster, keywords",
    ]
    # MiniLM embeds "<title>. <overview>" (embed_text.text of training): the title counts as used.
    result = _predict(capsys, *given, "--model", "minilm_mlp")
    assert result["inputs_used"] == ["title", "overview"] and result["inputs_ignored"] == ["poster"]


def _all_inputs(trained, tmp_path) -> list[str]:
    movie = _a_test_movie(trained)
    with zipfile.ZipFile(trained / paths.POSTERS) as zf:
        (tmp_path / "poster.jpg").write_bytes(zf.read(f"{movie['movie_id']}.jpg"))
    return [
        "--title", movie["title"], "--overview", movie["overview"], "--poster", str(tmp_path / "poster.jpg"),
        "--keywords", ",".join(movie["keywords"]) or "heist", "--runtime", str(movie["runtime"]),
        "--release-date", movie["release_date"], "--tagline", movie["tagline"] or "One last job.",
        "--companies", ",".join(movie["companies"]) or "Warner Bros.",
    ]  # fmt: skip


def test_details_given_in_part_leave_the_default_to_the_overview_with_a_warning(trained, capsys):
    """The details models were trained with every detail field known: a release date alone made
    them worse than the overview alone on held-out movies (bench/results/partial_details.json)."""
    movie = _a_test_movie(trained)
    defaults = json.loads((trained / paths.DEFAULT_MODELS).read_text())
    result = _predict(capsys, "--overview", movie["overview"], "--release-date", movie["release_date"])
    assert result["model"] == defaults["overview"]["model"] and result["chosen"] == "the default for overview"
    assert "release_date" in result["inputs_ignored"]
    missing = [
        f for f in ("tagline", "keywords", "companies", "runtime") if f in Predictor().featurizers.detail_blocks()
    ]
    assert result["warnings"][-1].startswith(f"details given in part (no {', '.join(missing)}): the details models")
    # Asked for by name, a details model still reads them.
    assert _predict(capsys, "--overview", movie["overview"], "--release-date", movie["release_date"],
                    "--model", "details_logreg")["inputs_used"][-1] == "release_date"  # fmt: skip


def test_with_details_and_a_poster_the_default_can_use_them(trained, capsys, tmp_path, monkeypatch):
    inputs = _all_inputs(trained, tmp_path)
    defaults = json.loads((trained / paths.DEFAULT_MODELS).read_text())
    result = _predict(capsys, *inputs)
    assert result["model"] == defaults["overview+poster+details"]["model"]
    assert result["chosen"] == "the default for overview+poster+details"
    # Where the stack of every model is the default (as on the full data), it uses every input.
    stacked = {**defaults, "overview+poster+details": {"model": "stack_details"}}
    monkeypatch.setattr(Predictor, "defaults", lambda self: stacked)
    result = _predict(capsys, *inputs)
    assert result["model"] == "stack_details"
    assert {"overview", "poster", "keywords", "runtime", "release_date"} <= set(result["inputs_used"])
    # The same movie without details gets the default for an overview and a poster.
    result = _predict(capsys, *inputs[:6])
    assert result["model"] == defaults["overview+poster"]["model"]
    assert result["chosen"] == "the default for overview+poster"


def test_the_details_models_reproduce_the_pipelines_scores_from_a_movie_file(trained, capsys, tmp_path):
    """details_logreg and stack_details, from --movie: the scores the pipeline gave the test movie."""
    movie = _a_test_movie(trained)
    genres = pd.read_csv(trained / paths.GENRES)["name"].tolist()
    (tmp_path / "posters").mkdir()
    with zipfile.ZipFile(trained / paths.POSTERS) as zf:
        (tmp_path / "posters" / "p.jpg").write_bytes(zf.read(f"{movie['movie_id']}.jpg"))
    fields = {
        "title": movie["title"],
        "overview": movie["overview"],
        "poster": "posters/p.jpg",
        "tagline": movie["tagline"],
        "keywords": list(movie["keywords"]),
        "companies": list(movie["companies"]),
        "runtime": None if pd.isna(movie["runtime"]) else float(movie["runtime"]),
        "release_date": movie["release_date"],
    }
    (tmp_path / "movie.json").write_text(json.dumps(fields))
    for model in ["details_logreg", "stack_details"]:
        result = _predict(capsys, "--movie", str(tmp_path / "movie.json"), "--model", model)
        stored = load_predictions(trained / paths.predictions_file(model)).rows(np.array([movie["movie_id"]]))[0]
        np.testing.assert_allclose(_scores(result, genres), stored, atol=2e-4)


def _passes_in_a_new_interpreter(statements: str, cwd) -> None:
    """Python statements, run after `import sys` and predict's `main` in a fresh process (so sys.modules
    shows what predict itself imported), must all pass."""
    done = run([sys.executable, "-c", f"import sys; from movie_genres.predict.cli import main; {statements}"], cwd=cwd)
    assert done.returncode == 0, done.stderr


def test_a_scikit_learn_model_runs_without_tensorflow(trained):
    _passes_in_a_new_interpreter(
        "assert main(['--overview', 'A heist.', '--model', 'nb']) == 0; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'",
        trained,
    )


def test_one_movie_runs_without_tensorflow_or_gensim(trained, tmp_path):
    """The default engine of one movie is numpy: the default models with a poster, and without."""
    movie = _a_test_movie(trained)
    with zipfile.ZipFile(trained / paths.POSTERS) as zf:
        (tmp_path / "poster.jpg").write_bytes(zf.read(f"{movie['movie_id']}.jpg"))
    _passes_in_a_new_interpreter(
        f"assert main(['--overview', {movie['overview']!r}, '--poster', {str(tmp_path / 'poster.jpg')!r}]) == 0; "
        f"assert main(['--overview', {movie['overview']!r}, '--title', {movie['title']!r}]) == 0; "
        "heavy = ['tensorflow', 'keras', 'keras_hub', 'gensim']; "
        "assert not [m for m in heavy if m in sys.modules], [m for m in heavy if m in sys.modules]",
        trained,
    )


def test_a_model_the_numpy_engine_does_not_compute_goes_to_tensorflow_by_default(trained, capsys, monkeypatch):
    """One movie defaults to numpy; where it refuses a model, the default is tensorflow, a requested numpy an error."""
    from movie_genres.errors import NumpyEngineUnsupported
    from movie_genres.models.mlp_numpy import NumpyMlp

    movie = _a_test_movie(trained)
    on_tensorflow = _predict(capsys, "--overview", movie["overview"], "--model", "text_mlp", "--engine", "tensorflow")

    def refuse(path):
        raise NumpyEngineUnsupported(f"{path}: not computed here: predict with --engine tensorflow")

    monkeypatch.setattr(NumpyMlp, "load", staticmethod(refuse))
    assert _predict(capsys, "--overview", movie["overview"], "--model", "text_mlp") == on_tensorflow
    assert main(["--overview", movie["overview"], "--model", "text_mlp", "--engine", "numpy"]) == 2
    assert "predict with --engine tensorflow" in capsys.readouterr().err


def test_keras_models_load_only_the_libraries_they_use(trained, tmp_path):
    """On TensorFlow, Keras' and keras-hub's optional imports (plots, Kaggle's client, TF Text) stay out;
    so does scikit-learn for a poster model (a text model reads the bag of words to check its words)."""
    movie = _a_test_movie(trained)
    with zipfile.ZipFile(trained / paths.POSTERS) as zf:
        (tmp_path / "poster.jpg").write_bytes(zf.read(f"{movie['movie_id']}.jpg"))
    on_tf = "'--engine', 'tensorflow'"
    _passes_in_a_new_interpreter(
        f"assert main(['--poster', {str(tmp_path / 'poster.jpg')!r}, '--model', 'poster_mlp', {on_tf}]) == 0; "
        "assert 'sklearn' not in sys.modules, 'scikit-learn was imported'; "
        f"assert main(['--overview', 'A heist.', '--model', 'minilm_mlp', {on_tf}]) == 0; "
        "unused = ['matplotlib', 'kagglehub', 'tensorflow_text']; "
        "assert not [m for m in unused if m in sys.modules], [m for m in unused if m in sys.modules]",
        trained,
    )


def test_a_missing_model_says_to_reproduce(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--overview", "A heist."]) == 2
    assert "no trained model in models/: run `dvc repro` (or `dvc pull`) first" in capsys.readouterr().err
