"""Stage evaluate: every model's test metrics under each decision rule, per-genre tables, PR curves.

Usage: python -m stages.evaluate MODEL [MODEL ...]   (dvc.yaml runs it once per model)
"""

import argparse

import numpy as np

from movie_genres import paths
from movie_genres.data.dataset import subset_mask
from movie_genres.evaluation.evaluate import evaluate
from movie_genres.models.predictions import load_predictions
from movie_genres.models.training import load_labels
from movie_genres.params import EvaluateParams, load_section, read_params
from movie_genres.stage_io import run_stage, write_csv, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+", help="model names, e.g. svm nb")
    args = parser.parse_args()
    params = load_section(read_params(), "evaluate", EvaluateParams)
    dataset, labels, genre_names = load_labels()
    ids = dataset["movie_id"].to_numpy()
    val, test = subset_mask(dataset, "val"), subset_mask(dataset, "test")
    for model in args.models:
        result = evaluate(
            load_predictions(paths.predictions_file(model)),
            ids[val],
            labels[val],
            ids[test],
            labels[test],
            genre_names,
            params.top_k,
            params.min_val_positives,
        )
        write_json(paths.METRICS / "models" / f"{model}.json", result.metrics)
        write_csv(paths.PLOTS / "per_genre" / f"{model}.csv", result.per_genre)
        write_csv(paths.PLOTS / "pr_curve" / f"{model}.csv", result.pr_curve)
        write_json(
            paths.model_decision(model),
            {
                "thresholds": dict(zip(genre_names, np.round(result.thresholds, 6).tolist())),
                "val_f1_micro": result.val_f1_micro,
            },
        )


if __name__ == "__main__":
    run_stage(main)
