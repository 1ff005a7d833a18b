import zipfile

import pandas as pd
import pytest

from movie_genres.data.posters import PosterArchive, bundled_source, collect_posters
from movie_genres.tmdb.client import TmdbClient
from movie_genres.tmdb.http import TmdbError
from movie_genres.tmdb.posters import tmdb_source
from tests.conftest import ROOT, fast_http
from tests.fake_tmdb import TRANSIENT_FAULTS

POSTERS = ROOT / "data/bundled/posters"


@pytest.fixture
def poster_dir(tmp_path):
    """Three real posters, one truncated copy, one file that is not an image."""
    folder = tmp_path / "posters"
    folder.mkdir()
    real = sorted(POSTERS.iterdir())[:4]
    for path in real[:3]:
        (folder / path.name).write_bytes(path.read_bytes())
    data = real[3].read_bytes()
    (folder / real[3].name).write_bytes(data[: len(data) // 2])
    (folder / "1.jpg").write_bytes(b"<html>not an image</html>")
    return folder, [int(p.stem) for p in real]


def _movies(ids):
    return pd.DataFrame({"movie_id": ids, "poster_ref": [f"{i}.jpg" for i in ids]})


def test_corrupt_and_missing_posters_are_recorded_not_lost(poster_dir, tmp_path):
    folder, (a, b, c, truncated) = poster_dir
    archive = tmp_path / "out" / "posters.zip"
    missing = collect_posters(_movies([a, b, c, truncated, 1, 2]), bundled_source(folder), archive, progress=False)
    reasons = dict(zip(missing["movie_id"], missing["reason"]))
    assert set(reasons) == {truncated, 1, 2}
    assert reasons[2] == "no poster"
    assert reasons[truncated].startswith("unreadable image") and reasons[1].startswith("unreadable image")
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == sorted(f"{i}.jpg" for i in (a, b, c))
    with PosterArchive(archive) as posters:
        assert posters.image(a).mode == "RGB" and posters.image(a).size[0] > 100
        assert posters.read(b) == (folder / f"{b}.jpg").read_bytes()


def test_the_archive_is_byte_identical_between_runs(poster_dir, tmp_path):
    folder, ids = poster_dir
    for name in ("one.zip", "two.zip"):
        collect_posters(_movies(ids), bundled_source(folder), tmp_path / name, progress=False)
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()


def _tmdb_movies(n: int, start: int = 0) -> pd.DataFrame:
    ids = [int(p.stem) for p in sorted(POSTERS.iterdir())[start : start + n]]
    return pd.DataFrame({"movie_id": ids, "poster_ref": [f"/{i}.jpg" for i in ids]})


def _tmdb_client(server, **http_changes) -> TmdbClient:
    return TmdbClient(fast_http(server, **http_changes), "en-US", workers=4)


def test_posters_come_checked_from_the_server_configuration_names(fake_tmdb, tmp_path):
    client = _tmdb_client(fake_tmdb, cache_dir=tmp_path / "cache")
    base = client.poster_url_base("w185")
    assert base == fake_tmdb.url + "/t/p/w185"
    movies = pd.concat([_tmdb_movies(3), pd.DataFrame({"movie_id": [5], "poster_ref": [None]})])
    source = tmdb_source(client, base, movies, progress=False)
    missing = collect_posters(movies, source, tmp_path / "posters.zip", progress=False)
    assert sorted(fake_tmdb.requests) == sorted(
        ["/3/configuration"] + [f"/t/p/w185/{i}.jpg" for i in movies["movie_id"][:3]]
    )
    assert missing.to_dict("records") == [{"movie_id": 5, "reason": "no poster"}]


def test_a_size_tmdb_does_not_offer_is_refused_with_the_choices(fake_tmdb):
    with pytest.raises(TmdbError, match=r"`w200` is not offered by TMDB; choose one of \['w92'"):
        _tmdb_client(fake_tmdb).poster_url_base("w200")


def test_every_fault_on_posters_still_gives_the_complete_set(fake_tmdb, tmp_path):
    """One poster per fault, each retried into the right bytes; a 404 is recorded with its reason."""
    movies = _tmdb_movies(len(TRANSIENT_FAULTS) + 4)
    for fault in TRANSIENT_FAULTS:
        fake_tmdb.inject(fault, "/t/p/")
    gone = int(movies["movie_id"].iloc[-1])
    fake_tmdb.inject("404", f"/t/p/w185/{gone}.jpg")
    client = _tmdb_client(fake_tmdb, cache_dir=tmp_path / "cache")
    source = tmdb_source(client, fake_tmdb.url + "/t/p/w185", movies, progress=False)
    missing = collect_posters(movies, source, tmp_path / "posters.zip", progress=False)
    url = f"{fake_tmdb.url}/t/p/w185/{gone}.jpg"
    reason = f"download failed: TMDB refused {url}: HTTP 404 The resource you requested could not be found."
    assert missing.to_dict("records") == [{"movie_id": gone, "reason": reason}]
    with PosterArchive(tmp_path / "posters.zip") as archive:
        for movie_id in movies["movie_id"]:
            if movie_id != gone:
                assert archive.read(movie_id) == (POSTERS / f"{movie_id}.jpg").read_bytes()
    assert sum(client.http.retries.values()) == len(TRANSIENT_FAULTS)


def test_a_rerun_downloads_nothing_and_writes_the_same_archive(fake_tmdb, tmp_path):
    movies = _tmdb_movies(12)
    for run in ("first.zip", "again.zip"):
        client = _tmdb_client(fake_tmdb, cache_dir=tmp_path / "cache")
        collect_posters(
            movies,
            tmdb_source(client, fake_tmdb.url + "/t/p/w185", movies, progress=False),
            tmp_path / run,
            progress=False,
        )
    assert (tmp_path / "first.zip").read_bytes() == (tmp_path / "again.zip").read_bytes()
    assert len(fake_tmdb.requests) == 12 and client.http.cache_hits == 2 * 12  # download pass, then archive pass
