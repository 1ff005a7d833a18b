"""Stage evaluate: every model's test metrics under each decision rule with bootstrap intervals,
per-genre tables, PR curves.

Usage: python -m stages.evaluate MODEL [MODEL ...]   (dvc.yaml runs it once per model)
Writes metrics/<model>.json (the headline: the rule predict uses) and
reports/models/<model>.json (every rule, every F1 and its interval).
"""

import argparse

from movie_genres import paths
from movie_genres.data.dataset import subset_mask
from movie_genres.evaluation.bootstrap import CONFIDENCE, bootstrap_weights
from movie_genres.evaluation.evaluate import HEADLINE_RULE, evaluate
from movie_genres.models.predictions import load_predictions
from movie_genres.models.training import labels_of, load_labels
from movie_genres.params import EvaluateParams, load_section, load_seed, read_params
from movie_genres.stage_io import run_stage, write_csv, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+", help="model names, e.g. svm nb")
    args = parser.parse_args()
    raw = read_params()
    params = load_section(raw, "evaluate", EvaluateParams)
    seed = load_seed(raw)
    dataset, labels, genre_names = load_labels()
    ids = dataset["movie_id"].to_numpy()
    test = subset_mask(dataset, "test")
    # The same draws of test movies for every model, so their intervals are comparable.
    weights = bootstrap_weights(int(test.sum()), params.bootstrap_draws, seed)
    bootstrap = {"draws": params.bootstrap_draws, "seed": seed, "confidence": CONFIDENCE, "movies": int(test.sum())}
    for model in args.models:
        out_of_fold = load_predictions(paths.out_of_fold_file(model))
        result = evaluate(
            load_predictions(paths.predictions_file(model)),
            out_of_fold,
            labels_of(out_of_fold.movie_ids, dataset, labels),
            ids[test],
            labels[test],
            genre_names,
            params.top_k,
            params.min_positives,
            weights,
        )
        write_json(paths.model_metrics(model), result.headline())
        write_json(
            paths.model_report(model),
            {"headline_rule": HEADLINE_RULE, "bootstrap": bootstrap, "rules": result.metrics},
        )
        write_csv(paths.PLOTS / "per_genre" / f"{model}.csv", result.per_genre)
        write_csv(paths.PLOTS / "pr_curve" / f"{model}.csv", result.pr_curve)
        write_json(
            paths.model_decision(model),
            {
                # Unrounded (JSON keeps a float exactly): predict applies the thresholds the metric was computed with.
                "thresholds": dict(zip(genre_names, result.thresholds.tolist())),
                "out_of_fold_f1_micro": result.out_of_fold_f1_micro,
            },
        )


if __name__ == "__main__":
    run_stage(main)
