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
    OVERVIEW_MAX_WORDS,
    ModelFilesError,
    MovieInput,
    PredictError,
    cut_overview,
    movie_from_mapping,
    read_text_file,
)


def test_details_from_text_or_lists():
    movie = movie_from_mapping(
        {"keywords": " heist, bank ,,", "companies": ["Warner Bros."], "runtime": "136", "release_date": "1999-03-30"}
    )
    assert movie.details == {
        "keywords": ["heist", "bank"],
        "companies": ["Warner Bros."],
        "runtime": 136.0,
        "release_date": "1999-03-30",
    }
    assert movie.problems == {}
    assert movie_from_mapping({"tagline": "", "runtime": None, "keywords": ""}).details == {}
    # Names with commas: a JSON list, as text.
    assert movie_from_mapping({"companies": '["Weinstein Company, The", "Miramax"]'}).details == {
        "companies": ["Weinstein Company, The", "Miramax"]
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"runtime": "long"}, "runtime must be a number of minutes, not 'long'"),
        ({"runtime": -3}, "runtime must be a positive number of minutes"),
        ({"release_date": "30/03/1999"}, "release date must look like 1999-03-31 or 1999"),
        ({"release_date": "2014-13-45"}, "release date 2014-13-45 is not a day of the calendar"),
        ({"release_date": "2015-02-29"}, "release date 2015-02-29 is not a day of the calendar"),
        ({"keywords": 7}, "keywords must be a list or comma-separated text"),
        ({"overview": 7}, "overview must be text, not 7"),
    ],
)
def test_a_field_that_cannot_be_read_is_left_out_and_says_what_is_expected(values, message):
    movie = movie_from_mapping({"title": "Heat", **values})
    (field,) = values
    assert list(movie.problems) == [field] and message in movie.problems[field]
    assert field not in movie.given() and movie.title == "Heat"


def test_a_leap_day_is_a_release_date():
    assert movie_from_mapping({"release_date": "2016-02-29"}).details == {"release_date": "2016-02-29"}


def test_a_long_overview_is_cut_with_a_warning_a_short_one_is_kept_whole():
    text = " ".join(f"w{i}" for i in range(OVERVIEW_MAX_WORDS + 500))
    movie = movie_from_mapping({"overview": text})
    assert movie.overview == text[: text.index(f" w{OVERVIEW_MAX_WORDS}")]
    assert movie.notes == [
        f"the overview has {OVERVIEW_MAX_WORDS + 500} words: only its first {OVERVIEW_MAX_WORDS} are read "
        "(more than any model reads of an overview)"
    ]
    short = "A heist.\n  The crew  splits. "
    assert cut_overview(short) == (short, None)


def test_the_overview_cut_is_beyond_what_any_model_reads(bundled):
    """MiniLM reads at most its window of word pieces (each word is one or more) and the word models
    were trained on the bundled overviews: neither loses anything to the cut."""
    from movie_genres.features.sentence_encoder import find_model_dir, max_sequence_length

    movies, _ = bundled
    assert max_sequence_length(find_model_dir()) <= OVERVIEW_MAX_WORDS
    assert movies["overview"].fillna("").astype(str).str.split().str.len().max() <= OVERVIEW_MAX_WORDS


def test_inputs_given_and_the_kinds_models_need():
    movie = MovieInput(title="Heat", overview="A heist.", details={"runtime": 170.0})
    assert movie.given() == {"title", "overview", "runtime"}
    assert movie.available() == {"overview", "details"}
    assert MovieInput(title="Heat").available() == set()


def test_a_json_movie_takes_its_poster_from_its_own_folder(tmp_path):
    (tmp_path / "posters").mkdir()
    Image.new("RGB", (20, 30), "red").save(tmp_path / "posters" / "heat.jpg")
    movie = movie_from_mapping({"title": "Heat", "overview": "A heist.", "poster": "posters/heat.jpg"}, tmp_path)
    assert movie.poster == (tmp_path / "posters" / "heat.jpg").read_bytes()  # the file, checked to decode
    assert movie_from_mapping({"poster": "missing.jpg"}, tmp_path).problems == {
        "poster": f"poster {tmp_path / 'missing.jpg'} not found"
    }


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


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('title,overview\nHeat,A heist.\nAlien,"In space\nJaws,A shark.\n', "unexpected end of data"),
        ('title,overview\nHeat,A heist.\nAlien,"In space\nJaws,"A shark."\n', "',' expected after '\"'"),
    ],
    ids=["never-closed", "closed-by-a-later-quote"],
)
def test_a_quote_never_closed_is_a_row_error_not_one_long_overview(tmp_path, text, reason):
    path = tmp_path / "movies.csv"
    path.write_text(text)
    rows = list(read_rows(path))
    assert [r.values for r in rows] == [{"title": "Heat", "overview": "A heist."}, None]
    assert rows[1].number == 2
    assert rows[1].error == (
        f"the CSV cannot be read from line 3 on ({reason}): a quote opened there or before is probably "
        "never closed; no movie after it was read"
    )


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
    broken = movie_from_mapping({"poster": "broken.jpg"}, tmp_path)
    assert broken.poster is None
    assert broken.problems["poster"].startswith(f"poster {tmp_path / 'broken.jpg'} is not a readable image")
    assert (
        movie_from_mapping({"poster": "."}, tmp_path).problems["poster"].startswith(f"poster {tmp_path} cannot be read")
    )


def test_a_poster_cut_short_is_refused_when_read_not_in_the_network(tmp_path):
    """Posters are kept as their files and decoded by the CNN later: reading one decodes it whole first."""
    Image.new("RGB", (60, 90), "red").save(tmp_path / "whole.jpg")
    whole = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(whole[: len(whole) - 20])
    cut = movie_from_mapping({"poster": "cut.jpg"}, tmp_path)
    assert cut.poster is None
    assert cut.problems["poster"].startswith(
        f"poster {tmp_path / 'cut.jpg'} is not a readable image (OSError: image file is truncated"
    )
