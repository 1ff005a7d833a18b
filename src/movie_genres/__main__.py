"""python -m movie_genres: the same as the `movie-genres` command."""

import sys

from movie_genres.cli import main

sys.exit(main())
