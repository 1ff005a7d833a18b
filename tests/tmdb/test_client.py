import math
import re

import pytest

from movie_genres.data.dataset import genre_table, normalise_movies
from movie_genres.params import TmdbListParams
from movie_genres.tmdb.client import TmdbClient, TmdbError, collect_movies, plan_series
from movie_genres.tmdb.failures import TmdbIncomplete
from movie_genres.tmdb.http import TmdbAuthRefused
from movie_genres.tmdb.plan import PlanTooSmall
from tests.conftest import fast_http
from tests.fake_tmdb import TRANSIENT_FAULTS


def _params(server, **changes) -> TmdbListParams:
    values = dict(
        api_base_url=server.url + "/3",
        language="en-US",
        n_movies=None,
        popular_pages=3,
        discover_pages_per_genre=1,
        discover_years_per_genre=1,
        discover_first_year=2016,
        details=False,
    )
    return TmdbListParams(**{**values, **changes})


def _client(server, **http_changes) -> TmdbClient:
    return TmdbClient(fast_http(server, **http_changes), "en-US", workers=4)


def _first_sightings(ids) -> list[int]:
    return list(dict.fromkeys(int(i) for i in ids))


def test_collects_popular_and_discovered_movies_deduplicated(fake_tmdb):
    collection = collect_movies(_client(fake_tmdb), _params(fake_tmdb), progress=False)
    raw, genre_names = collection.movies, collection.genre_names
    assert 10769 not in genre_names  # TMDB's list no longer has "Foreign"
    assert fake_tmdb.requests.count("/3/movie/popular") == 3
    assert fake_tmdb.requests.count("/3/discover/movie") == len(genre_names)
    assert _first_sightings(raw["movie_id"])[:60] == fake_tmdb.expected_popular_ids(60)
    movies, report = normalise_movies(raw, max_movies=None)
    assert len(raw) > 60 and movies["movie_id"].is_unique
    assert report.dropped["duplicate"] == len(raw) - movies["movie_id"].nunique() > 0
    genres = genre_table(movies, genre_names, report)
    assert report.unknown_genre_ids == []
    assert set(genres["name"]) <= set(genre_names.values()) | {"Foreign"}


def test_every_fault_on_the_list_changes_nothing(fake_tmdb):
    params = _params(fake_tmdb, popular_pages=4, discover_pages_per_genre=2)
    clean = collect_movies(_client(fake_tmdb), params, progress=False).movies
    fake_tmdb.log.clear()
    for fault in TRANSIENT_FAULTS:  # one of each, spread over the discover pages fetched concurrently
        fake_tmdb.inject(fault, "/3/discover/movie")
    fake_tmdb.random_faults(0.2, seed=3)
    faulty = collect_movies(_client(fake_tmdb, max_retries=8), params, progress=False).movies
    assert {entry.fault for entry in fake_tmdb.log} >= set(TRANSIENT_FAULTS)
    assert faulty.equals(clean)


def test_the_asked_number_of_distinct_movies_is_honoured_exactly(fake_tmdb):
    """70 movies from 2 popular pages (40) and discover pages, where duplicates occur."""
    params = _params(fake_tmdb, popular_pages=2, discover_pages_per_genre=2)
    everything = collect_movies(_client(fake_tmdb), params, progress=False).movies
    expected = _first_sightings(everything["movie_id"])[:70]
    assert len(everything) > len(_first_sightings(everything["movie_id"])) > 70  # duplicates, and more than 70

    raw = collect_movies(
        _client(fake_tmdb), _params(fake_tmdb, popular_pages=2, discover_pages_per_genre=2, n_movies=70), progress=False
    ).movies
    assert _first_sightings(raw["movie_id"]) == expected
    assert raw["movie_id"].iloc[-1] == expected[-1]  # nothing after the 70th movie's first sighting
    movies, report = normalise_movies(raw, max_movies=None)
    assert report.dropped["duplicate"] == len(raw) - 70 and len(movies) + sum(report.dropped.values()) == len(raw)


def _advice(message: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r"^  (\w+)=(\d+)", message, re.MULTILINE)}


