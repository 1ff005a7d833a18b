"""Text features of overviews: bag of words and TF-IDF (the tutorial's), fitted on training movies."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from movie_genres.params import TextFeaturesParams

_PUNCTUATION = re.compile(r"[,.]")


def clean_overview(text: str) -> str:
    """The tutorial's cleaning: commas and full stops removed."""
    return _PUNCTUATION.sub("", text)


def forget_stop_words_id(vectorizer: CountVectorizer) -> None:
    """Drop scikit-learn's cache key `_stop_words_id`, the memory address of the stop-word list.

    It differs in every process, so a pickle holding it changes bytes on every run; scikit-learn
    only uses it to skip re-checking the stop words, and checks again without it. Every transform
    sets it again, so it is dropped when pickling (`__getstate__`).
    """
    vars(vectorizer).pop("_stop_words_id", None)


@dataclass
class BagOfWords:
    """Word counts and their TF-IDF weighting, vocabulary and IDF learned from training overviews.

    Fitting on the training rows keeps test overviews from shaping the features they are judged on.
    """

    vectorizer: CountVectorizer
    tfidf_weighting: TfidfTransformer

    @classmethod
    def fit(cls, train_overviews: pd.Series, params: TextFeaturesParams) -> BagOfWords:
        vectorizer = CountVectorizer(max_df=params.max_df, min_df=params.min_df)
        counts = vectorizer.fit_transform(train_overviews.map(clean_overview))
        return cls(vectorizer, TfidfTransformer().fit(counts))

    def __getstate__(self) -> dict:
        forget_stop_words_id(self.vectorizer)
        return vars(self).copy()

    def counts(self, overviews: pd.Series) -> sp.csr_matrix:
        return sp.csr_matrix(self.vectorizer.transform(overviews.map(clean_overview)))

    def tfidf(self, overviews: pd.Series) -> sp.csr_matrix:
        return sp.csr_matrix(self.tfidf_weighting.transform(self.counts(overviews)))
