"""The page plan's capacity on TMDB-sized lists (the fake's lists are short: see test_client for those)."""

import re

import pytest
import yaml

from movie_genres.params import FetchListParams, TmdbListParams
from movie_genres.tmdb.plan import DUPLICATE_ALLOWANCE, Capacity, ListSize, PlanTooSmall, check_capacity
from tests.conftest import ROOT

# The real TMDB: movie/popular claims tens of thousands of pages; a genre's movies of one year fill
# more than the 5 pages a plan asks for.
POPULAR = ListSize(47_000, 940_000)
DISCOVER = ListSize(60, 1_200)
N_GENRES = 19


def _default_params(**changes) -> TmdbListParams:
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())["fetch_list"]
    return FetchListParams(**raw).tmdb.model_copy(update=changes)


def _capacity(params: TmdbListParams) -> Capacity:
    lists = N_GENRES * params.discover_years_per_genre if params.discover_pages_per_genre else 0
    return Capacity(POPULAR, [DISCOVER] * lists)


def test_a_list_holds_at_most_its_pages_its_total_pages_and_500_pages_of_20():
    assert ListSize(3, 45).rows(5) == 45
    assert ListSize(3).rows(5) == 60
    assert POPULAR.rows(500) == POPULAR.rows(501) == 10_000


def test_the_default_plan_cannot_hold_10000_movies_and_says_what_would():
    params = _default_params(n_movies=10_000)
    with pytest.raises(PlanTooSmall) as err:
        check_capacity(params, _capacity(params), N_GENRES)
    message = str(err.value)
    assert "the planned pages hold at most 2,900 movies" in message
    assert "(popular_pages cannot do it alone: movie/popular serves 500 pages, 10,000 movies;" in message
    assert "\n  discover_pages_per_genre=29 (now 5)\n" in message  # 1,000 + 19 x 29 x 20 = 12,020 >= 12,000
    assert "\n  discover_years_per_genre=6 (now 1;" in message  # 1,000 + 6 x 1,900 = 12,400


def test_the_documented_example_holds_its_n_movies_with_room_for_duplicates():
    page = (ROOT / "docs/data.md").read_text()
    (example,) = [line for line in page.splitlines() if "fetch_list.tmdb.n_movies=" in line]
    settings = {name: int(value) for name, value in re.findall(r"-S fetch_list\.tmdb\.(\w+)=(\d+)", example)}
    params = _default_params(**settings)
    capacity = _capacity(params)
    check_capacity(params, capacity, N_GENRES)
    assert params.n_movies is not None
    held = capacity.rows(params.popular_pages, params.discover_pages_per_genre)
    assert held >= params.n_movies * DUPLICATE_ALLOWANCE