def test_a_plan_too_small_is_found_from_the_first_pages_and_the_advice_works(fake_tmdb):
    """The plan holds at most 40 popular + the first discover page of each genre; the advice's every knob suffices."""
    params = _params(fake_tmdb, popular_pages=2, discover_pages_per_genre=1)
    n_movies = 400
    with pytest.raises(PlanTooSmall) as err:
        collect_movies(_client(fake_tmdb), params.model_copy(update={"n_movies": n_movies}), progress=False)
    message = str(err.value)
    assert re.match(
        r"fetch_list.tmdb.n_movies = 400 cannot be reached: the planned pages hold at most \d+ movies ", message
    )
    assert "Only each list's first page was fetched" in message
    assert {entry.params.get("page") for entry in fake_tmdb.log if "page" in entry.params} == {"1"}
    advice = _advice(message)
    assert set(advice) == {"popular_pages", "discover_pages_per_genre", "discover_years_per_genre"}
    for name, value in advice.items():
        raw = collect_movies(
            _client(fake_tmdb), params.model_copy(update={"n_movies": n_movies, name: value}), progress=False
        ).movies
        assert raw["movie_id"].nunique() == n_movies, (name, value)


def test_with_discover_off_the_advice_names_the_popular_lists_end(fake_tmdb):
    """movie/popular has 241 pages on the fake: more than that cannot come from popular_pages."""
    params = _params(fake_tmdb, popular_pages=2, discover_pages_per_genre=0, n_movies=6000)
    with pytest.raises(PlanTooSmall) as err:
        collect_movies(_client(fake_tmdb), params, progress=False)
    message = str(err.value)
    assert "(movie/popular: 40 in its first 2 pages; no discover lists, as discover_pages_per_genre is 0)" in message
    assert "(popular_pages cannot do it alone: movie/popular serves 241 pages, 4,803 movies;" in message
    assert _advice(message) == {"discover_pages_per_genre": 19}  # (7,200 - 40) / (19 lists x 20 a page) = 18.8
    assert fake_tmdb.requests.count("/3/movie/popular") == 1


def test_duplicates_that_leave_the_plan_short_are_counted_after_the_fetch(fake_tmdb):
    """Every discover movie is also among movie/popular's 241 pages: 4,803 distinct movies, whatever the plan holds."""
    params = _params(fake_tmdb, popular_pages=241, discover_pages_per_genre=1, n_movies=4804)
    with pytest.raises(PlanTooSmall, match=r"^the planned pages hold 4,803 distinct movies, fewer than .* = 4804: of"):
        collect_movies(_client(fake_tmdb), params, progress=False)


