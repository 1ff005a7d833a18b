"""Stage train_<model>: a one-vs-rest linear model (SVM or logistic regression), C by grid search.

Usage: python -m stages.train_linear MODEL {svm,logreg} FEATURES [FEATURES ...]
Several feature files are joined column-wise; params come from section `train_<model>`.
"""

import argparse
import logging
from pathlib import Path

from movie_genres import paths
from movie_genres.models.linear import refit_and_score, scores, train_linear_svm, train_logistic_regression
from movie_genres.models.out_of_fold import write_out_of_fold
from movie_genres.models.predictions import ScoreKind
from movie_genres.models.training import ModelCard, load_modelling_data, save_card, save_scores
from movie_genres.params import (
    LinearModelParams,
    OutOfFoldParams,
    TrainingInputParams,
    load_section,
    load_seed,
    read_params,
)
from movie_genres.stage_io import run_stage, save_model, write_json

log = logging.getLogger(__name__)

TRAINERS = {"svm": train_linear_svm, "logreg": train_logistic_regression}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="model name; its params section is train_<model>")
    parser.add_argument("algorithm", choices=sorted(TRAINERS))
    parser.add_argument("features", type=Path, nargs="+", help="feature files (.npz)")
    args = parser.parse_args()
    raw = read_params()
    params = load_section(raw, f"train_{args.model}", LinearModelParams)
    out_of_fold = load_section(raw, "out_of_fold", OutOfFoldParams)
    seed = load_seed(raw)
    inputs = load_section(raw, "training_input", TrainingInputParams)
    data = load_modelling_data(*args.features, max_in_memory_bytes=inputs.max_in_memory_mib * 1024**2)
    search = TRAINERS[args.algorithm](data.train.x, data.train.y, params, seed, data.genre_names)
    best_c = search.best_C
    log.info("best C %s, cross-validated %s %.4f", best_c, params.scoring, search.cv_score)
    model = search.model
    kind: ScoreKind = "margin" if args.algorithm == "svm" else "probability"
    save_scores(args.model, data, scores(model, kind, data.evaluated.x), kind)
    refit = refit_and_score(model, kind, params.fit_max_movies, seed)
    write_out_of_fold(args.model, data, out_of_fold.folds, seed, refit, kind, n_jobs=-1)
    save_model(args.model, model)
    save_card(ModelCard(args.model, kind, str(paths.model_file(args.model)), [str(f) for f in args.features]))
    write_json(
        paths.training_report(args.model),
        {"best_C": best_c, "cv_score": round(search.cv_score, 4)},
    )


if __name__ == "__main__":
    run_stage(main)
