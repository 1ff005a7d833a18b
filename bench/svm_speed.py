"""The tutorial's SVC grid search against the pipeline's LinearSVC one, on the pipeline's own data.

Run after `dvc repro` (it reads data/features/text_tfidf.npz and the split):
    python -m bench.svm_speed [--repeats 3]
Prints each approach's grid-search wall time and test micro-F1 (threshold 0 on the SVM margin, as
`predict` does), and the speed ratio measured in this one run.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import SVC

from movie_genres import paths
from movie_genres.models.linear import train_linear_svm
from movie_genres.models.training import load_modelling_data
from movie_genres.params import LinearModelParams, load_section, load_seed, read_params


def tutorial_svc_search(x, y, params: LinearModelParams, seed: int) -> GridSearchCV:
    """The tutorial's model: OneVsRest(SVC(kernel='linear')), same C grid, folds and scoring."""
    search = GridSearchCV(
        OneVsRestClassifier(SVC(kernel="linear", class_weight=params.class_weight)),
        param_grid={"estimator__C": params.C},
        scoring=params.scoring,
        cv=KFold(n_splits=params.cv_folds, shuffle=True, random_state=seed),
        n_jobs=-1,
    )
    return search.fit(x, y)


def timed(fit, repeats: int):
    times, model = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3, help="runs of each search (median reported)")
    args = parser.parse_args()
    raw = read_params()
    params, seed = load_section(raw, "train_svm", LinearModelParams), load_seed(raw)
    data = load_modelling_data(paths.TEXT_TFIDF)
    print(f"train movies: {len(data.train.y)}, test movies: {len(data.test.y)}, features: {data.train.x.shape[1]}")
    results = {}
    for name, fit in [
        ("LinearSVC (pipeline)", lambda: train_linear_svm(data.train.x, data.train.y, params, seed)),
        ("SVC linear (tutorial)", lambda: tutorial_svc_search(data.train.x, data.train.y, params, seed)),
    ]:
        median, times, search = timed(fit, args.repeats)
        if isinstance(search, GridSearchCV):
            model, best_c = search.best_estimator_, search.best_params_["estimator__C"]
        else:
            model, best_c = search.model, search.best_C
        f1 = f1_score(data.test.y, model.predict(data.test.x), average="micro", zero_division=0)
        results[name] = (median, f1)
        print(f"{name}: median {median:.1f} s over {times}, best C {best_c}, test micro-F1 {f1:.4f}")
    (fast, fast_f1), (slow, slow_f1) = results.values()
    print(f"speed-up: {slow / fast:.1f}x; micro-F1 difference (LinearSVC - SVC): {fast_f1 - slow_f1:+.4f}")


if __name__ == "__main__":
    main()