def test_no_page_past_a_lists_end_or_past_500_is_requested(fake_tmdb):
    fake_tmdb.page_size = 9  # movie/popular now claims 534 pages
    params = _params(fake_tmdb, popular_pages=500, discover_pages_per_genre=4)
    collection = collect_movies(_client(fake_tmdb), params, progress=False)
    # Distinct pages: under load a request can time out (1 s here) and be asked again.
    popular = {int(e.params["page"]) for e in fake_tmdb.log if e.path == "/3/movie/popular"}
    assert sorted(popular) == list(range(1, 501)) and len(collection.movies) > 4500
    for series in plan_series(params, sorted(collection.genre_names))[1:]:
        genre, year = dict(series.query)["with_genres"], dict(series.query)["primary_release_year"]
        asked = {
            e.params["page"]
            for e in fake_tmdb.log
            if e.params.get("with_genres") == str(genre) and e.params["primary_release_year"] == str(year)
        }
        has_genre = fake_tmdb.movies["genre_ids"].map(lambda ids, genre=genre: genre in ids)
        in_fake = has_genre & fake_tmdb.movies["release_date"].fillna("").str.startswith(str(year))
        total_pages = -(-int(in_fake.sum()) // 9)
        assert len(asked) == max(1, min(4, total_pages))  # page 1 is always asked: it gives total_pages


def test_details_fill_the_extra_columns(fake_tmdb, tmdb_details):
    gone = fake_tmdb.expected_popular_ids(20)[5]
    fake_tmdb.inject("404", f"/3/movie/{gone}")
    params = _params(fake_tmdb, popular_pages=1, discover_pages_per_genre=0, details=True)
    collection = collect_movies(_client(fake_tmdb), params, progress=False)
    movies = collection.movies.set_index("movie_id")
    assert collection.details_missing == [gone]
    assert movies.loc[gone, "keywords"] == [] and math.isnan(movies.loc[gone, "runtime"])
    for movie_id in fake_tmdb.expected_popular_ids(20):
        if movie_id == gone:
            continue
        truth = tmdb_details[movie_id]
        assert movies.loc[movie_id, "tagline"] == truth["tagline"]
        assert movies.loc[movie_id, "keywords"] == [k["name"] for k in truth["keywords"]["keywords"]]
        assert movies.loc[movie_id, "companies"] == [c["name"] for c in truth["production_companies"]]
        assert movies.loc[movie_id, "imdb_id"] == truth["imdb_id"]
    assert fake_tmdb.requests.count("/3/movie/popular") == 1 and len(fake_tmdb.requests) == 1 + 1 + 20


def test_a_wrong_key_stops_the_run_with_tmdbs_message_and_without_the_key(fake_tmdb):
    with pytest.raises(TmdbError, match="TMDB_API_KEY .*HTTP 401 Invalid API key") as err:
        collect_movies(_client(fake_tmdb, key="wrong-key-987654"), _params(fake_tmdb), progress=False)
    assert "wrong-key-987654" not in str(err.value) and fake_tmdb.requests == ["/3/genre/movie/list"]


def test_a_key_refused_during_the_details_stops_them_at_once(fake_tmdb, tmp_path):
    """The list is in the cache and the key has been revoked since: the first detail request is refused; all stop."""
    params = _params(fake_tmdb, popular_pages=2, discover_pages_per_genre=0)
    collect_movies(_client(fake_tmdb, cache_dir=tmp_path), params, progress=False)
    fake_tmdb.log.clear()
    fake_tmdb.api_key = "the-new-key"
    with pytest.raises(TmdbAuthRefused, match=r"^TMDB refused the credentials in TMDB_API_KEY \(HTTP 401"):
        collect_movies(
            _client(fake_tmdb, cache_dir=tmp_path), params.model_copy(update={"details": True}), progress=False
        )
    assert 1 <= len(fake_tmdb.log) <= 4  # the refused request, and at most one in flight per other worker
    assert all(entry.path.startswith("/3/movie/") for entry in fake_tmdb.log)


@pytest.mark.parametrize("what", ["list pages", "movie details"])
def test_a_request_failing_for_good_fails_the_run_after_the_others_and_a_rerun_asks_only_for_it(
    what, fake_tmdb, tmp_path
):
    params = _params(fake_tmdb, popular_pages=3, discover_pages_per_genre=1, details=True)
    clean = collect_movies(_client(fake_tmdb), params, progress=False).movies
    complete_run = {entry.target for entry in fake_tmdb.log}
    fake_tmdb.log.clear()
    movie_id = fake_tmdb.expected_popular_ids(30)[-1]
    if what == "list pages":
        failing, label = ("/3/movie/popular", {"page": "2"}), "/movie/popular page 2"
    else:
        failing, label = (f"/3/movie/{movie_id}", {}), f"movie {movie_id}"
    fake_tmdb.inject("503", failing[0], times=3, query=failing[1])
    with pytest.raises(TmdbIncomplete) as err:
        collect_movies(_client(fake_tmdb, cache_dir=tmp_path, max_retries=2), params, progress=False)
    message = str(err.value)
    assert re.match(rf"1 of \d+ {what} still failed after 3 tries each \(", message)
    assert f"\n  {label}: HTTP 503\n" in message
    assert f"saved in {tmp_path}/: run `dvc repro` again" in message and len(message.splitlines()) == 3
    answered = {entry.target for entry in fake_tmdb.log if entry.fault is None}
    (failed,) = {entry.target for entry in fake_tmdb.log if entry.fault is not None}
    details = {target for target in complete_run if re.match(r"/3/movie/\d", target)}
    assert (complete_run - details if what == "list pages" else complete_run) <= answered | {failed}
    fake_tmdb.log.clear()
    again = collect_movies(_client(fake_tmdb, cache_dir=tmp_path), params, progress=False).movies
    asked_again = [entry.target for entry in fake_tmdb.log]
    assert failed in asked_again and not answered & set(asked_again)
    if what == "movie details":
        assert asked_again == [failed]
    assert again.equals(clean)


def test_the_plan_is_popular_then_each_genre_from_its_own_year_back(fake_tmdb):
    plan = plan_series(
        _params(fake_tmdb, popular_pages=7, discover_pages_per_genre=2, discover_years_per_genre=2), [28, 12]
    )
    assert [
        (s.endpoint, dict(s.query).get("with_genres"), dict(s.query).get("primary_release_year"), s.pages) for s in plan
    ] == [
        ("/movie/popular", None, None, 7),
        ("/discover/movie", 28, 2016, 2),
        ("/discover/movie", 28, 2015, 2),
        ("/discover/movie", 12, 2015, 2),
        ("/discover/movie", 12, 2014, 2),
    ]


def test_a_page_past_500_is_never_sent(fake_tmdb):
    client = _client(fake_tmdb)
    with pytest.raises(ValueError, match="page 501 is outside TMDB's 1..500"):
        client.page(plan_series(_params(fake_tmdb), [])[0], 501)
    assert fake_tmdb.requests == []
