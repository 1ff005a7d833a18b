"""The `export` source of fetch_list against the fake TMDB: strict parsing of the export, its filters and
caps, resuming a killed run shard by shard, a newer export asking only for new ids, movies gone (404),
and posters downloaded for its movies."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from movie_genres.params import TmdbExportParams
from movie_genres.tmdb.export import ExportError, parse_export, select
from stages import fetch_list, fetch_posters
from tests.conftest import TEST_KEY
from tests.fake_tmdb import ADULT_AND_VIDEO, EXPORT_DATE
from tests.tmdb.stage_runs import kill_when, live_repo, run_in, stage_error

EXPORT_DIR = Path("data/tmdb_export")
DETAILS = re.compile(r"/3/movie/(\d+)")
OUTPUTS = ("data/movies.parquet", "data/genres.csv", "reports/data/fetch_list.json")


def _export_repo(folder: Path, server, http_changes: dict | None = None, **export_changes) -> Path:
    """A scratch repository whose fetch_list reads the fake's export (all of it, shards of 10 ids, unless changed)."""
    live_repo(folder, server, http_changes)
    params = yaml.safe_load((folder / "params.yaml").read_text())
    params["fetch_list"]["source"] = "export"
    params["fetch_list"]["export"].update(
        {"url": server.export_url, "date": EXPORT_DATE, "max_ids": None, "shard_size": 10, **export_changes}
    )
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return folder


def _detail_ids(server, start: int = 0, end: int | None = None) -> list[int]:
    """The movie ids whose details the fake was asked for, in its log from `start` to `end`."""
    return [int(match[1]) for entry in server.log[start:end] if (match := DETAILS.fullmatch(entry.path))]


def _shards(folder: Path) -> list[Path]:
    return sorted((folder / EXPORT_DIR).glob("details-*/shard-*.parquet"))


def _export_params(**changes) -> TmdbExportParams:
    values = dict(url="http://x/{date}", date=EXPORT_DATE, min_popularity=None, max_ids=None, shard_size=10, dir="d")
    return TmdbExportParams(**{**values, **changes})


def _gzip_lines(*lines: str) -> bytes:
    return gzip.compress("".join(line + "\n" for line in lines).encode())


def _line(movie_id: int, popularity: float = 1.0, adult: bool = False, video: bool = False) -> str:
    entry = {"adult": adult, "id": movie_id, "original_title": "T", "popularity": popularity, "video": video}
    return json.dumps(entry)


# --- Reading the export --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ('{"adult":false,"id":7,"popularity":1.0', "not JSON (Expecting ',' delimiter at character 40)"),
        ("[7, 1.0]", "a JSON list, not an object"),
        ('{"adult":false,"id":7,"popularity":1.0}', "no `video`"),
        ('{"adult":false,"id":true,"popularity":1.0,"video":false}', "`id` is true, not int"),
        ('{"adult":false,"id":7,"popularity":"1.0","video":false}', '`popularity` is "1.0", not int or float'),
        ('{"adult":0,"id":7,"popularity":1.0,"video":false}', "`adult` is 0, not bool"),
        ('{"adult":false,"id":7,"popularity":NaN,"video":false}', "not JSON (NaN is no JSON number)"),
        ('{"adult":false,"id":-7,"popularity":1.0,"video":false}', "`id` is -7, not positive"),
        (_line(2), "id 2 is listed a second time"),
    ],
)
def test_a_bad_line_is_named_by_file_and_number(bad, problem):
    body = _gzip_lines(_line(1), _line(2), "", _line(3), bad)
    with pytest.raises(ExportError) as error:
        parse_export(body, "movie_ids_05_01_2026.json.gz", "run again")
    assert str(error.value) == f"movie_ids_05_01_2026.json.gz, line 5: {problem}; run again"


