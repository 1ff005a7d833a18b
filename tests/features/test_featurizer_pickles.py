"""Fitted featurizers pickle to the same bytes in every process, so DVC sees the same output."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

FIT_AND_PICKLE = """
import pickle, sys
import pandas as pd
from movie_genres.data.bundled import read_bundled_movies
from movie_genres.data.dataset import normalise_movies
from movie_genres.features.bag_of_words import BagOfWords
from movie_genres.features.details import DetailFeaturizer
from movie_genres.params import DetailFeaturesParams, TextFeaturesParams, load_section, read_params

raw, _ = read_bundled_movies(__import__("pathlib").Path("data/bundled/movies.csv"))
movies, _ = normalise_movies(raw, 300)
params = read_params()
bag = BagOfWords.fit(movies["overview"], load_section(params, "text_features", TextFeaturesParams))
bag.tfidf(movies["overview"])  # transforming sets scikit-learn's per-process cache key again
details = DetailFeaturizer(load_section(params, "detail_features", DetailFeaturesParams)).fit(movies)
details.transform(movies)
sys.stdout.buffer.write(pickle.dumps((bag, details)))
"""


def _pickled_in_a_new_process() -> bytes:
    done = subprocess.run([sys.executable, "-c", FIT_AND_PICKLE], cwd=ROOT, capture_output=True, check=True)
    return done.stdout


def test_featurizers_pickle_to_the_same_bytes_in_two_processes():
    assert _pickled_in_a_new_process() == _pickled_in_a_new_process()
