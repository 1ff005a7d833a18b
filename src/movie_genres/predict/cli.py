"""The predict command.

One movie (any of the inputs; details make the best models usable offline):
    movie-genres predict --overview "A young wizard ..." [--title T] [--poster poster.jpg]
        [--tagline T] [--keywords "magic,school"] [--companies "Warner Bros."] [--runtime 152]
        [--release-date 2001-11-16] [--model NAME] [--json]
    movie-genres predict --movie movie.json        (one JSON object with the same fields; flags override it)
    movie-genres predict --tmdb-id 603 | --tmdb-title "The Matrix"   (with TMDB_API_KEY: overview, details, poster)
Many movies, each model loaded once:
    movie-genres predict --input movies.jsonl|movies.csv --output preds.jsonl [--model NAME]

Without --model, each movie gets the pipeline's default model for the inputs it has (models/defaults.json).
--engine: the networks on numpy (the default for one movie: no TensorFlow to start, about 2.5x sooner; a model
it does not compute goes to tensorflow) or on tensorflow (the default for --input: the pipeline's own, bit for
bit its features, faster on many movies).
A field that cannot be read fails the movie only where the model reads it; otherwise it is ignored with
a warning.

Exit status: 0 every movie predicted; 2 nothing could be predicted (a usage error, an unreadable input
file, missing or damaged model files; one line on stderr); 3 with --input, some movies could not be
predicted: the others are, and each failed movie's line holds its error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from movie_genres.cli import collection_paused
from movie_genres.errors import NumpyEngineUnsupported
from movie_genres.predict.features import ENGINES, Engine
from movie_genres.predict.movie import (
    DETAIL_FIELDS,
    MovieInput,
    PredictError,
    movie_from_mapping,
    read_text_file,
)

ROWS_FAILED = 3  # the exit status of a batch in which some movies could not be predicted
SINGLE_MOVIE_FLAGS = ("title", "overview", "overview_file", "poster", "movie", *DETAIL_FIELDS)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A usage error in one line, like every other error of the command."""
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _movie_from_args(args: argparse.Namespace) -> MovieInput:
    if args.tmdb_id is not None or args.tmdb_title is not None:
        from movie_genres.predict.tmdb import movie_from_tmdb

        return movie_from_tmdb(args.tmdb_id, args.tmdb_title)
    values: dict[str, Any] = {}
    base = Path()
    if args.movie is not None:
        try:
            values = json.loads(read_text_file(args.movie, "movie file"))
        except ValueError as err:
            raise PredictError(f"movie file {args.movie} is not valid JSON ({err})") from None
        if not isinstance(values, dict):
            raise PredictError(f"movie file {args.movie} must hold one JSON object")
        base = args.movie.parent
    # Flags override the movie file's fields; a flag's poster path is from the working directory.
    flags = {
        name: getattr(args, name) for name in ("title", "overview", *DETAIL_FIELDS) if getattr(args, name) is not None
    }
    if args.overview_file is not None:
        flags["overview"] = read_text_file(args.overview_file, "overview file")
    if args.poster is not None:
        flags["poster"] = args.poster.absolute()
    return movie_from_mapping({**values, **flags}, base)


