"""python -m movie_genres.predict: the same as `movie-genres predict`."""

from movie_genres.cli import exit_process
from movie_genres.predict.cli import main

exit_process(main(prog="python -m movie_genres.predict"))
