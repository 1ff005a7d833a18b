"""python -m movie_genres.predict: the same as `movie-genres predict`."""

import sys

from movie_genres.predict.cli import main

sys.exit(main(prog="python -m movie_genres.predict"))
