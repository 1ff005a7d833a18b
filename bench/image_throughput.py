"""Poster feature extraction speed: the Keras network against the same network in onnxruntime, and
the whole extraction with poster decoding between batches or overlapped with the network.

    python -m bench.image_throughput [--batch-sizes 8 32] [--repeats 7] [--posters 500]

Times the network alone (no JPEG decoding) on fixed random batches of the chosen backbone's input
size, three ways, interleaved so that load from other processes hits them alike:
  keras            the network as built, `predict_on_batch`
  keras_folded     BatchNorm folded into the convolutions: what the vgg_extract stage runs
  onnxruntime      the as-built network exported to ONNX (needs tf2onnx and onnx; skipped without)
Prints for each the median images/s over the repeats (wall clock) and images per CPU second
(less sensitive to other processes on a shared machine), and the ratios to onnxruntime.
TensorFlow runs with its oneDNN kernels, as the stage does (dvc.yaml sets TF_ENABLE_ONEDNN_OPTS=1;
TensorFlow enables them by itself only on CPUs with VNNI/AMX deep-learning instructions, which this
machine lacks); `TF_ENABLE_ONEDNN_OPTS=0 python -m bench.image_throughput` shows the difference.

`--posters N` (after `dvc repro split_dataset fetch_posters`) then times `extract_features` on the
first N posters of data/posters.zip as the stage runs it, batch size from params.yaml, no feature
cache, two ways interleaved: `serial` decodes and resizes each batch's posters in the main thread
between network calls (one decode worker: the stage before the overlap); `overlapped` has one
decode thread per CPU preparing the next posters while the network runs (the stage now). For each:
the median posters/s and CPU utilisation (process CPU time / wall time, in cores) over the
repeats, and whether the two gave the same features.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Before TensorFlow loads, or it has no effect.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.features.cnn import (
    build_efficientnet_lite0,
    build_vgg16,
    efficientnet_lite0_weights_file,
    feature_extractor,
    fold_batch_norms,
)
from movie_genres.features.poster_features import extract_features
from movie_genres.params import VggExtractParams, load_section, read_params

ONNX_PACKAGES = "tf2onnx==1.17.0 onnx==1.23.2"

Runner = Callable[[np.ndarray], object]  # one batch in, the network's output out


def onnx_runner(model, example: np.ndarray, folder: Path) -> Runner | None:
    """The model exported to ONNX and loaded in onnxruntime, or None when the exporter is missing."""
    try:
        import onnx  # noqa: F401  (the exporter needs both)
        import tf2onnx  # noqa: F401
    except ImportError:
        print(f"onnxruntime comparison skipped: the ONNX export needs `pip install {ONNX_PACKAGES}`")
        return None
    import onnxruntime

    model.predict_on_batch(example)  # Keras exports only a model that has been called
    path = folder / "model.onnx"
    model.export(str(path), format="onnx", verbose=False)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {input_name: batch})


def measure(runners: dict[str, Runner], batch: np.ndarray, repeats: int) -> dict[str, tuple[float, float]]:
    """Median images/s (wall) and images per CPU second of each runner, after one warm-up call each."""
    for run in runners.values():
        run(batch)
    wall: dict[str, list[float]] = {name: [] for name in runners}
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            run(batch)
            wall[name].append(time.perf_counter() - wall_start)
            cpu[name].append(time.process_time() - cpu_start)
    count = len(batch)
    return {name: (count / statistics.median(wall[name]), count / statistics.median(cpu[name])) for name in runners}


def time_extraction(model, params: VggExtractParams, posters: int, repeats: int) -> None:
    """Median posters/s and CPU utilisation of the whole extraction, decoding serial or overlapped."""
    movie_ids = read_table(paths.DATASET)["movie_id"].to_numpy()[:posters]
    ways = {"serial": 1, "overlapped": None}  # decode workers (None: one per CPU, the stage's default)

    def run(workers: int | None) -> tuple[np.ndarray, float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        features, _ = extract_features(
            model, paths.POSTERS, movie_ids, params.image_input, params.batch_size, workers=workers, progress=False
        )
        wall = time.perf_counter() - wall
        return features.matrix, len(features.movie_ids) / wall, (time.process_time() - cpu) / wall

    run(None)  # warm up: trace the network, page the archive in
    rates: dict[str, list[float]] = {name: [] for name in ways}
    usage: dict[str, list[float]] = {name: [] for name in ways}
    matrices = {}
    for repeat in range(repeats):
        for name, workers in ways.items():
            matrices[name], per_s, cores = run(workers)
            rates[name].append(per_s)
            usage[name].append(cores)
            print(f"run {repeat + 1} {name:10s} {per_s:6.1f} posters/s  CPU {cores:.2f} cores", flush=True)
    for name in ways:
        print(
            f"{name:10s} median {statistics.median(rates[name]):6.1f} posters/s, "
            f"CPU utilisation {statistics.median(usage[name]):.2f} cores (of {len(os.sched_getaffinity(0))})"
        )
    same = np.array_equal(matrices["serial"], matrices["overlapped"])
    print(f"{len(movie_ids)} posters, batch size {params.batch_size}; the same features both ways: {same}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--repeats", type=int, default=7, help="timed calls of each runner (median reported)")
    parser.add_argument("--posters", type=int, default=0, help="then time the whole extraction on N posters")
    args = parser.parse_args()
    params = load_section(read_params(), "vgg_extract", VggExtractParams)
    size = params.image_input.image_size
    if params.backbone == "efficientnet_lite0":
        model = feature_extractor(build_efficientnet_lite0(efficientnet_lite0_weights_file(), size))
    else:
        model = build_vgg16(params.vgg16.weights, size)
    folded = fold_batch_norms(model)
    rng = np.random.default_rng(0)
    print(
        f"backbone {params.backbone}, input {size}x{size}, {args.repeats} timed calls per runner and batch size, "
        f"TF_ENABLE_ONEDNN_OPTS={os.environ['TF_ENABLE_ONEDNN_OPTS']}, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as folder:
        ort = onnx_runner(model, np.zeros((1, size, size, 3), np.float32), Path(folder))
        for batch_size in args.batch_sizes:
            batch = rng.normal(size=(batch_size, size, size, 3)).astype(np.float32)
            runners = {"keras": model.predict_on_batch, "keras_folded": folded.predict_on_batch}
            if ort is not None:
                runners["onnxruntime"] = ort
            results = measure(runners, batch, args.repeats)
            for name, (per_s, per_cpu_s) in results.items():
                line = f"batch {batch_size:3d}  {name:13s} {per_s:6.1f} images/s  {per_cpu_s:6.1f} images/CPU-s"
                if "onnxruntime" in results:
                    ort_s, ort_cpu_s = results["onnxruntime"]
                    line += f"  ratio to onnxruntime {per_s / ort_s:.2f} (CPU {per_cpu_s / ort_cpu_s:.2f})"
                print(line, flush=True)
    if args.posters:
        time_extraction(folded, params, args.posters, args.repeats)


if __name__ == "__main__":
    main()
