import zipfile

import pandas as pd
import pytest

from src.posters import PosterArchive, bundled_source, collect_posters, tmdb_source
from tests.conftest import ROOT
from tests.fake_tmdb import FakeTmdb

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


def test_posters_download_from_a_tmdb_like_server(bundled, tmp_path):
    raw, genre_names = bundled
    ids = [int(p.stem) for p in sorted(POSTERS.iterdir())[:3]]
    movies = pd.DataFrame({"movie_id": ids + [5], "poster_ref": [f"/{i}.jpg" for i in ids] + [None]})
    with FakeTmdb(raw, genre_names, POSTERS, "key") as server:
        source = tmdb_source(server.url + "/t/p/", "w185")
        missing = collect_posters(movies, source, tmp_path / "posters.zip", progress=False)
        assert server.requests[0] == f"/t/p/w185/{ids[0]}.jpg"
    assert missing.to_dict("records") == [{"movie_id": 5, "reason": "no poster"}]
