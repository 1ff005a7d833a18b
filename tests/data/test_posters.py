import re
import time
import zipfile

import pandas as pd
import pytest

from movie_genres.data.posters import PosterArchive, bundled_source, collect_posters
from movie_genres.tmdb.client import TmdbClient
from movie_genres.tmdb.failures import TmdbIncomplete
from movie_genres.tmdb.http import RetryPolicy, TmdbError, TmdbUnreachable
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


def test_a_run_that_fails_half_way_keeps_the_old_archive_and_leaves_no_temporary_file(poster_dir, tmp_path):
    folder, ids = poster_dir
    archive = tmp_path / "posters.zip"
    collect_posters(_movies(ids), bundled_source(folder), archive, progress=False)
    before = archive.read_bytes()
    read = bundled_source(folder)

    def fails_on_the_third(movie_id: int, poster_ref: str | None) -> bytes:
        if movie_id == ids[2]:
            raise TmdbError("the image server went away")
        return read(movie_id, poster_ref)

    with pytest.raises(TmdbError):
        collect_posters(_movies(ids), fails_on_the_third, archive, progress=False)
    assert archive.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == sorted([folder, archive])  # no `.posters.zip.*.partial`


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
    assert missing.to_dict("records") == [{"movie_id": gone, "reason": "not on TMDB (HTTP 404)"}]
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


def test_a_poster_refused_by_the_image_server_is_recorded_and_the_rest_go_on(fake_tmdb, tmp_path):
    movies = _tmdb_movies(6)
    refused = int(movies["movie_id"].iloc[2])
    fake_tmdb.inject("403", f"/t/p/w185/{refused}.jpg")
    client = _tmdb_client(fake_tmdb, cache_dir=tmp_path / "cache")
    source = tmdb_source(client, fake_tmdb.url + "/t/p/w185", movies, progress=False)
    missing = collect_posters(movies, source, tmp_path / "posters.zip", progress=False)
    reason = "refused by TMDB (HTTP 403 Authentication failed: You do not have permissions to access the service.)"
    assert missing.to_dict("records") == [{"movie_id": refused, "reason": reason}]


def test_a_download_failing_for_good_fails_after_the_others_and_a_rerun_asks_only_for_it(fake_tmdb, tmp_path):
    movies = _tmdb_movies(12)
    failing = [int(i) for i in movies["movie_id"].iloc[[3, 8]]]
    for movie_id, fault in zip(failing, ("503", "slow")):
        fake_tmdb.inject(fault, f"/t/p/w185/{movie_id}.jpg", times=3)
    client = _tmdb_client(fake_tmdb, cache_dir=tmp_path / "cache", max_retries=2)
    with pytest.raises(TmdbIncomplete) as err:
        tmdb_source(client, fake_tmdb.url + "/t/p/w185", movies, progress=False)
    assert str(err.value).splitlines()[:3] == [
        "2 of 12 poster downloads still failed after 3 tries each "
        "(TMDB or the network had trouble: timeouts, HTTP 5xx or 429, broken connections or answers):",
        f"  movie {failing[0]}: HTTP 503",
        f"  movie {failing[1]}: ReadTimeout",
    ]
    assert re.fullmatch(
        r"Everything else is saved in .*/cache/: run `dvc repro` again .*", str(err.value).splitlines()[3]
    )
    assert sorted(fake_tmdb.requests) == sorted(
        [f"/t/p/w185/{i}.jpg" for i in movies["movie_id"]] + 2 * [f"/t/p/w185/{i}.jpg" for i in failing]
    )
    fake_tmdb.log.clear()
    client = _tmdb_client(fake_tmdb, cache_dir=tmp_path / "cache")
    source = tmdb_source(client, fake_tmdb.url + "/t/p/w185", movies, progress=False)
    assert sorted(fake_tmdb.requests) == sorted(f"/t/p/w185/{i}.jpg" for i in failing)
    assert collect_posters(movies, source, tmp_path / "posters.zip", progress=False).empty


def test_an_unreachable_image_server_stops_the_downloads_within_seconds(fake_tmdb, tmp_path, closed_port):
    movies = _tmdb_movies(40)
    client = _tmdb_client(fake_tmdb, cache_dir=tmp_path / "cache")
    client.http.retry = RetryPolicy()  # the default policy: 6 retries from 0.5 s
    start = time.monotonic()
    with pytest.raises(TmdbUnreachable, match=rf"^cannot connect to 127.0.0.1:{closed_port} \(connection refused; 3"):
        tmdb_source(client, f"http://127.0.0.1:{closed_port}/t/p/w185", movies, progress=False)
    assert time.monotonic() - start < 5 and client.http.sent <= 4 * 3
