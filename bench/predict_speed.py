"""How fast `predict` is: batch throughput per model, and one command's wall time.

Run after `dvc repro` (or `dvc pull`), from the repository root:
    python -m bench.predict_speed [--movies 500] [--repeats 3] [--calls 5] [--one-movie-only]
        [--output bench/results/predict_speed.json]
The movies are the first test movies of data/dataset.parquet (title, overview, details) with their
posters from data/posters.zip, written as a JSON Lines file. Prints, as medians:
- batch, end to end: `python -m movie_genres.predict --input movies.jsonl --output preds.jsonl --model M`,
  start-up and loading included, in movies per second (of `--repeats` runs);
- batch, warm: `Predictor.predict_many` on all the movies with the models already loaded;
- one movie: the wall time of one `python -m movie_genres.predict` call (of `--calls` calls), per
  model on the numpy engine (one movie's default), the defaults on tensorflow too, and the load
  average when the calls began and ended (the machine may be shared).
Writes the same figures to bench/results/predict_speed.json (`--output`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from bench.run_context import ROOT, run_context
from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.data.posters import entry_name

BATCH_MODELS = {"text": ["nb", "minilm_mlp", "details_logreg"], "poster": ["poster_mlp", "stack_details"]}
ONE_MOVIE = {
    "nb": ["--overview"],
    "svm": ["--overview"],
    "default, overview only": ["--overview"],
    "default, overview and poster": ["--overview", "--poster"],
    "minilm_mlp": ["--overview"],
    "details_logreg": ["--overview", "--details"],
    "stack_details": ["--overview", "--details", "--poster"],
}


def write_movies(folder: Path, count: int, test_only: bool = True) -> list[dict]:
    """The first `count` test movies (or movies of any subset) as input rows, posters extracted beside them."""
    dataset = read_table(paths.DATASET)
    test = (dataset[dataset["subset"] == "test"] if test_only else dataset).head(count)
    rows = []
    with zipfile.ZipFile(paths.POSTERS) as archive:
        for movie in test.itertuples():
            poster = folder / entry_name(movie.movie_id)
            poster.write_bytes(archive.read(entry_name(movie.movie_id)))
            runtime = float(movie.runtime) if movie.runtime > 0 else None  # TMDB's 0 and NaN: unknown
            rows.append(
                {
                    "id": int(movie.movie_id),
                    "title": movie.title,
                    "overview": movie.overview,
                    "tagline": movie.tagline,
                    "keywords": list(movie.keywords),
                    "companies": list(movie.companies),
                    "runtime": runtime,
                    "release_date": movie.release_date,
                    "poster": poster.name,
                }
            )
    without_posters = [{k: v for k, v in row.items() if k != "poster"} for row in rows]
    for name, table in (("movies.jsonl", rows), ("movies_text.jsonl", without_posters)):
        (folder / name).write_text("".join(json.dumps(row) + "\n" for row in table))
    return rows


def seconds(run: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    return statistics.median(seconds(run, repeats))


def command(*args: str) -> Callable[[], None]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, ["src", os.environ.get("PYTHONPATH")]))}

    def run() -> None:
        done = subprocess.run([sys.executable, "-m", "movie_genres.predict", *args], env=env, capture_output=True)
        if done.returncode != 0:
            raise SystemExit(f"predict {' '.join(args)} failed:\n{done.stderr.decode()}")

    return run


def one_movie_args(row: dict, folder: Path, wanted: list[str]) -> list[str]:
    args = ["--title", row["title"]]
    if "--overview" in wanted:
        args += ["--overview", row["overview"]]
    if "--details" in wanted:
        details = {
            "--tagline": row["tagline"],
            "--keywords": ",".join(row["keywords"]),
            "--companies": ",".join(row["companies"]),
            "--release-date": row["release_date"],
            "--runtime": row["runtime"] and str(row["runtime"]),
        }
        args += [part for flag, value in details.items() if value for part in (flag, value)]
    if "--poster" in wanted:
        args += ["--poster", str(folder / row["poster"])]
    return args


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` shows them."""
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def batch_speed(folder: Path, n: int, repeats: int) -> list[dict]:
    from movie_genres.predict.api import Predictor
    from movie_genres.predict.movie import movie_from_mapping

    print(f"{n} test movies, medians of {repeats} runs, {os.cpu_count()} CPUs\n")
    print(f"{'batch':<8} {'model':<16} {'end to end (CLI)':>22} {'warm predict_many':>22}")
    figures = []
    for kind, models in BATCH_MODELS.items():
        source = folder / ("movies.jsonl" if kind == "poster" else "movies_text.jsonl")
        movies = [movie_from_mapping(row, folder) for row in (json.loads(line) for line in source.open())]
        for model in models:
            cli = median_seconds(
                command("--input", str(source), "--output", str(folder / "preds.jsonl"), "--model", model), repeats
            )
            predictor = Predictor()
            predictor.predict_many(movies[:1], model)  # loads the model and its featurizers
            warm = median_seconds(lambda p=predictor, m=model, movies=movies: p.predict_many(movies, m), repeats)
            print(
                f"{kind:<8} {model:<16} {n / cli:>10.1f} movies/s ({cli:5.1f} s) "
                f"{n / warm:>10.1f} movies/s ({warm:5.1f} s)"
            )
            figures.append({"inputs": kind, "model": model, "end_to_end_s": round(cli, 2), "warm_s": round(warm, 3)})
    return figures


def one_movie_speed(folder: Path, row: dict, calls: int) -> list[dict]:
    """One call's wall time per model (or default), median and range of `calls` calls: on the default
    engine of one movie (numpy), and the defaults on tensorflow as well, for the ratio of the two."""
    print(f"\none movie, {os.cpu_count()} CPUs: wall time of one call, median (min-max) of {calls} calls")
    figures = []
    runs = [(label, wanted, "numpy") for label, wanted in ONE_MOVIE.items()]
    runs += [(label, wanted, "tensorflow") for label, wanted in ONE_MOVIE.items() if label.startswith("default")]
    for label, wanted, engine in runs:
        model_args = [] if label.startswith("default") else ["--model", label]
        times = seconds(command(*one_movie_args(row, folder, wanted), *model_args, "--engine", engine), calls)
        spread = f"{statistics.median(times):.1f} s ({min(times):.1f}-{max(times):.1f})"
        print(f"{label + ' (' + ', '.join(w[2:] for w in wanted) + '), ' + engine:<48} {spread:>22}")
        median = round(statistics.median(times), 2)
        figure = {"model": label, "inputs": [w[2:] for w in wanted], "engine": engine}
        figures.append({**figure, "seconds": [round(t, 2) for t in times], "median_s": median})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--movies", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each batch measurement")
    parser.add_argument("--calls", type=int, default=5, help="calls of each one-movie command")
    parser.add_argument("--one-movie-only", action="store_true", help="skip the batch measurements")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "predict_speed.json")
    args = parser.parse_args()

    document = run_context("bench.predict_speed")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = write_movies(folder, args.movies)
        document["movies"] = len(rows)
        if not args.one_movie_only:
            document["batch"] = batch_speed(folder, len(rows), args.repeats)
        print(f"load average at the start: {load_average()}")
        document["one_movie"] = one_movie_speed(folder, rows[0], args.calls)
        print(f"load average at the end: {load_average()}")
    document["load_average_after"] = [round(load, 2) for load in os.getloadavg()]
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