def test_a_truncated_or_foreign_file_is_no_whole_gzip():
    body = _gzip_lines(*(_line(i) for i in range(1, 2000)))
    with pytest.raises(ExportError, match=r"^f: not a whole gzip file, after line \d+ \(Compressed file ended"):
        parse_export(body[: len(body) // 2], "f", "run again")
    with pytest.raises(ExportError, match=r"^f: not a whole gzip file, after line 0 \(Not a gzipped file"):
        parse_export(b"<html>busy</html>", "f", "run again")


def test_adult_and_video_entries_go_then_the_floor_then_the_cap_ties_by_id():
    lines = [_line(9, 5.0), _line(1, 9.0, adult=True), _line(2, 9.0, video=True), _line(3, 9.0, True, True)]
    lines += [_line(8, 5.0), _line(4, 7.0), _line(5, 0.5), _line(6, 5.0)]
    entries = parse_export(_gzip_lines(*lines), "f", "")
    listing = select(entries, _export_params(min_popularity=1.0, max_ids=3))
    assert listing.popularity.to_dict() == {4: 7.0, 6: 5.0, 8: 5.0}  # 9 ties with 6 and 8 at 5.0 and loses by id
    assert listing.counts == {
        "listed": 8,
        "adult": 2,
        "video": 1,
        "below_min_popularity": 1,
        "over_max_ids": 1,
        "selected": 3,
    }


# --- The stage ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "malformed"])
def test_a_damaged_export_stops_the_stage_naming_the_file_and_writes_nothing(
    damage, fake_tmdb, tmp_path, monkeypatch, capfd
):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    fake_tmdb.publish_export(
        "05_02_2026", truncated=damage == "truncated", malformed_line=7 if damage == "malformed" else None
    )
    repo = _export_repo(tmp_path / "repo", fake_tmdb, date="05_02_2026")
    message = stage_error(fetch_list, repo, monkeypatch, capfd)

    url = fake_tmdb.export_url.format(date="05_02_2026")
    where = f"{url}, line 7: not JSON (" if damage == "malformed" else f"{url}: not a whole gzip file, after line "
    first, *rest = message.splitlines()
    assert first.startswith(f"error: {where}"), message
    assert first.endswith("; nothing was kept or fetched: run again, or choose another fetch_list.export.date")
    assert rest == ["(rerun with MOVIE_GENRES_TRACEBACK=1 for the traceback)"]
    assert sorted(p.name for p in repo.rglob("*")) == ["params.yaml", "paths.yaml"]  # no export, shard or table
    assert fake_tmdb.requests == ["/p/exports/movie_ids_05_02_2026.json.gz"]  # nothing asked of the API


def test_an_export_tmdb_does_not_have_is_named_with_its_date(fake_tmdb, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    repo = _export_repo(tmp_path / "repo", fake_tmdb, date="01_01_2020")
    message = stage_error(fetch_list, repo, monkeypatch, capfd)
    assert message.startswith(
        f"error: cannot download TMDB's export {fake_tmdb.export_url.format(date='01_01_2020')} (HTTP 404): "
        "is fetch_list.export.date a day TMDB published one"
    )


def test_a_killed_fetch_resumes_at_the_unfinished_shard_repeating_only_requests_in_flight(
    fake_tmdb, tmp_path, monkeypatch, capsys
):
    """kill -9 half way through the third shard of 30: the rerun completes the rest, equal to an uninterrupted run."""
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    workers, n_ids, shard_size = 4, 240, 30
    changes = {"max_ids": n_ids, "shard_size": shard_size}
    reference = _export_repo(tmp_path / "reference", fake_tmdb, {"workers": workers}, **changes)
    resumed = _export_repo(tmp_path / "resumed", fake_tmdb, {"workers": workers}, **changes)
    run_in(fetch_list, reference, monkeypatch)
    assert len(_shards(reference)) == n_ids // shard_size
    assert sorted(_detail_ids(fake_tmdb)) == sorted(set(_detail_ids(fake_tmdb)))  # each id asked once

    fake_tmdb.latency_s = 0.05  # so that requests are in flight when the kill comes
    start = len(fake_tmdb.log)
    half_way = 2 * shard_size + shard_size // 2  # into the third shard
    kill_when(
        "fetch_list", resumed, lambda: len(_shards(resumed)) >= 2 and len(_detail_ids(fake_tmdb, start)) >= half_way
    )
    time.sleep(0.2)  # requests the killed process had sent still reach the fake's log
    killed_at = len(fake_tmdb.log)
    done = len(_shards(resumed))
    interrupted = _detail_ids(fake_tmdb, start, killed_at)
    assert 2 <= done < n_ids // shard_size and len(interrupted) > done * shard_size  # killed within a shard

    run_in(fetch_list, resumed, monkeypatch)
    rerun = _detail_ids(fake_tmdb, killed_at)
    repeated = len(interrupted) + len(rerun) - n_ids
    with capsys.disabled():
        print(
            f"\nkill -9 resume: {n_ids} ids in shards of {shard_size}, {done} shards done at the kill; "
            f"details requests: {len(interrupted)} before the kill, {len(rerun)} in the rerun, {repeated} repeated "
            f"(at most {workers} in flight)"
        )
    assert set(interrupted) | set(rerun) == set(_detail_ids(fake_tmdb, 0, start))
    assert 0 <= repeated <= workers
    assert not set(rerun) & {int(i) for path in _shards(resumed)[:done] for i in pd.read_parquet(path)["movie_id"]}
    for output in OUTPUTS:
        assert (resumed / output).read_bytes() == (reference / output).read_bytes(), output


def test_a_newer_export_asks_only_for_the_ids_never_fetched(fake_tmdb, tmp_path, monkeypatch):
    """The newer export lists 40 more movies, spread among the old ones by id, and drops 5 of them."""
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    ids = sorted(fake_tmdb.expected_popular_ids(160))
    old, new, dropped = ids[:120:2] + ids[1:120:2][20:], ids[1:120:2][:20] + ids[120:140], ids[:10:2]
    fake_tmdb.publish_export("05_01_2026", old)
    fake_tmdb.publish_export("05_02_2026", sorted(set(old + new) - set(dropped)))
    repo = _export_repo(tmp_path / "repo", fake_tmdb, date="05_01_2026")
    run_in(fetch_list, repo, monkeypatch)
    assert sorted(_detail_ids(fake_tmdb)) == sorted(old)

    shutil.rmtree(repo / "data/tmdb_cache")  # what is not asked again is known from the shards alone
    start = len(fake_tmdb.log)
    _export_repo(repo, fake_tmdb, date="05_02_2026")
    run_in(fetch_list, repo, monkeypatch)
    assert sorted(_detail_ids(fake_tmdb, start)) == sorted(new)
    assert fake_tmdb.requests[start] == "/p/exports/movie_ids_05_02_2026.json.gz"

    fresh = _export_repo(tmp_path / "fresh", fake_tmdb, date="05_02_2026")
    run_in(fetch_list, fresh, monkeypatch)
    for output in OUTPUTS:
        assert (repo / output).read_bytes() == (fresh / output).read_bytes(), output
    movies = pd.read_parquet(repo / "data/movies.parquet")
    assert not set(movies["movie_id"]) & set(dropped)


def test_a_listed_movie_tmdb_no_longer_has_is_recorded_as_gone(fake_tmdb, tmp_path, monkeypatch):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    gone = {"adult": False, "id": 899999, "original_title": "Deleted", "popularity": 50.0, "video": False}
    listed = fake_tmdb.expected_popular_ids(30)
    fake_tmdb.publish_export(EXPORT_DATE, listed, extra=[gone, *ADULT_AND_VIDEO])
    repo = _export_repo(tmp_path / "repo", fake_tmdb)
    run_in(fetch_list, repo, monkeypatch)

    assert sorted(_detail_ids(fake_tmdb)) == sorted([*listed, gone["id"]])  # no adult or video entry asked for
    report = json.loads((repo / "reports/data/fetch_list.json").read_text())
    assert report["export"] == {
        "listed": 34,
        "adult": 2,
        "video": 1,
        "below_min_popularity": 0,
        "over_max_ids": 0,
        "selected": 31,
        "gone": 1,
        "broken": 0,
    }
    assert report["movies_in"] == 30
    movies = pd.read_parquet(repo / "data/movies.parquet")
    assert gone["id"] not in set(movies["movie_id"]) and set(movies["movie_id"]) <= set(listed)
    shards = pd.concat([pd.read_parquet(path) for path in _shards(repo)])
    assert shards.loc[shards["gone"], "movie_id"].tolist() == [gone["id"]]

    start = len(fake_tmdb.log)
    run_in(fetch_list, repo, monkeypatch)  # gone is a fact: not asked again; the export is kept, not downloaded again
    assert fake_tmdb.requests[start:] == []


def test_the_export_movies_get_their_posters_from_the_image_server(fake_tmdb, tmp_path, monkeypatch):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    repo = _export_repo(tmp_path / "repo", fake_tmdb, max_ids=20)
    run_in(fetch_list, repo, monkeypatch)
    run_in(fetch_posters, repo, monkeypatch)
    movies = pd.read_parquet(repo / "data/movies.parquet")
    posters = [path for path in fake_tmdb.requests if path.startswith("/t/p/w185/")]
    assert sorted(posters) == sorted(f"/t/p/w185/{movie_id}.jpg" for movie_id in movies["movie_id"])
    assert json.loads((repo / "reports/data/fetch_posters.json").read_text())["movies"] == len(movies) > 0


def test_a_download_glitch_is_retried_and_only_the_whole_export_is_kept(fake_tmdb, tmp_path, monkeypatch):
    """A 503, an HTML page with status 200, a connection cut mid-body: each is retried, like any API answer."""
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    for fault in ("503", "malformed", "cut"):
        fake_tmdb.inject(fault, "/p/exports/")
    repo = _export_repo(tmp_path / "repo", fake_tmdb, max_ids=10)
    run_in(fetch_list, repo, monkeypatch)
    faults = [entry.fault for entry in fake_tmdb.log if entry.path.startswith("/p/exports/")]
    assert faults == ["503", "malformed", "cut", None]
    name = f"movie_ids_{EXPORT_DATE}.json.gz"
    assert [path.name for path in (repo / EXPORT_DIR).iterdir() if path.is_file()] == [name]
    assert (repo / EXPORT_DIR / name).read_bytes() == fake_tmdb.exports[name]


def test_details_failing_for_good_leave_only_their_shard_unwritten(fake_tmdb, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    repo = _export_repo(tmp_path / "repo", fake_tmdb, max_ids=30)
    ids = sorted(fake_tmdb.expected_popular_ids(30))
    fake_tmdb.inject("500", f"/3/movie/{ids[15]}", times=7)  # max_retries: 6, so 7 tries
    message = stage_error(fetch_list, repo, monkeypatch, capfd)
    assert message.startswith("error: 1 of 30 movie details still failed after 7 tries each (")
    assert f"  movie {ids[15]}: HTTP 500\n" in message
    written = [sorted(pd.read_parquet(path)["movie_id"]) for path in _shards(repo)]
    assert written == [ids[:10], ids[20:]] and not (repo / "data/movies.parquet").exists()

    start = len(fake_tmdb.log)
    run_in(fetch_list, repo, monkeypatch)
    assert fake_tmdb.requests[start:] == [f"/3/movie/{ids[15]}"]  # the rest of its shard is in the request cache
    assert sorted(pd.read_parquet(repo / "data/movies.parquet")["movie_id"]) == ids
