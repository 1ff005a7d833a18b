"""Typed, validated access to params.yaml (pydantic models, one per section).

Every stage reads its section through `load_section`, so a typo or an out-of-range value stops the
run at once with an error naming the key and the rule, instead of surfacing later as an obscure
failure. Models are strict (no "1" for 1, no true for 1; an int is accepted where a float is
expected) and forbid unknown keys.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from movie_genres.errors import UserError

PARAMS_FILE = Path("params.yaml")

Section = TypeVar("Section", bound=BaseModel)

PositiveInt = Annotated[int, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class ParamError(UserError, ValueError):
    """A parameter in params.yaml is missing, unknown or out of range."""


class StrictParams(BaseModel):
    """The base of every params.yaml section: strict types, no unknown keys, read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TmdbListParams(StrictParams):
    api_base_url: str
    language: str
    n_movies: PositiveInt | None
    popular_pages: int = Field(ge=1, le=500, description="TMDB serves pages 1..500 of a list")
    discover_pages_per_genre: int = Field(ge=0, le=500, description="TMDB serves pages 1..500 of a list")
    discover_years_per_genre: PositiveInt
    discover_first_year: int = Field(ge=1874, le=2100, description="a release year")
    details: bool


class TmdbExportParams(StrictParams):
    url: str = Field(pattern=r"\S", description="the export's URL, with {date} where the date goes")
    date: str = Field(description="the export's day as MM_DD_YYYY, e.g. 12_01_2026")
    min_popularity: float | None = Field(ge=0, description="null: no floor")
    max_ids: PositiveInt | None = Field(description="the most popular N ids after the floor; null: all")
    shard_size: int = Field(ge=1, le=1_000_000, description="ids a shard's table holds")
    dir: str = Field(pattern=r"\S", description="a folder path")

    @field_validator("date")
    @classmethod
    def _a_real_day(cls, date: str) -> str:
        try:
            real = re.fullmatch(r"\d\d_\d\d_\d{4}", date) and datetime.strptime(date, "%m_%d_%Y")
        except ValueError:
            real = None
        if not real:
            raise ValueError("must be a real day")
        return date

    @field_validator("url")
    @classmethod
    def _one_date_placeholder(cls, url: str) -> str:
        rest = url.replace("{date}", "", 1)
        if "{date}" not in url or "{" in rest or "}" in rest:
            raise ValueError("must hold {date} once, and no other braces")
        return url

    @property
    def export_url(self) -> str:
        """The URL of the export of `date`."""
        return self.url.format(date=self.date)


class FetchListParams(StrictParams):
    source: Literal["bundled", "tmdb", "export"]
    max_movies: int | None = Field(ge=10, description="null keeps every movie")
    min_genre_movies: int = Field(ge=1, description="a genre fewer movies have is not modelled")
    tmdb: TmdbListParams
    export: TmdbExportParams


class FetchPostersParams(StrictParams):
    tmdb_poster_size: str = Field(min_length=1, pattern=r"\S", description="a size TMDB lists, e.g. w185")


class TmdbHttpParams(StrictParams):
    requests_per_second: float = Field(gt=0, le=50, description="TMDB's soft cap is about 40-50 requests/s")
    workers: int = Field(ge=1, le=64)
    timeout_s: float = Field(gt=0)
    max_retries: int = Field(ge=0, le=20)
    backoff_base_s: float = Field(gt=0)
    cache_dir: str = Field(pattern=r"\S", description="a folder path")
    # The streak that stops a run spans 3 different requests (tmdb.watch), so it is 3 tries long at least.
    stop_after_failures: int = Field(ge=3, description="failed tries in a row, across requests, that stop a run")
    retry_broken: bool


class FeatureCacheParams(StrictParams):
    dir: str | None = Field(pattern=r"\S", description="a folder path, or null for no cache")


