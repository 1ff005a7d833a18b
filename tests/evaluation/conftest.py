"""Real scores to judge (naive Bayes on the bundled movies' overviews, trained on some, scoring the rest),
and a headless browser for the pages the project writes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from movie_genres.data.dataset import label_matrix
from tests.headless_browser import CHROMIUM, Browser


@dataclass
class Scored:
    genre_names: list[str]
    labels: np.ndarray  # the held-out movies' true genres
    scores: np.ndarray  # their predicted probabilities


@pytest.fixture(scope="session")
def scored_movies(bundled) -> Scored:
    """About 1,800 held-out movies of the TMDB 5000 table scored by a word-count naive Bayes."""
    from sklearn.feature_extraction.text import CountVectorizer

    from movie_genres.models.linear import train_multinomial_nb
    from movie_genres.params import TrainNbParams

    raw, genre_names = bundled
    raw = raw[raw["genre_ids"].map(len) > 0]
    genre_ids = sorted(genre_names)
    labels = label_matrix(raw["genre_ids"], genre_ids)
    counts = CountVectorizer(min_df=5, stop_words="english").fit_transform(raw["overview"].fillna(""))
    train = np.arange(len(raw)) < 3000
    model = train_multinomial_nb(counts[train], labels[train], TrainNbParams(alpha=1.0))  # Foreign: no train movie
    return Scored([genre_names[g] for g in genre_ids], labels[~train], model.predict_proba(counts[~train]))


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Browser]:
    """Headless Chromium; the test is skipped, with the reason, where it is not installed."""
    if CHROMIUM is None:
        pytest.skip("needs a headless browser: apt-get install chromium (.ci/run installs it)")
    with Browser(tmp_path_factory.mktemp("chromium_profile")) as opened:
        yield opened
