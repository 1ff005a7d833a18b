"""Features from a movie's details beyond its overview: tagline, keywords, companies, year, runtime.

The tutorial suggested such signal ("the director of a movie may be a good predictor"). All blocks are
non-negative and sparse; vocabularies and bins are learned on the training movies only, and the fitted
featurizer is saved so `predict` can describe a new movie the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import OneHotEncoder

from movie_genres.features.bag_of_words import clean_overview, forget_stop_words_id
from movie_genres.params import DetailFeaturesParams


def _identity(items: list[str]) -> list[str]:
    return items


def _release_year(movies: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(movies["release_date"].astype(str).str[:4], errors="coerce")


class _Binned:
    """One-hot bins of a number; unknown values (NaN) get a column of their own."""

    def __init__(self, edges: list[float]) -> None:
        self.edges = edges
        self.encoder = OneHotEncoder(handle_unknown="ignore")

    def _bins(self, values: pd.Series) -> pd.DataFrame:
        return pd.cut(values.astype(float), bins=[-np.inf, *self.edges, np.inf], right=False).astype(str).to_frame()

    def fit(self, values: pd.Series) -> _Binned:
        self.encoder.fit(self._bins(values))
        return self

    def transform(self, values: pd.Series) -> sp.csr_matrix:
        return sp.csr_matrix(self.encoder.transform(self._bins(values)))

    def get_feature_names_out(self) -> list[str]:
        return list(self.encoder.categories_[0])


@dataclass
class DetailFeaturizer:
    """The enabled blocks, fitted on training movies; `transform` stacks them side by side."""

    params: DetailFeaturesParams
    blocks: list[tuple[str, Any]] = field(default_factory=list)  # (block name, fitted transformer)

    def _inputs(self, movies: pd.DataFrame) -> dict[str, pd.Series]:
        return {
            "tagline": movies["tagline"].fillna("").astype(str).map(clean_overview),
            "keyword": movies["keywords"],
            "company": movies["companies"],
            "year": _release_year(movies),
            "runtime": movies["runtime"],
        }

    def _unfitted(self) -> list[tuple[str, Any]]:
        p = self.params
        candidates = [
            ("tagline", p.tagline, lambda: TfidfVectorizer(min_df=p.min_movies, stop_words="english")),
            ("keyword", p.keywords, lambda: CountVectorizer(analyzer=_identity, min_df=p.min_movies, binary=True)),
            ("company", p.companies, lambda: CountVectorizer(analyzer=_identity, min_df=p.min_movies, binary=True)),
            ("year", p.release_year, lambda: _Binned(p.year_bins)),
            ("runtime", p.runtime, lambda: _Binned(p.runtime_bins)),
        ]
        return [(name, make()) for name, enabled, make in candidates if enabled]

    def fit(self, movies: pd.DataFrame) -> DetailFeaturizer:
        inputs = self._inputs(movies)
        self.blocks = []
        for name, transformer in self._unfitted():
            try:
                self.blocks.append((name, transformer.fit(inputs[name])))
            except ValueError:  # no word or item is frequent enough (tiny profiles): leave the block out
                continue
        return self

    def __getstate__(self) -> dict:
        """What is pickled, in the same bytes in every process: no per-process cache keys, and the
        params as a dict (a pydantic model pickles its set of field names in hash order)."""
        for _, transformer in self.blocks:
            if isinstance(transformer, CountVectorizer):  # TfidfVectorizer is one too
                forget_stop_words_id(transformer)
        return {**vars(self), "params": self.params.model_dump()}

    def __setstate__(self, state: dict) -> None:
        vars(self).update(state, params=DetailFeaturesParams.model_validate(state["params"]))

    def transform(self, movies: pd.DataFrame) -> sp.csr_matrix:
        if not self.blocks:
            return sp.csr_matrix((len(movies), 0))
        inputs = self._inputs(movies)
        return sp.hstack([sp.csr_matrix(t.transform(inputs[name])) for name, t in self.blocks]).tocsr()

    @property
    def feature_names(self) -> list[str]:
        return [f"{name}:{column}" for name, t in self.blocks for column in t.get_feature_names_out()]
