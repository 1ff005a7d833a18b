import pytest

from src.dataset import genre_table, normalise_movies
from src.params import TmdbListParams
from src.tmdb_client import TmdbClient, TmdbError, api_key_from_env, collect_movies
from tests.conftest import ROOT
from tests.fake_tmdb import FakeTmdb

KEY = "test-key-0123456789abcdef"


@pytest.fixture
def fake_tmdb(bundled):
    raw, genre_names = bundled
    with FakeTmdb(raw, genre_names, ROOT / "data/bundled/posters", KEY) as server:
        yield server


def _params(server: FakeTmdb, popular_pages: int = 3, discover_pages: int = 1) -> TmdbListParams:
    return TmdbListParams(
        api_base_url=server.url + "/3",
        language="en-US",
        popular_pages=popular_pages,
        discover_pages_per_genre=discover_pages,
        discover_first_year=2016,
    )


def test_collects_popular_and_discovered_movies_deduplicated(fake_tmdb):
    raw, genre_names = collect_movies(TmdbClient(KEY, fake_tmdb.url + "/3"), _params(fake_tmdb))
    assert 10769 not in genre_names  # TMDB's list no longer has "Foreign"
    n_genres = len(genre_names)
    assert fake_tmdb.requests.count("/3/movie/popular") == 3
    assert fake_tmdb.requests.count("/3/discover/movie") == n_genres
    movies, report = normalise_movies(raw, max_movies=None)
    assert len(raw) > 60 and movies["movie_id"].is_unique
    assert report.dropped["duplicate"] == len(raw) - movies["movie_id"].nunique() > 0
    genres = genre_table(movies, genre_names, report)
    assert report.unknown_genre_ids == []
    assert set(genres["name"]) <= set(genre_names.values()) | {"Foreign"}


def test_a_wrong_key_fails_with_tmdbs_message_and_without_the_key(fake_tmdb):
    client = TmdbClient("wrong-key-987654", fake_tmdb.url + "/3")
    with pytest.raises(TmdbError, match="HTTP 401 Invalid API key") as err:
        collect_movies(client, _params(fake_tmdb))
    assert "wrong-key-987654" not in str(err.value)


def test_an_unreachable_server_is_a_clear_error():
    client = TmdbClient(KEY, "http://127.0.0.1:9/3", timeout=2)
    with pytest.raises(TmdbError, match="could not be reached for genre/movie/list"):
        client.genre_names("en-US")


def test_a_missing_key_says_what_to_do(monkeypatch):
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    with pytest.raises(TmdbError, match="TMDB_API_KEY is not set"):
        api_key_from_env()
