"""The `movie-genres` command: predict, lookup, crosscheck, compare (each also runs as `python -m <module>`)."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
from collections.abc import Iterator
from importlib import import_module
from typing import NoReturn

# Command -> the module whose main(argv, prog) runs it; imported only when chosen (TensorFlow is slow to load).
COMMANDS = {
    "predict": ("movie_genres.predict.cli", "genres of a new movie from a trained model"),
    "lookup": ("movie_genres.tmdb.lookup", "look a movie up on TMDB: id, genres, overview, poster"),
    "crosscheck": ("movie_genres.data.imdb_crosscheck", "compare TMDB's genres with IMDb's, per genre"),
    "compare": ("movie_genres.evaluation.compare_cli", "DVC experiments side by side: micro-F1, Δ, paired verdict"),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        width = max(map(len, COMMANDS))
        listing = "\n".join(f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items())
        print(f"usage: movie-genres COMMAND [ARGS]\n\ncommands:\n{listing}", file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 2
    module, _ = COMMANDS[args[0]]
    return import_module(module).main(args[1:], prog=f"movie-genres {args[0]}")


def exit_process(status: int) -> NoReturn:
    """`sys.exit(status)` without the slow part of Python's teardown. Every object the command made
    is frozen (left out of the collections): teardown's collections walked the objects of the imported
    libraries again and again, ~0.5 s at the end of a 3 s `predict` call with scikit-learn loaded. Once
    TensorFlow is loaded, the teardown of its modules is skipped too (~0.9 s after a 5 s call): what
    the command wrote is flushed first; its output files are closed by then (written through `with`
    blocks)."""
    gc.freeze()
    if "tensorflow" not in sys.modules:
        sys.exit(status)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`): nothing more to deliver
            stream.flush()
    os._exit(status)


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No garbage collection inside the block (as it was after: a caller's disabled collector stays so)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# What a shell reports for a command whose reader went away: 128 + SIGPIPE.
BROKEN_PIPE = 141


def run() -> NoReturn:
    """The `movie-genres` console script."""
    try:
        status = main()
    except BrokenPipeError:  # `| head` stopped reading: no traceback, and nothing more to write at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = BROKEN_PIPE
    exit_process(status)


if __name__ == "__main__":
    run()
