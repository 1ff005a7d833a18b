"""Genres for new movies from the trained models: `Predictor().predict_many(movies)`, `predict(MovieInput(...))`,
or the `predict` command."""

from movie_genres.predict.api import Predictor, predict
from movie_genres.predict.movie import MovieInput, PredictError

__all__ = ["MovieInput", "PredictError", "Predictor", "predict"]
