"""The predict command.

    movie-genres predict --overview "A young wizard ..." [--poster poster.jpg] [--model NAME] [--json]
    movie-genres predict --tmdb-id 603 | --tmdb-title "The Matrix"   (with TMDB_API_KEY: overview, details, poster)

Without --model, the best model by validation micro-F1 among those the given inputs can feed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from movie_genres.predict.api import predict
from movie_genres.predict.movie import MovieInput, read_poster


def _movie_from_args(args: argparse.Namespace) -> MovieInput:
    if args.tmdb_id is not None or args.tmdb_title is not None:
        from movie_genres.predict.tmdb import movie_from_tmdb

        return movie_from_tmdb(args.tmdb_id, args.tmdb_title)
    overview = args.overview
    if args.overview_file is not None:
        overview = args.overview_file.read_text()
    poster = read_poster(args.poster) if args.poster else None
    return MovieInput(title=args.title or "", overview=overview, poster=poster)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--overview", help="the plot overview")
    text.add_argument("--overview-file", type=Path, help="a file holding the plot overview")
    parser.add_argument("--title", help="the movie's title (used where the text model embeds title + overview)")
    parser.add_argument("--poster", type=Path, help="a poster image")
    parser.add_argument("--tmdb-id", type=int, help="fetch overview, details and poster from TMDB (needs TMDB_API_KEY)")
    parser.add_argument("--tmdb-title", help="like --tmdb-id, for the best TMDB search match of this title")
    parser.add_argument("--model", help="a trained model's name (default: the best usable one)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        result = predict(_movie_from_args(args), args.model)
    except (
        RuntimeError,
        ValueError,
        FileNotFoundError,
    ) as err:  # PredictError, TMDB, credentials, params, model folder
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"model: {result['model']} ({result['score_kind']})")
        for g in result["genres"]:
            print(f"{'*' if g['predicted'] else ' '} {g['genre']:<16} {g['score']:.3f}")
        print("* predicted (per-genre thresholds tuned on the validation movies)")
    return 0
