"""Stage train_nb: one-vs-rest multinomial naive Bayes on word counts.

Usage: python -m stages.train_nb MODEL FEATURES [FEATURES ...]   (params from section `train_<model>`)
"""

import argparse
from pathlib import Path

from movie_genres import paths
from movie_genres.models.linear import refit_and_score, train_multinomial_nb
from movie_genres.models.out_of_fold import write_out_of_fold
from movie_genres.models.training import ModelCard, load_modelling_data, save_card, save_scores
from movie_genres.params import OutOfFoldParams, TrainNbParams, load_section, load_seed, read_params
from movie_genres.stage_io import run_stage, save_model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="model name; its params section is train_<model>")
    parser.add_argument("features", type=Path, nargs="+", help="feature files (.npz) of counts")
    args = parser.parse_args(argv)
    raw = read_params()
    params = load_section(raw, f"train_{args.model}", TrainNbParams)
    out_of_fold = load_section(raw, "out_of_fold", OutOfFoldParams)
    data = load_modelling_data(*args.features)
    model = train_multinomial_nb(data.train.x, data.train.y, params, data.genre_names)
    save_model(args.model, model)
    save_scores(args.model, data, model.predict_proba(data.evaluated.x), "probability")
    save_card(ModelCard(args.model, "probability", str(paths.model_file(args.model)), [str(f) for f in args.features]))
    fit_and_score = refit_and_score(model, "probability")
    write_out_of_fold(args.model, data, out_of_fold.folds, load_seed(raw), fit_and_score, "probability", n_jobs=-1)


if __name__ == "__main__":
    run_stage(main)
