"""Batch mode end to end on the small trained profile: the same predictions as one movie at a time,
each model loaded once, a bad row an error line of its own."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.predict import api, features
from movie_genres.predict.api import Predictor
from movie_genres.predict.cli import ROWS_FAILED, main
from movie_genres.predict.movie import movie_from_mapping

pytestmark = pytest.mark.e2e

DETAIL_KEYS = ("tagline", "keywords", "companies", "runtime", "release_date")


@pytest.fixture
def trained(small_profile_repo, monkeypatch):
    monkeypatch.chdir(small_profile_repo)
    return small_profile_repo


def _test_movies(repo, folder, count: int) -> list[dict]:
    """Input rows for the first test movies: every field, posters written into `folder`."""
    dataset = read_table(repo / paths.DATASET)
    rows = []
    with zipfile.ZipFile(repo / paths.POSTERS) as zf:
        for movie in dataset[dataset["subset"] == "test"].head(count).to_dict("records"):
            (folder / f"{movie['movie_id']}.jpg").write_bytes(zf.read(f"{movie['movie_id']}.jpg"))
            rows.append(
                {
                    "id": int(movie["movie_id"]),
                    "title": movie["title"],
                    "overview": movie["overview"],
                    "poster": f"{movie['movie_id']}.jpg",
                    "tagline": movie["tagline"],
                    "keywords": list(movie["keywords"]),
                    "companies": list(movie["companies"]),
                    "runtime": None if pd.isna(movie["runtime"]) else float(movie["runtime"]),
                    "release_date": movie["release_date"],
                }
            )
    return rows


def _write_jsonl(path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def _batch(capsys, input_path, output_path, *args: str, status: int = 0) -> list[dict]:
    assert main(["--input", str(input_path), "--output", str(output_path), *args]) == status
    capsys.readouterr()
    return [json.loads(line) for line in output_path.read_text().splitlines()]


def _as_text(value) -> str:
    """A field as a flag or CSV cell: names comma-separated, or as a JSON list where a name has a comma."""
    if not isinstance(value, list):
        return str(value)
    return json.dumps(value) if any("," in name for name in value) else ",".join(value)


def _single_args(row: dict, folder) -> list[str]:
    args = ["--title", row["title"], "--overview", row["overview"], "--poster", str(folder / row["poster"])]
    for key in DETAIL_KEYS:
        if row[key]:
            args += [f"--{key.replace('_', '-')}", _as_text(row[key])]
    return args


def _scores(result: dict) -> dict[str, float]:
    return {g["genre"]: g["score"] for g in result["genres"]}


@pytest.mark.parametrize("model", ["nb", "minilm_mlp", "details_logreg", "early_fusion_mlp", "stack_details", None])
def test_batch_and_single_predictions_agree(trained, capsys, tmp_path, model):
    """The same models, inputs used and ignored, thresholds and scores (up to the printed rounding: a
    batch runs on TensorFlow, one movie on the numpy engine, the same networks to float32 rounding)."""
    rows = _test_movies(trained, tmp_path, 4)
    _write_jsonl(tmp_path / "movies.jsonl", rows)
    model_args = [] if model is None else ["--model", model]
    batch = _batch(capsys, tmp_path / "movies.jsonl", tmp_path / "preds.jsonl", *model_args)
    assert [entry["row"] for entry in batch] == [1, 2, 3, 4]
    assert [entry["id"] for entry in batch] == [row["id"] for row in rows]
    for entry, row in zip(batch, rows):
        assert main([*_single_args(row, tmp_path), *model_args, "--json"]) == 0
        single = json.loads(capsys.readouterr().out)
        for key in ("model", "chosen", "inputs_used", "inputs_ignored", "warnings", "score_kind"):
            assert entry[key] == single[key], key
        batch_scores, single_scores = _scores(entry), _scores(single)
        assert batch_scores.keys() == single_scores.keys()
        for genre, score in single_scores.items():
            assert batch_scores[genre] == pytest.approx(score, abs=1.01e-4), genre


def test_csv_input_gives_the_jsonl_predictions(trained, capsys, tmp_path):
    rows = _test_movies(trained, tmp_path, 3)
    _write_jsonl(tmp_path / "movies.jsonl", rows)
    with open(tmp_path / "movies.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else _as_text(v) for k, v in row.items()})
    from_jsonl = _batch(capsys, tmp_path / "movies.jsonl", tmp_path / "a.jsonl", "--model", "details_logreg")
    from_csv = _batch(capsys, tmp_path / "movies.csv", tmp_path / "b.jsonl", "--model", "details_logreg")
    for entry in from_csv:
        entry["id"] = int(entry["id"])  # CSV cells are text
    assert from_csv == from_jsonl


def test_chunks_cut_by_movies_or_by_posters_give_the_same_lines(trained, tmp_path):
    """A file is predicted a chunk at a time (at most CHUNK_MOVIES movies, CHUNK_POSTER_BYTES of poster
    files): where the chunks end changes no line, movies with posters and without mixed."""
    from movie_genres.predict.batch import predict_file

    rows = _test_movies(trained, tmp_path, 7)
    for row in rows[::2]:
        del row["poster"]
    _write_jsonl(tmp_path / "movies.jsonl", rows)
    predictor = Predictor()
    outputs = []
    for chunk_movies, chunk_poster_bytes in ((100, 2**30), (3, 2**30), (100, 1), (1, 1)):  # (100, 1): a poster ends one
        out = io.StringIO()
        assert predict_file(predictor, tmp_path / "movies.jsonl", out, None, chunk_movies, chunk_poster_bytes) == (7, 0)
        outputs.append(out.getvalue())
    assert outputs[1:] == outputs[:1] * 3


def test_a_bad_row_gets_an_error_line_and_the_others_go_on(trained, capsys, tmp_path):
    good = _test_movies(trained, tmp_path, 2)
    lines = [
        json.dumps(good[0]),
        "{not json",
        json.dumps({"id": "t", "title": "Heat"}),
        json.dumps({"poster": "missing.jpg"}),
        json.dumps({"overview": "A heist.", "runtime": "long"}),
        json.dumps({"overview": "A heist.", "overveiw": "typo"}),
        json.dumps(good[1]),
    ]
    (tmp_path / "movies.jsonl").write_text("\n".join(lines) + "\n")
    assert main(["--input", str(tmp_path / "movies.jsonl"), "--output", str(tmp_path / "preds.jsonl")]) == ROWS_FAILED
    out = [json.loads(line) for line in (tmp_path / "preds.jsonl").read_text().splitlines()]
    failed = sum("error" in entry for entry in out)
    summary = (
        f"predicted {7 - failed} of 7 movies to {{}}; {failed} could not be predicted (their lines hold the error)\n"
    )
    assert capsys.readouterr().err == summary.format(tmp_path / "preds.jsonl")
    assert [entry["row"] for entry in out] == [1, 2, 3, 4, 5, 6, 7]
    assert [entry.get("id") for entry in out] == [good[0]["id"], None, "t", None, None, None, good[1]["id"]]
    assert out[1]["error"].startswith("line 2 is not valid JSON")
    assert out[2]["error"].startswith("only title given: every model needs an overview")
    assert out[3]["error"] == f"poster {tmp_path / 'missing.jpg'} not found"
    # A bad runtime fails the row only if the model the row gets reads the runtime; either way it is named.
    bad_runtime = "runtime must be a number of minutes, not 'long'"
    assert out[4].get("error") == bad_runtime or any(w.startswith(bad_runtime) for w in out[4]["warnings"])
    assert out[5]["warnings"][-1] == "unknown field(s) ignored: overveiw"
    for entry in (out[0], out[5], out[6]):
        assert "error" not in entry and entry["genres"] and entry["model"]
    # A model name applies to every row; a row without what it needs is an error line.
    out = _batch(capsys, tmp_path / "movies.jsonl", tmp_path / "preds.jsonl", "--model", "poster_mlp", status=3)
    assert out[5]["error"].startswith("model `poster_mlp` needs ['poster'] as well")
    assert out[6]["model"] == "poster_mlp"
    # A field the model does not read is ignored with a warning, not an error.
    lines[3] = json.dumps({"overview": "A heist.", "poster": "missing.jpg"})
    (tmp_path / "movies.jsonl").write_text("\n".join(lines) + "\n")
    out = _batch(capsys, tmp_path / "movies.jsonl", tmp_path / "preds.jsonl", "--model", "nb", status=3)
    assert [entry["row"] for entry in out if "error" in entry] == [2, 3]
    assert f"poster {tmp_path / 'missing.jpg'} not found: ignored (`nb` does not read poster)" in out[3]["warnings"]
    assert "runtime must be a number of minutes, not 'long': ignored (`nb` does not read runtime)" in out[4]["warnings"]


def test_a_batch_without_a_failed_row_exits_0_and_one_with_only_failed_rows_exits_3(trained, capsys, tmp_path):
    _write_jsonl(tmp_path / "good.jsonl", [{"overview": "A crew plans one last bank heist."}])
    assert main(["--input", str(tmp_path / "good.jsonl"), "--model", "nb"]) == 0
    _write_jsonl(tmp_path / "bad.jsonl", [{"title": "Heat"}])
    assert main(["--input", str(tmp_path / "bad.jsonl"), "--model", "nb"]) == ROWS_FAILED
    assert capsys.readouterr().err.endswith(
        "predicted 0 of 1 movies; 1 could not be predicted (their lines hold the error)\n"
    )


def test_each_model_and_featurizer_is_loaded_once(trained, tmp_path, monkeypatch):
    from movie_genres.features import cnn, sentence_encoder
    from movie_genres.models import mlp

    loads: list[str] = []

    def counted(module, name: str) -> None:
        original = getattr(module, name)

        def load(*args, **kwargs):
            loads.append(f"{name}({args[0] if args else ''})")
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, load)

    counted(api, "load_pickle")
    counted(api, "load_json")
    counted(features, "load_pickle")
    counted(mlp, "load_keras_model")
    counted(cnn, "build_backbone")
    counted(sentence_encoder, "SentenceEncoder")
    movies = [movie_from_mapping(row, tmp_path) for row in _test_movies(trained, tmp_path, 5)]
    predictor = Predictor()
    first = predictor.predict_many(movies, "stack_details")
    once = sorted(loads)
    assert len(once) == len(set(once)), once
    for load in ("load_pickle(models/details_logreg.pkl)", "load_pickle(models/bag_of_words.pkl)",
                 "load_keras_model(models/poster_mlp.keras)", "SentenceEncoder(", "build_backbone("):  # fmt: skip
        assert any(entry.startswith(load) for entry in once), load
    # Later calls, one movie or many, load nothing more and give the same answers.
    for movie, result in zip(movies, first):
        single = predictor.predict(movie, "stack_details")
        assert single["predicted_genres"] == result["predicted_genres"]
        assert _scores(single) == pytest.approx(_scores(result), abs=1.01e-4)
    assert predictor.predict_many(movies, "stack_details") == first
    assert sorted(loads) == once


def test_a_damaged_model_stops_the_batch_with_one_line(trained, capsys, tmp_path):
    rows = _test_movies(trained, tmp_path, 2)
    _write_jsonl(tmp_path / "movies.jsonl", rows)
    output = tmp_path / "preds.jsonl"
    assert main(["--input", str(tmp_path / "movies.jsonl"), "--output", str(output), "--model", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown model `nope`: the trained models are ") and err.count("\n") == 1
    assert not output.exists() and not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("engine", ["tensorflow", "numpy"])
def test_scores_match_the_pipeline_for_every_model(trained, tmp_path, engine):
    """Batch predictions of the test movies, every model, on either engine: the scores the pipeline
    stored for them (the numpy engine's networks agree with TensorFlow's to float32 rounding)."""
    from movie_genres.models.predictions import load_predictions

    rows = _test_movies(trained, tmp_path, 12)
    movies = [movie_from_mapping(row, tmp_path) for row in rows]
    genres = pd.read_csv(paths.GENRES)["name"].tolist()
    predictor = Predictor(engine)
    for model in predictor.trained:
        results = predictor.predict_many(movies, model)
        got = np.array([[_scores(r)[g] for g in genres] for r in results])
        stored = load_predictions(paths.predictions_file(model)).rows(np.array([row["id"] for row in rows]))
        np.testing.assert_allclose(got, stored, atol=1.01e-4, err_msg=model)
