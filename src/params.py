"""Typed, validated access to params.yaml.

Every stage reads its section through `load_section`, so a typo or an out-of-range value stops the
run at once with an error naming the key, instead of surfacing later as an obscure failure.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

PARAMS_FILE = Path("params.yaml")

T = TypeVar("T")


class ParamError(ValueError):
    """A parameter in params.yaml is missing, unknown or out of range."""


@dataclasses.dataclass(frozen=True)
class TmdbListParams:
    api_base_url: str
    language: str
    n_movies: int | None
    popular_pages: int
    discover_pages_per_genre: int
    discover_years_per_genre: int
    discover_first_year: int
    details: bool

    def check(self, key: str) -> None:
        _require(self.n_movies is None or self.n_movies >= 1, f"{key}.n_movies", "must be null or >= 1")
        _require(1 <= self.popular_pages <= 500, f"{key}.popular_pages", "must be 1..500 (TMDB's page limit)")
        _require(
            0 <= self.discover_pages_per_genre <= 500,
            f"{key}.discover_pages_per_genre",
            "must be 0..500 (TMDB's page limit)",
        )
        _require(self.discover_years_per_genre >= 1, f"{key}.discover_years_per_genre", "must be >= 1")
        _require(1874 <= self.discover_first_year <= 2100, f"{key}.discover_first_year", "must be a year")


@dataclasses.dataclass(frozen=True)
class FetchListParams:
    source: Literal["bundled", "tmdb"]
    max_movies: int | None
    tmdb: TmdbListParams

    def check(self, key: str) -> None:
        _require(self.max_movies is None or self.max_movies >= 10, f"{key}.max_movies", "must be null or >= 10")


@dataclasses.dataclass(frozen=True)
class FetchPostersParams:
    tmdb_poster_size: str

    def check(self, key: str) -> None:
        _require(bool(self.tmdb_poster_size.strip()), f"{key}.tmdb_poster_size", "must name a size, e.g. w185")


@dataclasses.dataclass(frozen=True)
class TmdbHttpParams:
    requests_per_second: float
    workers: int
    timeout_s: float
    max_retries: int
    backoff_base_s: float
    cache_dir: str

    def check(self, key: str) -> None:
        _require(
            0 < self.requests_per_second <= 50,
            f"{key}.requests_per_second",
            "must be in (0, 50]: TMDB's soft cap is about 40-50 requests/s",
        )
        _require(1 <= self.workers <= 64, f"{key}.workers", "must be 1..64")
        _require(self.timeout_s > 0, f"{key}.timeout_s", "must be > 0")
        _require(0 <= self.max_retries <= 20, f"{key}.max_retries", "must be 0..20")
        _require(self.backoff_base_s > 0, f"{key}.backoff_base_s", "must be > 0")
        _require(bool(self.cache_dir.strip()), f"{key}.cache_dir", "must be a folder path")


@dataclasses.dataclass(frozen=True)
class GenreAnalysisParams:
    n_clusters: int

    def check(self, key: str) -> None:
        _require(self.n_clusters >= 2, f"{key}.n_clusters", "must be >= 2")


@dataclasses.dataclass(frozen=True)
class SplitParams:
    test_size: float
    val_size: float

    def check(self, key: str) -> None:
        _require(0 < self.test_size < 1, f"{key}.test_size", "must be between 0 and 1")
        _require(0 < self.val_size < 1, f"{key}.val_size", "must be between 0 and 1")


@dataclasses.dataclass(frozen=True)
class TextFeaturesParams:
    max_df: float
    min_df: float

    def check(self, key: str) -> None:
        _require(0 < self.max_df <= 1, f"{key}.max_df", "must be a fraction in (0, 1]")
        _require(0 <= self.min_df < self.max_df, f"{key}.min_df", "must be a fraction below max_df")


@dataclasses.dataclass(frozen=True)
class EmbedTextParams:
    text: Literal["overview", "title_overview"]
    model_dir: str | None
    batch_size: int

    def check(self, key: str) -> None:
        _require(self.model_dir is None or self.model_dir.strip() != "", f"{key}.model_dir", "must be null or a folder")
        _require(1 <= self.batch_size <= 1024, f"{key}.batch_size", "must be 1..1024")


@dataclasses.dataclass(frozen=True)
class WordVectorsParams:
    source: Literal["glove-6b-50d", "word2vec_file"]
    path: str | None
    binary: bool
    lowercase: bool

    def check(self, key: str) -> None:
        _require(
            self.source != "word2vec_file" or bool(self.path),
            f"{key}.path",
            "must name the word2vec file when source is word2vec_file",
        )


@dataclasses.dataclass(frozen=True)
class MlpParams:
    hidden_units: list[int]
    dropout: float
    learning_rate: float
    batch_size: int
    max_epochs: int
    patience: int

    def check(self, key: str) -> None:
        _require(all(u > 0 for u in self.hidden_units), f"{key}.hidden_units", "must be positive layer sizes")
        _require(0 <= self.dropout < 1, f"{key}.dropout", "must be in [0, 1)")
        _require(self.learning_rate > 0, f"{key}.learning_rate", "must be > 0")
        _require(self.batch_size > 0, f"{key}.batch_size", "must be > 0")
        _require(self.max_epochs > 0, f"{key}.max_epochs", "must be > 0")
        _require(self.patience > 0, f"{key}.patience", "must be > 0")


@dataclasses.dataclass(frozen=True)
class LinearModelParams:
    C: list[float]
    class_weight: Literal["balanced"] | None
    cv_folds: int
    scoring: Literal["f1_micro", "f1_macro", "f1_samples", "f1_weighted"]

    def check(self, key: str) -> None:
        _require(len(self.C) > 0 and all(c > 0 for c in self.C), f"{key}.C", "must be a list of positive numbers")
        _require(self.cv_folds >= 2, f"{key}.cv_folds", "must be >= 2")


@dataclasses.dataclass(frozen=True)
class DetailFeaturesParams:
    tagline: bool
    keywords: bool
    companies: bool
    release_year: bool
    runtime: bool
    min_movies: int
    year_bins: list[float]
    runtime_bins: list[float]

    def check(self, key: str) -> None:
        _require(self.min_movies >= 1, f"{key}.min_movies", "must be >= 1")
        _require(self.year_bins == sorted(self.year_bins), f"{key}.year_bins", "must be increasing")
        _require(self.runtime_bins == sorted(self.runtime_bins), f"{key}.runtime_bins", "must be increasing")


@dataclasses.dataclass(frozen=True)
class TrainNbParams:
    alpha: float

    def check(self, key: str) -> None:
        _require(self.alpha > 0, f"{key}.alpha", "must be > 0")


@dataclasses.dataclass(frozen=True)
class LateFusionParams:
    text_model: str
    image_model: str
    weight_steps: int

    def check(self, key: str) -> None:
        _require(self.weight_steps >= 2, f"{key}.weight_steps", "must be >= 2")


@dataclasses.dataclass(frozen=True)
class EvaluateParams:
    top_k: int
    min_val_positives: int

    def check(self, key: str) -> None:
        _require(self.top_k >= 1, f"{key}.top_k", "must be >= 1")
        _require(self.min_val_positives >= 1, f"{key}.min_val_positives", "must be >= 1")


@dataclasses.dataclass(frozen=True)
class ImageInputParams:
    """How a poster becomes a network input: the rule the network's weights were trained with."""

    image_size: int
    resize: Literal["center_crop", "stretch"]
    crop_fraction: float
    interpolation: Literal["bicubic", "bilinear"]
    channel_order: Literal["rgb", "bgr"]
    mean: list[float]
    std: list[float]

    def check(self, key: str) -> None:
        _require(self.image_size >= 32, f"{key}.image_size", "must be >= 32 pixels")
        _require(0 < self.crop_fraction <= 1, f"{key}.crop_fraction", "must be a fraction in (0, 1]")
        _require(len(self.mean) == 3, f"{key}.mean", "must hold one value per colour channel (3)")
        _require(len(self.std) == 3 and all(s > 0 for s in self.std), f"{key}.std", "must be 3 positive values")


