"""The live source's fetcher against the tutorial's loop: >= 2,000 movies with posters from the fake TMDB.

    python -m bench.tmdb_fetch [--movies 2000] [--limit 40] [--latency 0.05] [--fault-rate 0.02]
                               [--tutorial-sleep 0.025] [--skip-tutorial]

Both fetch movie/popular pages for `--movies` movies, then each movie's poster, from the same fake
TMDB (tests/fake_tmdb.py, serving the bundled movies) that answers after `--latency` seconds (a
remote server's round trip), answers 429 beyond TMDB's own limit of 50 requests/s, and injects
transient faults at `--fault-rate` (5xx, slow answers, malformed JSON, truncated or cut bodies,
dropped connections; seeded). Neither approach sees a 429 unless it goes too fast.

- pipeline: movie_genres.tmdb.client + movie_genres.data.posters as the stages run them, `--workers` at once under a
  `--limit` requests/s limiter, with retries; a fresh cache, so everything is fetched.
- tutorial: one request at a time, a fixed sleep after each, every call in a bare try/except (a
  failed page or poster is skipped), posters saved unchecked. The tutorial slept 1 s; the sleep is
  scaled to `--tutorial-sleep` (default 1/limit, the spacing the limit allows) so the run takes
  minutes, and the 1 s figure is computed from the same request count.

Prints, for each: wall time, requests the server received (retries included), their rate from the
first to the last (and as a fraction of the limit), movies lost or duplicated against the first N of
movie/popular, and posters that came back intact, corrupt, or not at all.
"""

from __future__ import annotations

import argparse
import io
import math
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import requests
from PIL import Image

from movie_genres import paths
from movie_genres.data.bundled import read_bundled_movies
from movie_genres.data.posters import collect_posters
from movie_genres.params import TmdbListParams
from movie_genres.tmdb.auth import API_KEY_VARIABLE, Credentials
from movie_genres.tmdb.client import TmdbClient, collect_movies
from movie_genres.tmdb.http import RetryPolicy, TmdbHttp
from movie_genres.tmdb.posters import tmdb_source
from movie_genres.tmdb.rate_limit import RateLimiter
from movie_genres.tmdb.request_cache import RequestCache
from tests.fake_tmdb import FakeTmdb

KEY = "bench-key"
TMDB_OWN_LIMIT = 50
BENCH_FAULTS = ("500", "502", "503", "slow", "malformed", "truncated", "cut", "drop")


@dataclass
class Outcome:
    wall_s: float
    movie_ids: list[int]
    posters: dict[int, bytes]


def pipeline_fetch(
    server: FakeTmdb, n_movies: int, limit: float, workers: int, timeout_s: float, work: Path
) -> Outcome:
    http = TmdbHttp(
        server.url + "/3",
        Credentials(API_KEY_VARIABLE, KEY),
        RateLimiter(limit),
        RetryPolicy(6, 0.5),
        timeout_s,
        RequestCache(work / "cache"),
    )
    client = TmdbClient(http, "en-US", workers)
    params = TmdbListParams(
        api_base_url=server.url + "/3",
        language="en-US",
        n_movies=n_movies,
        popular_pages=math.ceil(n_movies / 20),
        discover_pages_per_genre=0,
        discover_years_per_genre=1,
        discover_first_year=2016,
        details=False,
    )
    start = time.monotonic()
    raw = collect_movies(client, params).movies
    movies = raw.drop_duplicates("movie_id")  # as fetch_list's normalisation does
    source = tmdb_source(client, client.poster_url_base("w185"), movies)
    collect_posters(movies, source, work / "posters.zip")
    wall = time.monotonic() - start
    with zipfile.ZipFile(work / "posters.zip") as archive:
        posters = {int(Path(name).stem): archive.read(name) for name in archive.namelist()}
    return Outcome(wall, [int(i) for i in movies["movie_id"]], posters)


def tutorial_fetch(server: FakeTmdb, n_movies: int, sleep_s: float) -> Outcome:
    """The tutorial's loop, its sleep scaled to `sleep_s`."""
    session = requests.Session()
    start = time.monotonic()
    results: list[dict] = []
    for page in range(1, math.ceil(n_movies / 20) + 1):
        try:
            answer = session.get(f"{server.url}/3/movie/popular", params={"api_key": KEY, "page": page})
            answer.raise_for_status()
            results.extend(answer.json()["results"])
        except Exception:  # the tutorial's bare except: the page is skipped
            pass
        time.sleep(sleep_s)
    posters = {}
    for result in results[:n_movies]:
        try:
            answer = session.get(f"{server.url}/t/p/w185{result['poster_path']}")
            answer.raise_for_status()
            posters[int(result["id"])] = answer.content  # saved as it came, unchecked
        except Exception:
            pass
        time.sleep(sleep_s)
    wall = time.monotonic() - start
    return Outcome(wall, [int(r["id"]) for r in results[:n_movies]], posters)


