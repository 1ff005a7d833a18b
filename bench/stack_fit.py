"""What one stacker fit costs per movie as the training share grows, with one and with two BLAS threads.

Run after `dvc repro` (it reads the out-of-fold scores the `stack` stage reads):
    python -m bench.stack_fit [--rows 10000 20000 40000 80000 160000] [--repeats 3]

The stack's inputs (`stack_details`' models' out-of-fold scores of the training share, ~130 columns)
are repeated to each row count, and one genre's stacker (scaler + L-BFGS logistic regression, the
stage's) is fitted for a fixed 30 iterations (tol 0), so the figure is the cost of an iteration, not
how many the data needs. Prints, per row count and thread count, the median fit time and nanoseconds
per row and iteration. `docs/scaling.md` reads it: why the stage fits with one BLAS thread, and why its
time grew faster than N between 20k and 100k movies (the matrix stops fitting in the processor's
cache) but not beyond.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from movie_genres import paths
from movie_genres.models.predictions import load_predictions
from movie_genres.models.stacking import build_stacker, stacked_inputs
from movie_genres.models.training import labels_of, load_labels
from movie_genres.params import StackParams, load_section, load_seed, read_params

ITERATIONS = 30


def stack_inputs(stack: str) -> tuple[np.ndarray, np.ndarray, StackParams, int]:
    """The named stack's training input (movies x scores) and first genre's labels, as the stage builds them."""
    raw = read_params()
    params = load_section(raw, "stack", StackParams)
    parts = [load_predictions(paths.out_of_fold_file(model)) for model in params.models[stack]]
    ids = parts[0].movie_ids
    dataset, labels, _ = load_labels()
    return stacked_inputs(parts, ids), labels_of(ids, dataset, labels)[:, 0], params, load_seed(raw)


def fit_seconds(x: np.ndarray, y: np.ndarray, C: float, seed: int, threads: int, repeats: int) -> float:
    """Median seconds of a fixed-iteration stacker fit on (x, y) with `threads` BLAS threads."""
    stacker = build_stacker(C, seed).estimator.set_params(
        logisticregression__max_iter=ITERATIONS, logisticregression__tol=0.0
    )
    times = []
    with threadpool_limits(limits=threads, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # stopping at ITERATIONS is the point
        for _ in range(repeats):
            start = time.perf_counter()
            clone(stacker).fit(x, y)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 20_000, 40_000, 80_000, 160_000])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stack", default="stack_details")
    args = parser.parse_args()
    x, y, params, seed = stack_inputs(args.stack)
    print(f"{args.stack}: {x.shape[0]:,} training-share movies x {x.shape[1]} scores, repeated to each row count")
    print(f"one genre's stacker, {ITERATIONS} L-BFGS iterations; median of {args.repeats}")
    print("| rows | " + " | ".join(f"{t} BLAS thread(s): s, ns per row-iteration" for t in args.threads) + " |")
    print("| ---: |" + " ---: |" * len(args.threads))
    for rows in args.rows:
        repeat = np.arange(rows) % len(y)
        cells = []
        for threads in args.threads:
            seconds = fit_seconds(x[repeat], y[repeat], params.C, seed, threads, args.repeats)
            cells.append(f"{seconds:.3f} s, {seconds / ITERATIONS / rows * 1e9:.0f} ns")
        print(f"| {rows:,} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
