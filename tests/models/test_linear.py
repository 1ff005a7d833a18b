"""The one-vs-rest models on real overviews: the same scores as scikit-learn's OneVsRestClassifier and
GridSearchCV where every genre has training movies, no warning and one log line where one has none."""

import logging
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC

from movie_genres.data.dataset import label_matrix
from movie_genres.features.store import Features, StoredRows, save_features
from movie_genres.models.linear import (
    ABSENT_MARGIN,
    OneVsRestGenres,
    scores,
    train_linear_svm,
    train_logistic_regression,
    train_multinomial_nb,
)
from movie_genres.params import LinearModelParams, TrainNbParams


@pytest.fixture(scope="module")
def movies(bundled):
    """TF-IDF of the real overviews and their genres, in the bundled table's order."""
    raw, genre_names = bundled
    raw = raw[raw["genre_ids"].map(len) > 0]
    genre_ids = sorted(genre_names)
    x = TfidfVectorizer(min_df=5, stop_words="english").fit_transform(raw["overview"].fillna(""))
    return x, label_matrix(raw["genre_ids"], genre_ids), [genre_names[g] for g in genre_ids]


@pytest.mark.parametrize(
    "estimator",
    [LinearSVC(random_state=0), LogisticRegression(solver="liblinear", random_state=0), MultinomialNB()],
    ids=["svm", "logreg", "nb"],
)
def test_the_scores_of_scikit_learns_one_vs_rest_when_every_genre_is_there(movies, estimator):
    x, y, _ = movies
    train, test = slice(0, 900), slice(900, 1200)
    y = y[:, y[train].any(axis=0)]  # the genres these training movies have
    ours, theirs = (
        OneVsRestGenres(estimator).fit(x[train], y[train]),
        OneVsRestClassifier(estimator).fit(x[train], y[train]),
    )
    methods = ["predict"] + [m for m in ("predict_proba", "decision_function") if hasattr(estimator, m)]
    for method in methods:
        np.testing.assert_array_equal(getattr(ours, method)(x[test]), getattr(theirs, method)(x[test]), err_msg=method)


def test_a_genre_without_training_movies_is_skipped_quietly_with_one_line(movies, caplog):
    """The first 900 of these movies have no Foreign and no TV movie: a small profile's case. Of their
    two documentaries one is left out, so that the training part of one of two folds has none."""
    x, y, names = movies
    documentary = names.index("Documentary")
    rows = np.delete(np.arange(900), np.flatnonzero(y[:900, documentary])[1])
    x_train, y_train = x[rows], y[rows]
    absent = [names.index("Foreign"), names.index("TV Movie")]
    assert not y_train[:, absent].any() and y[900:, absent].any() and y_train[:, documentary].sum() == 1
    others = [j for j in range(y.shape[1]) if j not in absent]
    with warnings.catch_warnings(), caplog.at_level(logging.INFO, logger="movie_genres.models.linear"):
        warnings.simplefilter("error")  # scikit-learn's "Label not 18 is present in all training examples" fails
        svm = train_linear_svm(x_train, y_train, _grid([1.0], folds=2), seed=0, genre_names=names).model
        nb = train_multinomial_nb(x_train, y_train, TrainNbParams(alpha=1.0), genre_names=names)
    skipped = [r.getMessage() for r in caplog.records if "scored as never present" in r.getMessage()]
    line = "2 genre(s) without a training movie, not fitted and scored as never present: Foreign, TV Movie"
    assert skipped == [line, line]  # once for the grid search, once for naive Bayes
    in_folds = [r.getMessage() for r in caplog.records if r.getMessage().startswith("cross-validation")]
    assert in_folds == ["cross-validation: genre(s) without a training movie in some folds, not fitted there: "
                        "Documentary (1 of 2 folds)"]  # fmt: skip
    margins, probabilities = svm.decision_function(x[900:]), nb.predict_proba(x[900:])
    assert margins.shape == probabilities.shape == (x.shape[0] - 900, len(names))  # one column per genre still
    assert (margins[:, absent] == ABSENT_MARGIN).all() and (probabilities[:, absent] == 0).all()
    assert not svm.predict(x[900:])[:, absent].any()
    # the other genres score as a one-vs-rest model fitted without the absent column
    reference = OneVsRestClassifier(MultinomialNB()).fit(x_train, y_train[:, others])
    np.testing.assert_array_equal(probabilities[:, others], reference.predict_proba(x[900:]))


def _grid(
    c: list[float], folds: int = 3, max_movies: int | None = None, fit_max_movies: int | None = None
) -> LinearModelParams:
    return LinearModelParams(
        C=c,
        class_weight="balanced",
        cv_folds=folds,
        cv_max_movies=max_movies,
        fit_max_movies=fit_max_movies,
        scoring="f1_micro",
    )