class RayEngineParams(StrictParams):
    actors: PositiveInt
    cpus_per_actor: float = Field(gt=0, description="logical CPUs Ray reserves for each actor")
    gpus_per_actor: float = Field(ge=0, description="GPUs Ray gives each actor (0: none)")
    batch_size: PositiveInt


class FeatureEngineParams(StrictParams):
    """Where vgg_extract and embed_text compute the vectors the feature cache lacks."""

    engine: Literal["local", "ray"]
    ray: RayEngineParams


class GenreAnalysisParams(StrictParams):
    n_clusters: int = Field(ge=2)


class SplitParams(StrictParams):
    test_size: Fraction
    val_size: Fraction


class TextFeaturesParams(StrictParams):
    max_df: float = Field(gt=0, le=1, description="a fraction of overviews")
    min_df: float = Field(ge=0, lt=1, description="a fraction of overviews, below max_df")

    @model_validator(mode="after")
    def _min_below_max(self) -> TextFeaturesParams:
        if self.min_df >= self.max_df:
            raise ValueError("min_df must be below max_df")
        return self


class EmbedTextParams(StrictParams):
    text: Literal["overview", "title_overview"]
    model_dir: str | None = Field(pattern=r"\S", description="null, or a sentence-transformers folder")
    batch_size: int = Field(ge=1, le=1024)


class WordVectorsParams(StrictParams):
    source: Literal["glove-6b-50d", "word2vec_file"]
    path: str | None
    binary: bool
    lowercase: bool

    @model_validator(mode="after")
    def _file_named(self) -> WordVectorsParams:
        if self.source == "word2vec_file" and not self.path:
            raise ValueError("path must name the word2vec file when source is word2vec_file")
        return self


class MlpParams(StrictParams):
    hidden_units: list[PositiveInt]
    dropout: float = Field(ge=0, lt=1)
    learning_rate: float = Field(gt=0)
    batch_size: PositiveInt
    max_epochs: PositiveInt
    patience: PositiveInt


class TrainingInputParams(StrictParams):
    """Where the MLP stages read their inputs from: memory, or the feature files batch by batch."""

    max_in_memory_mib: PositiveInt = Field(description="larger training inputs are read from disk per batch")


class LinearModelParams(StrictParams):
    C: list[Annotated[float, Field(gt=0)]] = Field(min_length=1, description="the grid searched")
    class_weight: Literal["balanced"] | None
    cv_folds: int = Field(ge=2)
    # Cross-validate on at most this many training movies; fewer than 100 could not hold every genre in every fold.
    cv_max_movies: Annotated[int, Field(ge=100)] | None
    # Fit the chosen C (and the out-of-fold refits) on at most this many movies; null: all.
    fit_max_movies: Annotated[int, Field(ge=100)] | None
    scoring: Literal["f1_micro", "f1_macro", "f1_samples", "f1_weighted"]


class DetailFeaturesParams(StrictParams):
    tagline: bool
    keywords: bool
    companies: bool
    release_year: bool
    runtime: bool
    min_movies: PositiveInt
    year_bins: list[float]
    runtime_bins: list[float]

    @model_validator(mode="after")
    def _increasing_bins(self) -> DetailFeaturesParams:
        for name in ("year_bins", "runtime_bins"):
            if getattr(self, name) != sorted(getattr(self, name)):
                raise ValueError(f"{name} must be increasing")
        return self


class TrainNbParams(StrictParams):
    alpha: float = Field(gt=0, description="additive smoothing")


class OutOfFoldParams(StrictParams):
    folds: int = Field(ge=2, le=20, description="folds of the training share each model is refitted on")


