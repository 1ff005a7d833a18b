import pytest

from movie_genres.tmdb.request_cache import RequestCache, request_key


def test_answers_round_trip_under_hashed_names(tmp_path):
    cache = RequestCache(tmp_path)
    key = request_key("http://tmdb/3/movie/popular", {"page": 2, "language": "en-US"})
    assert key == "http://tmdb/3/movie/popular?language=en-US&page=2"  # sorted, so order never matters
    assert cache.get(key) is None and key not in cache
    cache.put(key, b'{"page": 2}')
    assert cache.get(key) == b'{"page": 2}' and key in cache
    (stored,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert "popular" not in str(stored) and len(stored.name) == 64


def test_an_interrupted_write_leaves_no_entry_and_no_temporary_file(tmp_path, monkeypatch):
    cache = RequestCache(tmp_path)

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("movie_genres.files.os.replace", crash)
    with pytest.raises(KeyboardInterrupt):
        cache.put("k", b"data")
    assert cache.get("k") is None
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_temporary_file_left_by_a_killed_run_is_not_an_entry(tmp_path):
    cache = RequestCache(tmp_path)
    cache.put("k", b"whole")
    other = cache.path("other")
    other.parent.mkdir(parents=True, exist_ok=True)
    (other.parent / f".{other.name}.abc.partial").write_bytes(b"half")  # files.atomic_path's name for it
    assert cache.get("other") is None and cache.get("k") == b"whole"
