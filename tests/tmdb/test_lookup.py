import yaml

from movie_genres.tmdb import lookup as tmdb_lookup
from tests.conftest import ROOT, TEST_KEY


def _point_at(server, repo) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["fetch_list"]["tmdb"]["api_base_url"] = server.url + "/3"
    params["tmdb_http"]["cache_dir"] = str(repo / "cache")
    (repo / "params.yaml").write_text(yaml.safe_dump(params))


def test_a_title_is_found_with_genres_overview_and_poster(fake_tmdb, in_tmp_repo, monkeypatch, capsys):
    _point_at(fake_tmdb, in_tmp_repo)
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    assert tmdb_lookup.main(["avatar", "--year", "2009", "--poster", "avatar.jpg"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Avatar (2009)  TMDB id 19995  IMDb tt0019995"
    assert out[1] == "Genres: Action, Adventure, Fantasy, Science Fiction"
    assert out[2] == f"Poster: {fake_tmdb.url}/t/p/w185/19995.jpg"
    assert out[3].startswith("Overview: In the 22nd century, a paraplegic Marine")
    assert (in_tmp_repo / "avatar.jpg").read_bytes() == (ROOT / "data/bundled/posters/19995.jpg").read_bytes()
    assert TEST_KEY not in "\n".join(out)


def test_other_matches_are_listed_and_no_match_is_said(fake_tmdb, in_tmp_repo, monkeypatch, capsys):
    _point_at(fake_tmdb, in_tmp_repo)
    monkeypatch.setenv("TMDB_API_KEY", TEST_KEY)
    assert tmdb_lookup.main(["pirates of the caribbean"]) == 0
    out = capsys.readouterr().out
    assert out.count("Pirates of the Caribbean") >= 4 and "Other matches: " in out
    assert tmdb_lookup.main(["no such film zzz"]) == 1
    assert "no TMDB movie matches 'no such film zzz'" in capsys.readouterr().err


def test_missing_credentials_are_a_clear_error(in_tmp_repo, monkeypatch, capsys):
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    monkeypatch.delenv("TMDB_READ_ACCESS_TOKEN", raising=False)
    assert tmdb_lookup.main(["Avatar"]) == 2
    assert "error: neither TMDB_API_KEY" in capsys.readouterr().err
