"""Genres for new movies from the trained models: `predict(MovieInput(...))`, or the `predict` command."""

from movie_genres.predict.api import predict
from movie_genres.predict.movie import MovieInput, PredictError

__all__ = ["MovieInput", "PredictError", "predict"]
