"""Stage choose_defaults: predict's default model for each set of inputs (see evaluation.default_models).

Usage: python -m stages.choose_defaults MODEL [MODEL ...]   (the models list, in order; the first usable
one is the incumbent of an input set with no smaller one)
"""

import argparse
import json

import numpy as np

from movie_genres import paths
from movie_genres.evaluation.bootstrap import bootstrap_weights, paired_bootstrap
from movie_genres.evaluation.default_models import choose_defaults
from movie_genres.models.predictions import at_least_one_genre, load_predictions
from movie_genres.models.training import labels_of, load_labels
from movie_genres.params import EvaluateParams, load_section, load_seed, read_params
from movie_genres.predict.api import Predictor
from movie_genres.stage_io import run_stage, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    raw = read_params()
    draws = load_section(raw, "evaluate", EvaluateParams).bootstrap_draws
    dataset, labels, genre_names = load_labels()
    out_of_fold = {m: load_predictions(paths.out_of_fold_file(m)) for m in args.models}
    share_ids = out_of_fold[args.models[0]].movie_ids
    share_labels = labels_of(share_ids, dataset, labels)
    decided, score = {}, {}
    for m in args.models:
        decision = json.loads(paths.model_decision(m).read_text())
        thresholds = np.array([decision["thresholds"][genre] for genre in genre_names])
        decided[m] = at_least_one_genre(out_of_fold[m].rows(share_ids), thresholds)
        score[m] = float(decision["out_of_fold_f1_micro"])
    weights = bootstrap_weights(len(share_ids), draws, load_seed(raw))

    def compare(a: str, b: str) -> tuple[float, float, float]:
        micro = paired_bootstrap(share_labels, decided[a], decided[b], weights)["micro"]
        return round(micro.difference, 4), round(micro.low, 4), round(micro.high, 4)

    predictor = Predictor()
    needs = {m: frozenset(predictor.needed_inputs(m)) for m in args.models}
    choices = choose_defaults(args.models, needs, score.__getitem__, compare)
    write_json(paths.DEFAULT_MODELS, {choice.inputs: choice.as_dict() for choice in choices})


if __name__ == "__main__":
    run_stage(main)
