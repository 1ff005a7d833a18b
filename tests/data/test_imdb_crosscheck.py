"""The IMDb cross-check on a nine-row title.basics in IMDb's own format (real ids and genres of known
films, a title with a lone double quote, a title whose genres are `\\N`)."""

import functools
import math
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from movie_genres.data.dataset import write_table
from movie_genres.data.imdb_crosscheck import genre_agreement, main, read_imdb_genres, tmdb_genre_names
from tests.conftest import ROOT

FIXTURES = ROOT / "tests/fixtures"
BASICS = FIXTURES / "title.basics.sample.tsv.gz"
GENRES = pd.DataFrame(
    [
        (28, "Action"),
        (12, "Adventure"),
        (14, "Fantasy"),
        (878, "Science Fiction"),
        (18, "Drama"),
        (27, "Horror"),
        (53, "Thriller"),
        (9648, "Mystery"),
        (35, "Comedy"),
        (10402, "Music"),
        (10749, "Romance"),
        (10751, "Family"),
        (16, "Animation"),
    ],
    columns=["genre_id", "name"],
)
# TMDB's genres for the same films (ids as TMDB gives them).
MOVIES = pd.DataFrame(
    {
        "movie_id": [19995, 603, 27205, 539, 872, 8587, 1, 2],
        "imdb_id": ["tt0499549", "tt0133093", "tt1375666", "tt0054215", "tt0045152", "tt0110357", "", "tt7654321"],
        "genre_ids": [
            [28, 12, 14, 878],
            [28, 878],
            [28, 53, 878, 9648, 12],
            [18, 27, 53],
            [35, 10402, 10749],
            [10751, 16, 18],
            [18],
            [18],
        ],
    }
)


def test_imdb_genres_are_read_for_the_wanted_titles_only():
    genres = read_imdb_genres(BASICS, {"tt0133093", "tt0000502", "tt9999999"}, chunk_rows=3)
    assert genres == {"tt0133093": {"Action", "Sci-Fi"}, "tt0000502": set()}


def test_per_genre_agreement_after_mapping_names():
    tmdb = tmdb_genre_names(MOVIES, GENRES)
    assert len(tmdb) == 7  # the movie without an IMDb id is left out
    table = genre_agreement(tmdb, read_imdb_genres(BASICS, set(tmdb.index))).set_index("genre")
    # Sci-Fi is IMDb's name for Science Fiction: TMDB tags Avatar, The Matrix and Inception, IMDb the last two.
    assert table.loc["Science Fiction"].tolist() == [3, 2, 2, pytest.approx(2 / 3)]
    assert table.loc["Music"].tolist() == [1, 1, 1, 1.0]  # IMDb's Musical
    assert table.loc["Action"].tolist() == [3, 3, 3, 1.0]
    assert table.loc["Mystery"].tolist() == [1, 1, 0, 0.0]  # Inception on TMDB, Psycho on IMDb
    assert table.loc["Family", ["tmdb", "imdb", "both"]].tolist() == [1, 0, 0] and math.isnan(
        table.loc["Family", "agreement"]
    )
    assert "Sci-Fi" not in table.index and "Musical" not in table.index


def test_the_command_reads_a_url_and_writes_the_table(tmp_path, capsys):
    write_table(MOVIES, tmp_path / "movies.parquet")
    GENRES.to_csv(tmp_path / "genres.csv", index=False)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(FIXTURES))
    handler.log_message = lambda *args: None
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/{BASICS.name}"
        code = main(
            [
                url,
                "--movies",
                str(tmp_path / "movies.parquet"),
                "--genres",
                str(tmp_path / "genres.csv"),
                "--out",
                str(tmp_path / "agreement.csv"),
            ]
        )
        server.shutdown()
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"7 movies with an IMDb id, 6 of them in {url}")
    assert pd.read_csv(tmp_path / "agreement.csv").set_index("genre").loc["Drama", "both"] == 1


def test_a_table_without_imdb_ids_says_how_to_get_them(tmp_path, capsys):
    write_table(MOVIES.drop(columns="imdb_id"), tmp_path / "movies.parquet")
    GENRES.to_csv(tmp_path / "genres.csv", index=False)
    assert (
        main([str(BASICS), "--movies", str(tmp_path / "movies.parquet"), "--genres", str(tmp_path / "genres.csv")]) == 2
    )
    assert "fetch_list.tmdb.details: true" in capsys.readouterr().err
