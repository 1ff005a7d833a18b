"""Stage choose_defaults: predict's default model for each set of inputs (see evaluation.default_models).

Usage: python -m stages.choose_defaults --models MODEL [MODEL ...]   (dvc.yaml's models list, in order: the
first usable one is the incumbent of an input set with no smaller one)
"""

import argparse

from movie_genres import paths
from movie_genres.evaluation.bootstrap import bootstrap_weights
from movie_genres.evaluation.default_models import OutOfFoldDecisions, choose_defaults
from movie_genres.models.training import labels_of, load_labels
from movie_genres.params import EvaluateParams, load_section, load_seed, read_params
from movie_genres.predict.api import Predictor
from movie_genres.stage_io import run_stage, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", required=True)
    args = parser.parse_args()
    for folder, suffix in ((paths.OUT_OF_FOLD, ".npz"), (paths.CARDS, ".json"), (paths.DECISIONS, ".json")):
        paths.require_only_models(folder, args.models, suffix)  # its deps in dvc.yaml
    raw = read_params()
    draws = load_section(raw, "evaluate", EvaluateParams).bootstrap_draws
    dataset, labels, genre_names = load_labels()
    out_of_fold = OutOfFoldDecisions.read(args.models, genre_names)
    weights = bootstrap_weights(len(out_of_fold.movie_ids), draws, load_seed(raw))
    compare = out_of_fold.micro_gain(labels_of(out_of_fold.movie_ids, dataset, labels), weights)
    predictor = Predictor()
    needs = {m: frozenset(predictor.needed_inputs(m)) for m in args.models}
    choices = choose_defaults(args.models, needs, out_of_fold.micro_f1.__getitem__, compare)
    write_json(paths.DEFAULT_MODELS, {choice.inputs: choice.as_dict() for choice in choices})


if __name__ == "__main__":
    run_stage(main)
