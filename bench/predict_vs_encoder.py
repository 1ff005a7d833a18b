"""Batch predict against its own encoder, in one run: movies/s of `predict --input` over texts/s of MiniLM.

Run after `dvc repro` (or `dvc pull`), from the repository root:
    python -m bench.predict_vs_encoder [--movies 1500] [--repeats 3] [--poster]
       [--output FILE]   (default bench/results/predict_vs_encoder.json, with --poster ..._poster.json)
The movies are the first movies of data/dataset.parquet (any subset: there are 950 test movies),
with their title and overview only (with --poster, their posters too), written as a JSON Lines
file. Each repeat runs fresh processes, one after the other so that all see the same machine load,
start-up included:
- predict: `python -m movie_genres.predict --input movies.jsonl --output preds.jsonl` (the default model
  for the inputs given: the text default, or with --poster the text-and-poster default);
- the feature networks alone, as their stages run them on the same movies: MiniLM's `encode` with the
  settings the models were trained with (models/text_minilm.featurizer.json), and with --poster the
  poster CNN (the stage's `run_network`: a batch on each core); the slower of the two is the target.
Prints and writes each run's wall time, CPU time (user + system of the process) and CPU utilisation
(CPU over wall: 2.0 is two cores busy), the medians, and the median of the per-repeat ratios
predict / feature network (target: at least 0.8).
With --poster, each network also runs once on one core (TensorFlow's inter-op pool of one thread too, so
that its batches run one after the other): predict has to compute both, so on this machine's cores it
needs at least their CPU seconds over the cores, and the slower network's median wall over that is the
best ratio any schedule could give ("cpu_bound_ratio"; each network's start-up is counted, predict has
one).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from bench.predict_speed import write_movies
from bench.run_context import measured

ROOT = Path(__file__).resolve().parents[1]
RESULTS = {
    False: ROOT / "bench/results/predict_vs_encoder.json",
    True: ROOT / "bench/results/predict_vs_encoder_poster.json",
}
TARGET = 0.8


def encode_texts(movies_file: str) -> None:
    """MiniLM on the movies' texts, as embed_text runs it (the trained settings)."""
    import pandas as pd

    from movie_genres import paths
    from movie_genres.features.sentence_encoder import SentenceEncoder, find_model_dir, movie_texts
    from movie_genres.params import EmbedTextParams
    from movie_genres.predict.features import trained_settings

    settings = trained_settings(paths.TEXT_MINILM, EmbedTextParams)
    movies = pd.read_json(movies_file, lines=True)
    SentenceEncoder(find_model_dir(settings.model_dir), settings.batch_size).encode(movie_texts(movies, settings.text))


def run_cnn(movies_file: str) -> None:
    """The poster CNN on the movies' posters, as vgg_extract runs it (the trained settings)."""
    import pandas as pd

    from movie_genres import paths
    from movie_genres.features.cnn import build_backbone
    from movie_genres.features.poster_features import run_network
    from movie_genres.parallel import usable_cores
    from movie_genres.params import VggExtractParams
    from movie_genres.predict.features import trained_settings

    settings = trained_settings(paths.POSTER_FEATURES, VggExtractParams)
    folder = Path(movies_file).parent
    posters = [(folder / name).read_bytes() for name in pd.read_json(movies_file, lines=True)["poster"]]
    rule, batch_size = settings.image_input, settings.batch_size
    run_network(build_backbone(settings), enumerate(posters), len(posters), rule, batch_size, usable_cores(), False)


ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}


def timed(command: list[str], extra_env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall and CPU seconds of one child process, and the cores it kept busy (CPU over wall)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "src")])),
        **(extra_env or {}),
    }
    seconds = measured(command, env)
    wall, cpu = seconds["wall_s"], seconds["cpu_s"]
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "cpu_utilisation": round(cpu / wall, 2)}


def seconds_and_cpu(figures: dict[str, float]) -> str:
    return f"{figures['wall_s']:.1f} s (CPU {figures['cpu_utilisation']:.2f})"


