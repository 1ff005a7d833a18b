"""Every model under every decision rule, with 95 % intervals: the results tables of docs/results.md.

    python -m bench.results_table [--rule tuned_thresholds]
Run after `dvc repro`: reads reports/models/<model>.json for the models of dvc.yaml's models list
and the inputs each model reads from its model card. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json

from movie_genres import paths
from movie_genres.evaluation.evaluate import RULES
from movie_genres.pipeline import evaluated_models
from movie_genres.predict.api import Predictor


def with_interval(figures: dict[str, float], name: str) -> str:
    return f"{figures[name]:.4f} [{figures[name + '_low']:.4f}, {figures[name + '_high']:.4f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rule", choices=RULES, action="append", help="only these rules (default: all)")
    args = parser.parse_args()
    predictor = Predictor()
    print(
        "| model | inputs | rule | micro-F1 [95 %] | samples-F1 [95 %] | macro-F1 [95 %] | per-movie P | per-movie R |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for model in evaluated_models():
        inputs = " + ".join(
            name for name in ("overview", "poster", "details") if name in predictor.needed_inputs(model)
        )
        rules = json.loads(paths.model_report(model).read_text())["rules"]
        for rule in args.rule or RULES:
            f = rules[rule]
            print(
                f"| {model} | {inputs} | {rule} | {with_interval(f, 'f1_micro')} | {with_interval(f, 'f1_samples')} | "
                f"{with_interval(f, 'f1_macro')} | {f['per_movie_precision']:.4f} | {f['per_movie_recall']:.4f} |"
            )


if __name__ == "__main__":
    main()