@dataclasses.dataclass(frozen=True)
class Vgg16Params(ImageInputParams):
    weights: str

    def check(self, key: str) -> None:
        super().check(key)
        _require(self.weights != "", f"{key}.weights", 'must be "imagenet" or the path of a .h5 file')


@dataclasses.dataclass(frozen=True)
class VggExtractParams:
    backbone: Literal["efficientnet_lite0", "vgg16"]
    batch_size: int
    efficientnet_lite0: ImageInputParams
    vgg16: Vgg16Params

    def check(self, key: str) -> None:
        _require(self.batch_size >= 1, f"{key}.batch_size", "must be >= 1")

    @property
    def image_input(self) -> ImageInputParams:
        """The input rule of the chosen backbone."""
        return self.efficientnet_lite0 if self.backbone == "efficientnet_lite0" else self.vgg16


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ParamError(f"params.yaml: `{key}` {message}")


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


def load_section(raw: dict[str, Any], section: str, cls: type[T]) -> T:
    """Build the dataclass `cls` from `raw[section]`, checking keys, types and ranges."""
    if section not in raw:
        raise ParamError(f"params.yaml: section `{section}` is missing")
    return _build(cls, raw[section], section)


def _build(cls: type[T], data: Any, key: str) -> T:
    if not isinstance(data, dict):
        raise ParamError(f"params.yaml: `{key}` must be a mapping, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ParamError(f"params.yaml: unknown key `{key}.{unknown[0]}` (expected one of {sorted(fields)})")
    hints = typing.get_type_hints(cls)
    values = {}
    for name in fields:
        if name not in data:
            raise ParamError(f"params.yaml: `{key}.{name}` is missing")
        values[name] = _coerce(hints[name], data[name], f"{key}.{name}")
    obj = cls(**values)
    check = getattr(obj, "check", None)
    if check is not None:
        check(key)
    return obj


def _coerce(hint: Any, value: Any, key: str) -> Any:
    """Check `value` against the type `hint`; ints are accepted where floats are expected."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            try:
                return _coerce(arg, value, key)
            except ParamError:
                continue
        raise ParamError(f"params.yaml: `{key}` must be {_describe(hint)}, got {value!r}")
    if origin is Literal:
        if value in args:
            return value
        raise ParamError(f"params.yaml: `{key}` must be one of {list(args)}, got {value!r}")
    if origin is list:
        if not isinstance(value, list):
            raise ParamError(f"params.yaml: `{key}` must be a list, got {value!r}")
        return [_coerce(args[0], item, f"{key}[{i}]") for i, item in enumerate(value)]
    if hint is type(None):
        if value is None:
            return None
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
        return value
    raise ParamError(f"params.yaml: `{key}` must be {_describe(hint)}, got {value!r}")


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    return "null" if hint is type(None) else getattr(hint, "__name__", str(hint))
