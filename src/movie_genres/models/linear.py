"""Classical one-vs-rest models on sparse features: linear SVM, logistic regression, naive Bayes."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC

from movie_genres.params import LinearModelParams, TrainNbParams


def grid_search_one_vs_rest(
    estimator: ClassifierMixin, x: sp.csr_matrix, y: np.ndarray, params: LinearModelParams, seed: int
) -> GridSearchCV:
    """One binary `estimator` per genre, its C chosen by seeded k-fold cross-validation."""
    search = GridSearchCV(
        OneVsRestClassifier(estimator),
        param_grid={"estimator__C": params.C},
        scoring=params.scoring,
        cv=KFold(n_splits=params.cv_folds, shuffle=True, random_state=seed),
        n_jobs=-1,
    )
    return search.fit(x, y)


def train_linear_svm(x: sp.csr_matrix, y: np.ndarray, params: LinearModelParams, seed: int) -> GridSearchCV:
    """The tutorial's model. It used SVC(kernel="linear"); liblinear's LinearSVC fits the same kind of
    model (hinge loss, L2 penalty; it also penalises the intercept) many times faster, as
    bench/svm_speed.py measures on this data.
    """
    return grid_search_one_vs_rest(LinearSVC(class_weight=params.class_weight, random_state=seed), x, y, params, seed)


def train_logistic_regression(x: sp.csr_matrix, y: np.ndarray, params: LinearModelParams, seed: int) -> GridSearchCV:
    """Like the SVM, but with calibrated-ish probabilities, which thresholds and late fusion need."""
    estimator = LogisticRegression(
        class_weight=params.class_weight, max_iter=2000, solver="liblinear", random_state=seed
    )
    return grid_search_one_vs_rest(estimator, x, y, params, seed)


def train_multinomial_nb(x: sp.csr_matrix, y: np.ndarray, params: TrainNbParams) -> OneVsRestClassifier:
    """One-vs-rest multinomial naive Bayes on word counts."""
    return OneVsRestClassifier(MultinomialNB(alpha=params.alpha)).fit(x, y)
