"""A movie to predict: what the user gave (title, overview, poster, details), and the errors they can fix."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from PIL import Image

from movie_genres.data.dataset import DETAIL_COLUMNS
from movie_genres.data.posters import describe_image_error
from movie_genres.errors import UserError


class PredictError(UserError, RuntimeError):
    """The inputs or the trained models do not allow a prediction; the message says what to do."""


@dataclass
class MovieInput:
    title: str = ""
    overview: str | None = None
    poster: Image.Image | None = None
    details: dict[str, Any] = field(default_factory=dict)  # tagline, keywords, companies, release_date, runtime

    def available(self) -> set[str]:
        have = set()
        if self.overview:
            have.add("overview")
        if self.poster is not None:
            have.add("poster")
        if self.details:
            have.add("details")
        return have

    def frame(self) -> pd.DataFrame:
        """The movie as a one-row movie table, the shape the featurizers were fitted on."""
        row = {
            **DETAIL_COLUMNS,
            "release_date": "",
            **self.details,
            "title": self.title,
            "overview": self.overview or "",
        }
        return pd.DataFrame([row])


def read_poster(path: Path) -> Image.Image:
    try:
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            return image.convert("RGB")
    except FileNotFoundError:
        raise PredictError(f"poster {path} not found") from None
    except Exception as err:  # PIL raises many types for bad data
        raise PredictError(f"poster {path} is not a readable image ({describe_image_error(err)})") from None
