"""Poster feature extraction speed: the Keras network against the same network in onnxruntime.

    python -m bench.image_throughput [--batch-sizes 8 32] [--repeats 7]

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

from movie_genres.features.cnn import (
    build_efficientnet_lite0,
    build_vgg16,
    efficientnet_lite0_weights_file,
    feature_extractor,
    fold_batch_norms,
)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--repeats", type=int, default=7, help="timed calls of each runner (median reported)")
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


if __name__ == "__main__":
    main()
