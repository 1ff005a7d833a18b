"""The `report` section of params.yaml.

Kept here rather than in `movie_genres.params`, which every stage imports: a knob of the results page
must not make DVC rerun the whole pipeline. Validated the same way (the same strict base class).
"""

from __future__ import annotations

from pydantic import Field

from movie_genres.params import StrictParams


class ReportParams(StrictParams):
    gallery_movies: int = Field(ge=1, le=100, description="the best and the worst predicted test movies, each")
    gallery_models: int = Field(ge=1, description="the top models whose predictions the gallery shows")
    thumbnail_width: int = Field(ge=16, le=500, description="pixels")
    thumbnail_quality: int = Field(ge=1, le=95, description="JPEG quality")
