"""Out-of-fold scores and stacked models on real overviews: every training movie scored by a model that
never saw it, and a stack of two models that ranks genres better than either."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import average_precision_score
from sklearn.model_selection import cross_val_predict
from sklearn.naive_bayes import MultinomialNB

from movie_genres.data.dataset import label_matrix
from movie_genres.models.linear import OneVsRestGenres, refit_and_score
from movie_genres.models.out_of_fold import fold_rows, out_of_fold_scores
from movie_genres.models.predictions import Predictions
from movie_genres.models.stacking import build_stacker, fit_stack, stacked_inputs
from movie_genres.models.training import ModellingData, Subset


@pytest.fixture(scope="module")
def split(bundled):
    """Word counts of 1,500 real overviews and their six most common genres: 1,000 training movies
    (800 train, 200 val) and 500 test movies."""
    raw, _ = bundled
    raw = raw[raw["genre_ids"].map(len) > 0].head(1500)
    x = CountVectorizer(min_df=3, stop_words="english").fit_transform(raw["overview"].fillna("")).tocsr()
    y = label_matrix(raw["genre_ids"], [18, 35, 53, 28, 10749, 12])
    ids = raw["movie_id"].to_numpy()
    part = [Subset(ids[a:b], x[a:b], y[a:b]) for a, b in ((0, 800), (800, 1000), (1000, 1500), (800, 1500), (0, 1000))]
    return ModellingData(*part)


def test_out_of_fold_scores_are_scikit_learns_cross_val_predict(split):
    """Each movie scored by the fold model that held it out: as cross_val_predict with the same folds,
    in parallel or not."""
    share = split.share
    model = OneVsRestGenres(MultinomialNB())
    folds = fold_rows(len(share.y), 4, seed=3)
    ours = out_of_fold_scores(share, folds, refit_and_score(model, "probability"), n_jobs=2)
    theirs = np.column_stack(
        [
            cross_val_predict(MultinomialNB(), share.x, share.y[:, j], cv=folds, method="predict_proba")[:, 1]
            for j in range(6)
        ]
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_array_equal(out_of_fold_scores(share, folds, refit_and_score(model, "probability")), ours)


def test_a_stack_of_two_models_that_read_different_words_ranks_genres_better_than_either(split):
    """Two naive Bayes models, each reading half of the vocabulary: the stack hears both."""
    share = split.share
    folds = fold_rows(len(share.y), 5, seed=0)
    half = share.x.shape[1] // 2
    out_of_fold, final = [], []
    for words in (slice(0, half), slice(half, None)):
        model = OneVsRestGenres(MultinomialNB())
        seen = Subset(share.movie_ids, share.x[:, words], share.y)
        scores = out_of_fold_scores(seen, folds, refit_and_score(model, "probability"))
        out_of_fold.append(Predictions(share.movie_ids, scores, "probability"))
        fitted = model.fit(seen.x, seen.y)
        final.append(Predictions(split.test.movie_ids, fitted.predict_proba(split.test.x[:, words]), "probability"))
    stack = fit_stack(out_of_fold, final, share.movie_ids, share.y, split.test.movie_ids, C=0.1, folds=5, seed=0)

    # Its test scores: the stacker, fitted on all out-of-fold scores, on the models' final scores.
    np.testing.assert_array_equal(stack.scores, stack.model.predict_proba(stacked_inputs(final, split.test.movie_ids)))
    # Its own out-of-fold scores: the movies of each fold scored by a stacker fitted without them.
    fitted, held_out = folds[2]
    alone = build_stacker(0.1, 0).fit(stacked_inputs(out_of_fold, share.movie_ids)[fitted], share.y[fitted])
    np.testing.assert_array_equal(
        stack.out_of_fold[held_out], alone.predict_proba(stacked_inputs(out_of_fold, share.movie_ids)[held_out])
    )

    def ap(scores: np.ndarray) -> float:
        return average_precision_score(split.test.y, scores, average="micro")

    assert ap(stack.scores) > max(ap(part.scores) for part in final)
