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
    popular_pages: int
    discover_pages_per_genre: int
    discover_first_year: int

    def check(self, key: str) -> None:
        _require(1 <= self.popular_pages <= 500, f"{key}.popular_pages", "must be 1..500 (TMDB's page limit)")
        _require(
            0 <= self.discover_pages_per_genre <= 500,
            f"{key}.discover_pages_per_genre",
            "must be 0..500 (TMDB's page limit)",
        )
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
    tmdb_image_base_url: str
    tmdb_poster_size: str


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
class TrainSvmParams:
    C: list[float]
    class_weight: Literal["balanced"] | None
    cv_folds: int
    scoring: Literal["f1_micro", "f1_macro", "f1_samples", "f1_weighted"]

    def check(self, key: str) -> None:
        _require(len(self.C) > 0 and all(c > 0 for c in self.C), f"{key}.C", "must be a list of positive numbers")
        _require(self.cv_folds >= 2, f"{key}.cv_folds", "must be >= 2")


@dataclasses.dataclass(frozen=True)
class TrainNbParams:
    alpha: float

    def check(self, key: str) -> None:
        _require(self.alpha > 0, f"{key}.alpha", "must be > 0")


@dataclasses.dataclass(frozen=True)
class EvaluateParams:
    top_k: int

    def check(self, key: str) -> None:
        _require(self.top_k >= 1, f"{key}.top_k", "must be >= 1")


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
