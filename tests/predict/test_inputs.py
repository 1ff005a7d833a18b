"""What a user gives `predict`, read and checked without any trained model: flags, JSON, CSV, files."""

from __future__ import annotations

import json
import pickle

import pytest
from PIL import Image

from movie_genres.predict.batch import read_rows
from movie_genres.predict.cli import main
from movie_genres.predict.features import load_pickle
from movie_genres.predict.movie import (
    ModelFilesError,
    MovieInput,
    PredictError,
    movie_from_mapping,
    parse_details,
    read_text_file,
)


def test_details_from_text_or_lists():
    details = parse_details(
        {"keywords": " heist, bank ,,", "companies": ["Warner Bros."], "runtime": "136", "release_date": "1999-03-30"}
    )
    assert details == {
        "keywords": ["heist", "bank"],
        "companies": ["Warner Bros."],
        "runtime": 136.0,
        "release_date": "1999-03-30",
    }
    assert parse_details({"tagline": "", "runtime": None, "keywords": ""}) == {}
    # Names with commas: a JSON list, as text.
    assert parse_details({"companies": '["Weinstein Company, The", "Miramax"]'}) == {
        "companies": ["Weinstein Company, The", "Miramax"]
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"runtime": "long"}, "runtime must be a number of minutes, not 'long'"),
        ({"runtime": -3}, "runtime must be a positive number of minutes"),
        ({"release_date": "30/03/1999"}, "release date must look like 1999-03-31 or 1999"),
        ({"keywords": 7}, "keywords must be a list or comma-separated text"),
    ],
)
def test_bad_details_say_what_is_expected(values, message):
    with pytest.raises(PredictError, match=message):
        parse_details(values)


def test_inputs_given_and_the_kinds_models_need():
    movie = MovieInput(title="Heat", overview="A heist.", details={"runtime": 170.0})
    assert movie.given() == {"title", "overview", "runtime"}
    assert movie.available() == {"overview", "details"}
    assert MovieInput(title="Heat").available() == set()


def test_a_json_movie_takes_its_poster_from_its_own_folder(tmp_path):
    (tmp_path / "posters").mkdir()
    Image.new("RGB", (20, 30), "red").save(tmp_path / "posters" / "heat.jpg")
    movie = movie_from_mapping({"title": "Heat", "overview": "A heist.", "poster": "posters/heat.jpg"}, tmp_path)
    assert movie.poster is not None and movie.poster.size == (20, 30)
    with pytest.raises(PredictError, match=f"poster {tmp_path / 'missing.jpg'} not found"):
        movie_from_mapping({"poster": "missing.jpg"}, tmp_path)


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "plot.txt"
    path.write_bytes("Amélie".encode("latin-1"))
    with pytest.raises(PredictError, match=f"overview file {path} is not UTF-8 text .* save it as UTF-8"):
        read_text_file(path, "overview file")
    with pytest.raises(PredictError, match=f"overview file {tmp_path / 'none.txt'} not found"):
        read_text_file(tmp_path / "none.txt", "overview file")


def test_jsonl_rows_keep_their_order_and_bad_lines_become_row_errors(tmp_path):
    path = tmp_path / "movies.jsonl"
    path.write_bytes(b'{"overview": "A"}\n\n{not json\n[1, 2]\n{"overview": "\xe9"}\n{"overview": "B"}\n')
    rows = list(read_rows(path))
    assert [r.number for r in rows] == [1, 2, 3, 4, 5]
    assert [r.values for r in rows] == [{"overview": "A"}, None, None, None, {"overview": "B"}]
    assert rows[1].error.startswith("line 3 is not valid JSON")
    assert rows[2].error == "line 4 is not a JSON object"
    assert rows[3].error == "line 5 is not UTF-8 text"


def test_csv_rows(tmp_path):
    path = tmp_path / "movies.csv"
    path.write_text('title,overview,keywords\nHeat,A heist.,"heist, bank"\nX,Y,Z,extra\n')
    rows = list(read_rows(path))
    assert rows[0].values == {"title": "Heat", "overview": "A heist.", "keywords": "heist, bank"}
    assert rows[1].error == "row 2 has more cells than the header"
    (tmp_path / "bad.csv").write_text("name,plot\na,b\n")
    with pytest.raises(PredictError, match="needs a header row with an overview or poster column"):
        list(read_rows(tmp_path / "bad.csv"))
    with pytest.raises(PredictError, match=r"must be JSON Lines \(.jsonl\) or CSV \(.csv\)"):
        list(read_rows(tmp_path / "movies.txt"))


def test_a_damaged_pickle_is_named_with_the_fix(tmp_path):
    path = tmp_path / "nb.pkl"
    path.write_bytes(pickle.dumps({"weights": list(range(1000))})[:100])
    fix = r"run `dvc repro` \(or `dvc pull`\)"
    with pytest.raises(ModelFilesError, match=f"{path} is corrupt or truncated .*: {fix}"):
        load_pickle(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "x.jsonl", "--overview", "A heist."], "--output goes with --input"),
        (["--input", "m.jsonl", "--overview", "A"], "--input predicts the movies of a file: leave out --overview"),
        (["--tmdb-id", "603", "--overview", "A heist."], "--tmdb-id fetches the movie from TMDB"),
        (["--overview", "A", "--overview-file", "plot.txt"], "not allowed with argument"),
    ],
)
def test_usage_errors_are_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_movie_file_must_hold_one_object(tmp_path, capsys):
    (tmp_path / "movie.json").write_text(json.dumps([{"overview": "A heist."}]))
    assert main(["--movie", str(tmp_path / "movie.json")]) == 2
    assert capsys.readouterr().err == f"error: movie file {tmp_path / 'movie.json'} must hold one JSON object\n"


def test_an_unreadable_poster_is_named(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(PredictError, match=f"poster {tmp_path / 'broken.jpg'} is not a readable image"):
        movie_from_mapping({"poster": "broken.jpg"}, tmp_path)
    with pytest.raises(PredictError, match=f"poster {tmp_path} cannot be read"):
        movie_from_mapping({"poster": "."}, tmp_path)
