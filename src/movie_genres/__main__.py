"""python -m movie_genres: the same as the `movie-genres` command."""

from movie_genres.cli import run

run()
