"""Sentence-encoder throughput: batches of similar length against the naive pad-everything-to-256.

Run after `dvc repro split_dataset` (it reads data/dataset.parquet and params.yaml `embed_text`):
    python -m bench.encoder_throughput [--repeats 3] [--limit N] [--output bench/results/encoder_throughput.json]
Each repeat embeds the same texts both ways, one after the other, so both see the same machine
load; prints sentences/s of each run, the medians, and the median speed ratio, and writes them
(with the command, commit, machine and load) to the output file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from bench.run_context import ROOT, run_context
from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.features.sentence_encoder import SentenceEncoder, find_model_dir, movie_texts
from movie_genres.params import EmbedTextParams, load_section, read_params

RESULTS = ROOT / "bench" / "results" / "encoder_throughput.json"


def sentences_per_second(encoder: SentenceEncoder, texts: list[str], bucket_by_length: bool) -> float:
    start = time.perf_counter()
    encoder.encode(texts, bucket_by_length=bucket_by_length)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3, help="runs of each way (medians reported)")
    parser.add_argument("--limit", type=int, default=None, help="embed only the first N movies")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the figures are written (JSON)")
    args = parser.parse_args()
    context = run_context("bench.encoder_throughput")
    params = load_section(read_params(), "embed_text", EmbedTextParams)
    texts = movie_texts(read_table(paths.DATASET), params.text)[: args.limit]
    encoder = SentenceEncoder(find_model_dir(params.model_dir), params.batch_size)
    lengths = np.array([len(ids) + 2 for ids in encoder.token_ids(texts)])
    print(
        f"{len(texts)} texts ({params.text}), batch size {params.batch_size}; tokens per text: "
        f"median {np.median(lengths):.0f}, max {lengths.max()}, limit {encoder.max_tokens}"
    )
    for bucket_by_length in (True, False):  # warm up: trace the model for both ways first
        encoder.encode(texts[: 4 * params.batch_size], bucket_by_length=bucket_by_length)
    runs: dict[str, list[float]] = {"bucketed": [], "naive": []}
    for repeat in range(args.repeats):
        runs["bucketed"].append(sentences_per_second(encoder, texts, bucket_by_length=True))
        runs["naive"].append(sentences_per_second(encoder, texts, bucket_by_length=False))
        print(
            f"run {repeat + 1}: bucketed {runs['bucketed'][-1]:.1f}/s,"
            f" naive pad-to-{encoder.max_tokens} {runs['naive'][-1]:.1f}/s"
        )
    bucketed, naive = statistics.median(runs["bucketed"]), statistics.median(runs["naive"])
    ratios = [b / n for b, n in zip(runs["bucketed"], runs["naive"], strict=True)]
    print(f"median sentences/s: bucketed {bucketed:.1f}, naive {naive:.1f}; speed-up {statistics.median(ratios):.2f}x")
    document = {
        **context,
        "texts": len(texts),
        "settings": params.model_dump(),
        "tokens_per_text": {
            "median": float(np.median(lengths)),
            "max": int(lengths.max()),
            "limit": encoder.max_tokens,
        },
        "runs": [
            {
                "repeat": repeat + 1,
                "bucketed_per_s": round(b, 2),
                "naive_per_s": round(n, 2),
                "speed_up": round(b / n, 3),
            }
            for repeat, (b, n) in enumerate(zip(runs["bucketed"], runs["naive"], strict=True))
        ],
        "medians": {"bucketed_per_s": round(bucketed, 2), "naive_per_s": round(naive, 2)},
        "speed_up": round(statistics.median(ratios), 3),
        "load_average_after": [round(load, 2) for load in os.getloadavg()],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
