"""The `movie-genres` command: predict, lookup, crosscheck (each also runs as `python -m <module>`)."""

from __future__ import annotations

import sys
from importlib import import_module

# Command -> the module whose main(argv, prog) runs it; imported only when chosen (TensorFlow is slow to load).
COMMANDS = {
    "predict": ("movie_genres.predict.cli", "genres of a new movie from a trained model"),
    "lookup": ("movie_genres.tmdb.lookup", "look a movie up on TMDB: id, genres, overview, poster"),
    "crosscheck": ("movie_genres.data.imdb_crosscheck", "compare TMDB's genres with IMDb's, per genre"),
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


if __name__ == "__main__":
    sys.exit(main())