def test_the_grid_search_is_gridsearchcvs_with_a_line_per_fold(movies, caplog):
    x, y, names = movies
    x, y = x[:1200], y[:1200]
    common = y.sum(axis=0) >= 10  # genres every fold's training part has, so GridSearchCV does not warn either
    y, names = y[:, common], [name for name, keep in zip(names, common) if keep]
    params = _grid([0.1, 1.0, 10.0])
    with caplog.at_level(logging.INFO, logger="movie_genres.models.linear"):
        ours = train_logistic_regression(x, y, params, seed=5, genre_names=names)
    logistic = LogisticRegression(class_weight="balanced", max_iter=2000, solver="liblinear", random_state=5)
    theirs = GridSearchCV(
        OneVsRestClassifier(logistic),
        {"estimator__C": params.C},
        scoring="f1_micro",
        cv=KFold(3, shuffle=True, random_state=5),
    ).fit(x, y)
    assert ours.best_C == theirs.best_params_["estimator__C"]
    assert ours.cv_score == theirs.best_score_
    np.testing.assert_array_equal(
        ours.cv_scores, np.column_stack([theirs.cv_results_[f"split{j}_test_score"] for j in range(3)])
    )
    np.testing.assert_array_equal(ours.model.predict_proba(x[:50]), theirs.best_estimator_.predict_proba(x[:50]))
    lines = [r.getMessage() for r in caplog.records]
    assert sum(" fold " in line for line in lines) == 9  # one per C value and fold, as each finishes
    assert sum(line.startswith(f"C={c:g}: mean f1_micro") for c in params.C for line in lines) == 3


def test_beyond_cv_max_movies_the_search_runs_on_a_seeded_sample_and_refits_on_all(movies, caplog):
    x, y, names = movies
    x, y = x[:1200], y[:1200]
    common = y.sum(axis=0) >= 10
    y, names = y[:, common], [name for name, keep in zip(names, common) if keep]
    with caplog.at_level(logging.INFO, logger="movie_genres.models.linear"):
        ours = train_linear_svm(x, y, _grid([0.01, 1.0], max_movies=500), seed=3, genre_names=names)
    assert "grid search on 500 of the 1200 training movies (cv_max_movies)" in caplog.messages
    sample = np.sort(np.random.default_rng(3).choice(1200, size=500, replace=False))
    theirs = GridSearchCV(
        OneVsRestClassifier(LinearSVC(class_weight="balanced", random_state=3)),
        {"estimator__C": [0.01, 1.0]},
        scoring="f1_micro",
        cv=KFold(3, shuffle=True, random_state=3),
        refit=False,
    ).fit(x[sample], y[sample])
    np.testing.assert_array_equal(
        ours.cv_scores, np.column_stack([theirs.cv_results_[f"split{j}_test_score"] for j in range(3)])
    )
    refit = OneVsRestClassifier(LinearSVC(C=ours.best_C, class_weight="balanced", random_state=3)).fit(x, y)
    np.testing.assert_array_equal(ours.model.decision_function(x[:50]), refit.decision_function(x[:50]))


def test_at_or_below_cv_max_movies_every_training_movie_is_cross_validated(movies):
    x, y, _ = movies
    capped = train_linear_svm(x[:600], y[:600], _grid([0.1, 1.0], max_movies=600), seed=1)
    uncapped = train_linear_svm(x[:600], y[:600], _grid([0.1, 1.0]), seed=1)
    np.testing.assert_array_equal(capped.cv_scores, uncapped.cv_scores)


def test_beyond_fit_max_movies_the_refits_use_a_seeded_sample_read_from_disk(movies, tmp_path, caplog):
    """Features left on disk (StoredRows): the search, the refit on a sample of fit_max_movies and the
    chunked scores are those of the same rows in memory."""
    x, y, _ = movies
    x, y = x[:1200], y[:1200]
    common = y.sum(axis=0) >= 10
    y = y[:, common]
    ids = np.arange(1200)
    save_features(tmp_path / "tfidf.npz", Features(ids, x))
    save_features(tmp_path / "dense.npz", Features(ids, np.ones((1200, 2), np.float32)))
    stored = StoredRows([tmp_path / "tfidf.npz", tmp_path / "dense.npz"], ids)
    in_memory = sp.hstack([x, np.ones((1200, 2))]).tocsr()
    params = _grid([0.1, 1.0], max_movies=500, fit_max_movies=700)
    with caplog.at_level(logging.INFO, logger="movie_genres.models.linear"):
        ours = train_logistic_regression(stored, y, params, seed=4)
    assert "fitted on 700 of 1200 movies (fit_max_movies)" in caplog.messages
    sample = np.sort(np.random.default_rng(4).choice(1200, size=700, replace=False))
    theirs = train_logistic_regression(in_memory[sample], y[sample], _grid([ours.best_C]), seed=4)
    np.testing.assert_array_equal(ours.cv_scores, train_logistic_regression(in_memory, y, params, seed=4).cv_scores)
    np.testing.assert_array_equal(scores(ours.model, "probability", stored), theirs.model.predict_proba(in_memory))
