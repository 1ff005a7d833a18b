"""Text features of overviews: bag of words and TF-IDF (the tutorial's), fitted on training movies."""

from __future__ import annotations

import re

import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from src.params import TextFeaturesParams

_PUNCTUATION = re.compile(r"[,.]")


def clean_overview(text: str) -> str:
    """The tutorial's cleaning: commas and full stops removed."""
    return _PUNCTUATION.sub("", text)


def bag_of_words(
    overviews: pd.Series, is_train: pd.Series, params: TextFeaturesParams
) -> tuple[sp.csr_matrix, sp.csr_matrix, list[str]]:
    """Word counts and TF-IDF of every overview, with vocabulary and IDF learned on training rows only.

    Fitting on the training rows keeps test overviews from shaping the features they are judged on.
    """
    cleaned = overviews.map(clean_overview)
    vectorizer = CountVectorizer(max_df=params.max_df, min_df=params.min_df)
    vectorizer.fit(cleaned[is_train.to_numpy()])
    counts = vectorizer.transform(cleaned)
    tfidf = TfidfTransformer().fit(counts[is_train.to_numpy()]).transform(counts)
    return sp.csr_matrix(counts), sp.csr_matrix(tfidf), vectorizer.get_feature_names_out().tolist()
