"""Classical models on bag-of-words features: the tutorial's linear SVM and multinomial naive Bayes."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC

from src.params import TrainNbParams, TrainSvmParams


def train_linear_svm(x: sp.csr_matrix, y: np.ndarray, params: TrainSvmParams, seed: int) -> GridSearchCV:
    """One-vs-rest linear SVM, C chosen by cross-validated grid search.

    The tutorial used SVC(kernel="linear"); liblinear's LinearSVC fits the same kind of model (hinge
    loss, L2 penalty; it also penalises the intercept) many times faster — bench/svm_speed.py measures
    both on this data.
    """
    svm = OneVsRestClassifier(LinearSVC(class_weight=params.class_weight, random_state=seed))
    search = GridSearchCV(
        svm,
        param_grid={"estimator__C": params.C},
        scoring=params.scoring,
        cv=KFold(n_splits=params.cv_folds, shuffle=True, random_state=seed),
        n_jobs=-1,
    )
    return search.fit(x, y)


def train_multinomial_nb(x: sp.csr_matrix, y: np.ndarray, params: TrainNbParams) -> OneVsRestClassifier:
    """One-vs-rest multinomial naive Bayes on word counts."""
    return OneVsRestClassifier(MultinomialNB(alpha=params.alpha)).fit(x, y)
