"""Partial details never make predict's default worse: the test movies with each detail field alone, and all.

Run after `dvc repro` (or `dvc pull`), from the repository root:
    python -m bench.partial_details [--output bench/results/partial_details.json]
For each field set (every detail field the details models read, alone, then all of them), each test
movie is given its overview and only those fields, and predicted three ways with `Predictor`:
- predict's default (without --model) for what it was given;
- the overview-only default (what an overview alone gets);
- the details default (what an overview with details gets), forced, to show what partial details cost it.
Each is scored by micro-F1 of its predicted genres (the tuned thresholds predict applies); the gains
against the overview-only default come from a paired bootstrap over the test movies (the draws of
params `seed` and `evaluate.bootstrap_draws`), with their 95 % interval.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.run_context import ROOT, run_context
from movie_genres import paths
from movie_genres.data.dataset import read_table, subset_mask
from movie_genres.evaluation.bootstrap import bootstrap_weights, paired_bootstrap
from movie_genres.models.training import load_labels
from movie_genres.params import EvaluateParams, load_section, load_seed, read_params
from movie_genres.predict.api import Predictor
from movie_genres.predict.features import FEATURES, FeatureRows, Featurizers
from movie_genres.predict.movie import DETAIL_FIELDS, MovieInput, movie_from_mapping

RESULTS = ROOT / "bench" / "results" / "partial_details.json"


def test_movies(fields: list[str]) -> list[MovieInput]:
    """The test movies with their overview and only `fields` of their details."""
    dataset = read_table(paths.DATASET)
    test = dataset[subset_mask(dataset, "test")]
    rows = test[["title", "overview", *fields]].to_dict("records")
    for row in rows:
        for name in ("keywords", "companies"):
            if name in row:
                row[name] = list(row[name])
        if "runtime" in row and not row["runtime"] > 0:
            row["runtime"] = None  # TMDB's 0: unknown
    return [movie_from_mapping(row) for row in rows]


def embed_each_text_once() -> None:
    """Every run embeds the same overviews: MiniLM's rows are kept by text (the same bits, ~20 s a run saved)."""
    feature = FEATURES[str(paths.TEXT_MINILM)]
    kept: dict[tuple[str, ...], FeatureRows] = {}

    def compute(featurizers: Featurizers, movies: list[MovieInput]) -> FeatureRows:
        key = tuple(f"{m.title}\n{m.overview}" for m in movies)
        if key not in kept:
            kept[key] = feature.compute(featurizers, movies)
        return kept[key]

    FEATURES[str(paths.TEXT_MINILM)] = replace(feature, compute=compute)


def decisions(results: list[dict], genres: list[str], fallback: np.ndarray | None = None) -> np.ndarray:
    """The predicted genres as a movies x genres matrix; a movie the model cannot predict (a details
    model, for a movie without that field) gets `fallback`'s row: what the user would be given."""
    column = {genre: j for j, genre in enumerate(genres)}
    matrix = np.zeros((len(results), len(genres)), dtype=bool)
    for i, result in enumerate(results):
        if "error" in result and fallback is not None:
            matrix[i] = fallback[i]
        else:
            matrix[i, [column[g] for g in result["predicted_genres"]]] = True
    return matrix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    raw = read_params()
    dataset, labels, genres = load_labels()
    truth = labels[subset_mask(dataset, "test")]
    weights = bootstrap_weights(
        len(truth), load_section(raw, "evaluate", EvaluateParams).bootstrap_draws, load_seed(raw)
    )
    embed_each_text_once()
    predictor = Predictor()
    text_default = predictor.defaults()["overview"]["model"]
    details_default = predictor.defaults()["overview+details"]["model"]
    read = [field for field in DETAIL_FIELDS if field in predictor.featurizers.detail_blocks()]
    overview_only = decisions(predictor.predict_many(test_movies([]), text_default), genres)
    document = run_context("bench.partial_details") | {
        "movies": len(truth),
        "overview_default": text_default,
        "rows": [],
    }
    print(
        f"{len(truth)} test movies; micro-F1 gains against the overview-only default ({text_default}), 95 % intervals"
    )
    for fields in [[field] for field in read] + [read]:
        movies = test_movies(fields)
        default_results = predictor.predict_many(movies)
        chosen = sorted({r["model"] for r in default_results})
        forced_results = predictor.predict_many(movies, details_default)
        with_them = sum("error" not in r for r in forced_results)
        row: dict = {"fields": fields, "default_chosen": chosen, "movies_with_them": with_them}
        for name, results in (("default", default_results), ("details_default", forced_results)):
            gain = paired_bootstrap(truth, decisions(results, genres, overview_only), overview_only, weights)["micro"]
            row[name] = {
                "micro_f1": round(gain.a, 4),
                "gain": round(gain.difference, 4),
                "interval": [round(gain.low, 4), round(gain.high, 4)],
            }
        document["rows"].append(row)
        d, forced = row["default"], row["details_default"]
        print(f"{'+'.join(fields):<40} ({with_them:>3} have them) default {','.join(chosen):<16} {d['micro_f1']:.4f} "
              f"{d['gain']:+.4f} [{d['interval'][0]:+.4f}, {d['interval'][1]:+.4f}]   {details_default} forced "
              f"{forced['micro_f1']:.4f} {forced['gain']:+.4f} "
              f"[{forced['interval'][0]:+.4f}, {forced['interval'][1]:+.4f}]")  # fmt: skip
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