class StackParams(StrictParams):
    C: float = Field(gt=0, description="inverse L2 strength of each genre's logistic regression")
    models: dict[str, list[str]] = Field(min_length=1, description="stacked model -> the models it reads")

    @field_validator("models")
    @classmethod
    def _at_least_two(cls, models: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, components in models.items():
            if len(set(components)) < 2 or len(set(components)) != len(components):
                raise ValueError(f"{name}: stacks two or more distinct models, got {components}")
        return models


class EvaluateParams(StrictParams):
    top_k: PositiveInt
    min_positives: PositiveInt
    bootstrap_draws: int = Field(ge=100, description="resamples of the test movies for the 95 % intervals")


Colour = Annotated[list[float], Field(min_length=3, max_length=3, description="one value per R, G, B channel")]


class ImageInputParams(StrictParams):
    """How a poster becomes a network input: the rule the network's weights were trained with."""

    image_size: int = Field(ge=32, description="pixels")
    resize: Literal["center_crop", "stretch"]
    crop_fraction: float | None = Field(gt=0, le=1, description="the centre crop's share of the shorter side")
    interpolation: Literal["bicubic", "bilinear"]
    channel_order: Literal["rgb", "bgr"]
    mean: Colour
    std: Colour

    @model_validator(mode="after")
    def _crop_only_when_cropping(self) -> ImageInputParams:
        if (self.resize == "center_crop") != (self.crop_fraction is not None):
            raise ValueError("crop_fraction must be set with resize: center_crop, and null with resize: stretch")
        if any(s <= 0 for s in self.std):
            raise ValueError("std must be positive")
        return self


class Vgg16Params(ImageInputParams):
    weights: str = Field(min_length=1, description='"imagenet" or the path of a .h5 file')


class VggExtractParams(StrictParams):
    backbone: Literal["efficientnet_lite0", "vgg16"]
    batch_size: PositiveInt
    efficientnet_lite0: ImageInputParams
    vgg16: Vgg16Params

    @property
    def image_input(self) -> ImageInputParams:
        """The input rule of the chosen backbone."""
        return self.efficientnet_lite0 if self.backbone == "efficientnet_lite0" else self.vgg16


def read_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """The raw params.yaml as a dict."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as err:
        raise ParamError(f"{path} not found: run from the repository root") from err
    if not isinstance(data, dict):
        raise ParamError(f"{path} must hold a mapping of sections")
    return data


def load_seed(raw: dict[str, Any]) -> int:
    seed = raw.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ParamError(f"params.yaml: `seed` must be an integer, got {seed!r}")
    return seed


def load_section(raw: dict[str, Any], section: str, model: type[Section]) -> Section:
    """Validate `raw[section]` as `model`; a ParamError names the first bad key and its rule."""
    if section not in raw:
        raise ParamError(f"params.yaml: section `{section}` is missing")
    try:
        return model.model_validate(raw[section])
    except ValidationError as err:
        raise ParamError(_describe(err, section, model)) from None


def _describe(err: ValidationError, section: str, model: type[BaseModel]) -> str:
    first = err.errors(include_url=False)[0]
    location = [str(part) for part in first["loc"] if not _is_type_tag(part)]
    key = section + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in location)
    if first["type"] == "missing":
        return f"params.yaml: `{key}` is missing"
    if first["type"] == "extra_forbidden":
        return f"params.yaml: unknown key `{key}` (expected one of {_field_names(model, location[:-1])})"
    message = first["msg"].removeprefix("Value error, ")
    rule = _field_description(model, location)
    got = f", got {first['input']!r}" if "input" in first and not isinstance(first["input"], dict) else ""
    return f"params.yaml: `{key}`: {message}{got}" + (f" ({rule})" if rule else "")


def _is_type_tag(part: object) -> bool:
    """Union members appear in error locations as type names ('int', 'list[float]'): not keys."""
    return isinstance(part, str) and (
        part in {"int", "float", "str", "bool", "none"} or "[" in part or part.startswith("function-")
    )


def _field_names(model: type[BaseModel], location: list[str]) -> list[str]:
    for part in location:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return sorted(model.model_fields)


def _field_description(model: type[BaseModel], location: list[str]) -> str | None:
    description = None
    for part in location:
        field = model.model_fields.get(part)
        if field is None:
            break
        description = field.description
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            model = field.annotation
    return description