def intact(data: bytes, original: bytes) -> bool:
    if data != original:
        return False
    with Image.open(io.BytesIO(data)) as image:
        image.load()
    return True


def report(name: str, outcome: Outcome, server: FakeTmdb, expected: list[int], limit: float) -> dict:
    # The request rate over the time requests were being sent (first to last arrival at the server);
    # wall_s also counts local work, such as writing the poster archive.
    arrivals = [entry.time for entry in server.log]
    rate = (len(arrivals) - 1) / (max(arrivals) - min(arrivals))
    with_poster = [i for i in expected if (paths.BUNDLED_POSTERS / f"{i}.jpg").is_file()]
    good = sum(
        intact(outcome.posters[i], (paths.BUNDLED_POSTERS / f"{i}.jpg").read_bytes())
        for i in with_poster
        if i in outcome.posters
    )
    return {
        "approach": name,
        "wall_s": round(outcome.wall_s, 1),
        "requests": len(arrivals),
        "rate_per_s": round(rate, 1),
        "rate/limit": round(rate / limit, 3),
        "movies_lost": len(set(expected) - set(outcome.movie_ids)),
        "movies_duplicated": len(outcome.movie_ids) - len(set(outcome.movie_ids)),
        "posters_intact": good,
        "posters_corrupt": sum(i in outcome.posters for i in with_poster) - good,
        "posters_lost": sum(i not in outcome.posters for i in with_poster),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--movies", type=int, default=2000)
    parser.add_argument("--limit", type=float, default=40.0, help="requests/s")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.05, help="the fake server's answer time, s")
    parser.add_argument("--fault-rate", type=float, default=0.02)
    parser.add_argument("--timeout", type=float, default=2.0, help="the pipeline's per-request timeout, s")
    parser.add_argument("--tutorial-sleep", type=float, help="default: 1/limit")
    parser.add_argument("--skip-tutorial", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tutorial_sleep = args.tutorial_sleep if args.tutorial_sleep is not None else 1 / args.limit

    raw, genre_names = read_bundled_movies(paths.BUNDLED_CSV)
    rows = []
    runs = [("pipeline", None)] + ([] if args.skip_tutorial else [("tutorial", tutorial_sleep)])
    for _name, sleep_s in runs:
        with (
            FakeTmdb(
                raw,
                genre_names,
                paths.BUNDLED_POSTERS,
                KEY,
                latency_s=args.latency,
                slow_s=args.timeout * 1.5,
                max_requests_per_second=TMDB_OWN_LIMIT,
            ) as server,
            tempfile.TemporaryDirectory() as work,
        ):
            server.random_faults(args.fault_rate, BENCH_FAULTS, seed=args.seed)
            expected = server.expected_popular_ids(args.movies)
            if sleep_s is None:
                outcome = pipeline_fetch(server, args.movies, args.limit, args.workers, args.timeout, Path(work))
                label = f"pipeline ({args.workers} workers, limit {args.limit:g}/s)"
            else:
                outcome = tutorial_fetch(server, args.movies, sleep_s)
                label = f"tutorial (sleep {sleep_s:g} s)"
            faults = sum(entry.fault is not None for entry in server.log)
            rows.append({**report(label, outcome, server, expected, args.limit), "faults_served": faults})
            if sleep_s is not None:
                # The same requests with the tutorial's own 1 s sleep: each takes 1 s more than measured.
                requests_sent = rows[-1]["requests"]
                per_request = 1 / rows[-1]["rate_per_s"] - sleep_s + 1.0
                rows.append(
                    {
                        "approach": "tutorial (sleep 1 s, computed)",
                        "wall_s": round(per_request * requests_sent, 1),
                        "requests": requests_sent,
                        "rate_per_s": round(1 / per_request, 2),
                        "rate/limit": round(1 / per_request / args.limit, 3),
                    }
                )
    print(
        f"{args.movies} movies of movie/popular with their posters; fake TMDB: {args.latency * 1000:g} ms answers, "
        f"{args.fault_rate:.0%} transient faults (seed {args.seed}), 429 past {TMDB_OWN_LIMIT} requests/s"
    )
    print(pd.DataFrame(rows).convert_dtypes().to_string(index=False, na_rep="-"))


if __name__ == "__main__":
    main()
