"""Does model A beat model B? A paired bootstrap over the test movies, from the stored predictions.

Run after `dvc repro` (it reads data/predictions/<model>.npz, the split and params.yaml):
    python -m bench.compare_models stack_details details_logreg [--rule tuned_thresholds] [--draws 1000]
Both models' decisions (under the rule, by default the one `predict` applies) are scored on the same
resampled test movies: the draws `evaluate` uses for its intervals (params `seed` and
`evaluate.bootstrap_draws`). Prints, per F1 average, A, B, the difference A - B with its 95 % interval,
and the share of draws in which A scores more than B.
"""

from __future__ import annotations

import argparse

from movie_genres import paths
from movie_genres.data.dataset import subset_mask
from movie_genres.evaluation.bootstrap import (
    CONFIDENCE,
    F1_AVERAGES,
    PairedComparison,
    bootstrap_weights,
    paired_bootstrap,
)
from movie_genres.evaluation.evaluate import HEADLINE_RULE, RULES, decide
from movie_genres.models.predictions import load_predictions
from movie_genres.models.training import labels_of, load_labels
from movie_genres.params import EvaluateParams, load_section, load_seed, read_params


def compare(model_a: str, model_b: str, rule: str, draws: int | None = None) -> dict[str, PairedComparison]:
    raw = read_params()
    params = load_section(raw, "evaluate", EvaluateParams)
    dataset, labels, _ = load_labels()
    ids = dataset["movie_id"].to_numpy()
    test = subset_mask(dataset, "test")
    decisions = []
    for model in (model_a, model_b):
        out_of_fold = load_predictions(paths.out_of_fold_file(model))
        share_labels = labels_of(out_of_fold.movie_ids, dataset, labels)
        predictions = load_predictions(paths.predictions_file(model))
        decided = decide(predictions, out_of_fold, share_labels, ids[test], params.top_k, params.min_positives)
        decisions.append(decided.test[rule])
    weights = bootstrap_weights(int(test.sum()), draws or params.bootstrap_draws, load_seed(raw))
    return paired_bootstrap(labels[test], decisions[0], decisions[1], weights)


def verdict(model_a: str, model_b: str, comparison: PairedComparison) -> str:
    if comparison.low > 0:
        return f"{model_a} better"
    if comparison.high < 0:
        return f"{model_b} better"
    return "no clear difference"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_a")
    parser.add_argument("model_b")
    parser.add_argument("--rule", choices=RULES, default=HEADLINE_RULE, help=f"decision rule (default {HEADLINE_RULE})")
    parser.add_argument("--draws", type=int, help="bootstrap draws (default: params evaluate.bootstrap_draws)")
    args = parser.parse_args()
    comparisons = compare(args.model_a, args.model_b, args.rule, args.draws)
    draws = args.draws or load_section(read_params(), "evaluate", EvaluateParams).bootstrap_draws
    print(f"A = {args.model_a}, B = {args.model_b}; rule {args.rule}; {draws} paired draws of the test movies")
    print(f"{'F1':8} {'A':>7} {'B':>7} {'A - B':>8}  {f'{CONFIDENCE:.0%} interval':>19}  {'A > B in':>9}  verdict")
    for average in F1_AVERAGES:
        c = comparisons[average]
        print(
            f"{average:8} {c.a:7.4f} {c.b:7.4f} {c.difference:+8.4f}  [{c.low:+.4f}, {c.high:+.4f}]  "
            f"{c.share_a_better:8.1%}   {verdict(args.model_a, args.model_b, c)}"
        )


if __name__ == "__main__":
    main()