def _print_text(result: dict) -> None:
    print(f"model: {result['model']} ({result['chosen']}; out-of-fold micro-F1 {result['out_of_fold_f1_micro']:.3f})")
    print(f"inputs used: {', '.join(result['inputs_used']) or 'none'}")
    if result["inputs_ignored"]:
        print(f"inputs ignored (not used by {result['model']}): {', '.join(result['inputs_ignored'])}")
    for g in result["genres"]:
        print(f"{'*' if g['predicted'] else ' '} {g['genre']:<16} {g['score']:.3f}")
    print("* predicted (per-genre thresholds tuned on out-of-fold scores; at least one genre)")


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def _parser(prog: str | None) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    movie = parser.add_argument_group("one movie")
    text = movie.add_mutually_exclusive_group()
    text.add_argument("--overview", help="the plot overview")
    text.add_argument("--overview-file", type=Path, metavar="FILE", help="a UTF-8 file holding the plot overview")
    movie.add_argument("--title", help="the movie's title (used where the text model embeds title + overview)")
    movie.add_argument("--poster", type=Path, metavar="FILE", help="a poster image")
    movie.add_argument("--tagline", help="the tagline")
    movie.add_argument("--keywords", help="TMDB keywords, comma-separated (or a JSON list, for names with commas)")
    movie.add_argument("--companies", help="production companies, comma-separated (or a JSON list)")
    movie.add_argument("--runtime", metavar="MINUTES", help="the runtime in minutes")
    movie.add_argument("--release-date", metavar="DATE", help="YYYY-MM-DD or YYYY")
    movie.add_argument(
        "--movie",
        type=Path,
        metavar="FILE",
        help="a JSON file with one object: title, overview, poster (a path, from the file's folder), "
        "tagline, keywords, companies, runtime, release_date",
    )
    movie.add_argument(
        "--tmdb-id", type=int, metavar="ID", help="fetch overview, details and poster from TMDB (needs TMDB_API_KEY)"
    )
    movie.add_argument("--tmdb-title", help="like --tmdb-id, for the best TMDB search match of this title")
    batch = parser.add_argument_group("many movies")
    batch.add_argument(
        "--input", type=Path, metavar="FILE", help="movies to predict: .jsonl (one JSON object a line) or .csv"
    )
    batch.add_argument(
        "--output", type=Path, metavar="FILE", help="where to write one JSON line per movie (default: stdout)"
    )
    parser.add_argument(
        "--model", metavar="NAME", help="a trained model's name (default: the best one the inputs can feed)"
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        help="where the networks run (default: numpy for one movie, tensorflow for --input)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (one movie)")
    return parser


def _check_combination(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    single = [f"--{name.replace('_', '-')}" for name in SINGLE_MOVIE_FLAGS if getattr(args, name) is not None]
    tmdb = [flag for flag, value in (("--tmdb-id", args.tmdb_id), ("--tmdb-title", args.tmdb_title)) if value]
    if args.input is not None and (single or tmdb):
        parser.error(f"--input predicts the movies of a file: leave out {', '.join(single + tmdb)}")
    if args.output is not None and args.input is None:
        parser.error("--output goes with --input (a file of movies)")
    if tmdb and single:
        parser.error(f"{tmdb[0]} fetches the movie from TMDB: leave out {', '.join(single)}")


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = _parser(prog)
    args = parser.parse_args(argv)
    _check_combination(parser, args)
    if args.input is not None:
        return _predict(args)
    # One movie: its imports and loads make millions of objects that live until the end, which the
    # collector would only walk again and again (~0.2 s of a 2.5 s call). A batch keeps collecting.
    with collection_paused():
        return _predict(args)


def _predict(args: argparse.Namespace) -> int:
    from movie_genres.predict.api import Predictor

    engine: Engine = args.engine or ("tensorflow" if args.input is not None else "numpy")
    try:
        if args.input is not None:
            return _batch(Predictor(engine), args)
        movie = _movie_from_args(args)
        try:
            result = Predictor(engine).predict(movie, args.model)
        except NumpyEngineUnsupported:
            if args.engine is not None:
                raise
            result = Predictor("tensorflow").predict(movie, args.model)  # the default engine that computes it
    except (RuntimeError, ValueError, OSError) as err:  # PredictError, TMDB, credentials, params
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print_text(result)
    return 0


def _batch(predictor: Any, args: argparse.Namespace) -> int:
    from movie_genres.files import atomic_path
    from movie_genres.predict.batch import predict_file

    if args.output is None:
        count, errors = predict_file(predictor, args.input, sys.stdout, args.model)
    else:
        with atomic_path(args.output) as partial, open(partial, "w", encoding="utf-8") as out:
            count, errors = predict_file(predictor, args.input, out, args.model)
    where = f" to {args.output}" if args.output else ""
    failed = f"; {errors} could not be predicted (their lines hold the error)" if errors else ""
    print(f"predicted {count - errors} of {count} movies{where}{failed}", file=sys.stderr)
    return ROWS_FAILED if errors else 0