def python_call(function: str, movies_file: Path) -> list[str]:
    return [sys.executable, "-c", f"from bench.predict_vs_encoder import {function}; {function}({str(movies_file)!r})"]


def _cpu_bound(one_thread: dict[str, dict[str, float]], median: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The best ratio on these cores: the slower network's median wall over both networks' one-thread CPU
    seconds spread over every core."""
    if not one_thread:
        return {}
    slowest = max(one_thread, key=lambda name: median[name]["wall_s"])
    least_wall = sum(figures["cpu_s"] for figures in one_thread.values()) / (os.cpu_count() or 1)
    bound = round(median[slowest]["wall_s"] / least_wall, 3)
    print(f"one thread each: {', '.join(f'{n} {seconds_and_cpu(f)}' for n, f in one_thread.items())}; "
          f"predict needs >= {least_wall:.1f} s on {os.cpu_count()} cores: ratio <= {bound:.3f}")  # fmt: skip
    return {"one_thread": one_thread, "cpu_bound_ratio": bound}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--movies", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--poster", action="store_true", help="movies with posters: the text-and-poster default")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    args.output = args.output or RESULTS[args.poster]

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kept = ("id", "title", "overview", "poster") if args.poster else ("id", "title", "overview")
        rows = [{key: row[key] for key in kept} for row in write_movies(folder, args.movies, test_only=False)]
        n = len(rows)
        movies_file = folder / "bench_movies.jsonl"
        movies_file.write_text("".join(json.dumps(row) + "\n" for row in rows))
        contenders = {
            "predict": [sys.executable, "-m", "movie_genres.predict", "--input", str(movies_file),
                        "--output", str(folder / "predictions.jsonl")],
            "minilm": python_call("encode_texts", movies_file),
        }  # fmt: skip
        if args.poster:
            contenders["poster_cnn"] = python_call("run_cnn", movies_file)
        networks = [name for name in contenders if name != "predict"]
        load_before = os.getloadavg()
        runs = []
        for repeat in range(1, args.repeats + 1):
            run: dict[str, Any] = {"repeat": repeat, "load_average_before": round(os.getloadavg()[0], 2)}
            run |= {name: timed(command) for name, command in contenders.items()}
            run["slowest_network"] = max(networks, key=lambda name: run[name]["wall_s"])
            run["ratio"] = round(run[run["slowest_network"]]["wall_s"] / run["predict"]["wall_s"], 3)
            timings = ", ".join(f"{name} {seconds_and_cpu(run[name])}" for name in contenders)
            print(f"run {repeat}: {timings}; predict / {run['slowest_network']} = {run['ratio']:.3f}")
            runs.append(run)

        one_thread = {name: timed(contenders[name], ONE_THREAD) for name in networks} if args.poster else {}

    median = {
        name: {key: round(statistics.median(r[name][key] for r in runs), 2) for key in runs[0][name]}
        for name in contenders
    }
    for figures in median.values():
        figures["items_per_s"] = round(n / figures["wall_s"], 1)
    ratio = round(statistics.median(r["ratio"] for r in runs), 3)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    document = {
        "command": "python -m bench.predict_vs_encoder " + " ".join(sys.argv[1:]),
        "date": date.today().isoformat(),
        "commit": commit.stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "movies": n,
        "inputs": "title, overview, poster" if args.poster else "title, overview",
        "load_average_before": [round(load, 2) for load in load_before],
        "runs": runs,
        "medians": median,
        "ratio": ratio,
        "ratio_target": TARGET,
        **_cpu_bound(one_thread, median),
        "load_average_after": [round(load, 2) for load in os.getloadavg()],
    }
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(
        "medians: "
        + ", ".join(f"{name} {f['items_per_s']:.1f}/s (CPU {f['cpu_utilisation']:.2f})" for name, f in median.items())
        + f"; ratio {ratio:.3f} (target {TARGET}); written to {args.output}"
    )


if __name__ == "__main__":
    main()
