"""Scale benchmark: every compute stage on a TMDB-shaped catalogue of N movies; time and memory per stage.

    python -m bench.scale --sizes 5000 20000 [--project-to 100000] [--set SECTION.KEY=VALUE ...]
                          [--stages REGEX] [--workdir DIR] [--output bench/results/scale.json]

For each N, a scratch copy of the project (the files a clone has, this working tree's code) gets a
synthetic `data/bundled/` of N movies, and every stage of dvc.yaml (fetch_list with `source: bundled`
through evaluate and report) runs there as its own process, with the command dvc.yaml gives it, in
dvc.yaml's order. Per stage it records wall time, CPU time, the peak RSS of the stage's largest
process (`os.wait4`'s ru_maxrss: exact) and the peak of the summed RSS of the stage's process tree
(sampled every 0.2 s with psutil: it counts joblib's worker processes too). It prints a table N x
stage, the growth exponent of the time between consecutive sizes, log(t2/t1) / log(N2/N1), and
the projection to `--project-to` movies; stages above the targets (time exponent > 1.15, projected
peak RSS > 8 GiB) are flagged. Figures go to `--output` as JSON, merged with the sizes and stages
already there (a later run of one size or one stage replaces only those figures).

DVC's own work (hashing dependencies and outputs, caching them) is not timed: the stage commands run
directly, so the figures are the pipeline's code alone. `--set` changes params.yaml in the scratch
copies only (e.g. point a feature cache at an empty folder, so a timed run computes everything).

How the catalogue is made, and why it is representative. Each synthetic movie copies one of the
bundled movies that the pipeline models (overview, genre, poster: 4,748 of them), each used about
N / 4,748 times, with:
- a new unique TMDB-like id (drawn from 1 .. 2,000,000 without repeats; TMDB's ids reach ~1.4M);
- its overview with the sentence order shuffled and about 1 word in 20 dropped (at least one), never
  the same text twice for one source movie: every text is distinct, as on TMDB, with the bundled
  texts' vocabulary and length distribution (so the tokenizer, vocabulary sizes, TF-IDF density and
  MiniLM's padded batch lengths behave as on real overviews);
- its poster cropped by 0-4 pixels on each side and re-encoded as JPEG at quality 80-90, a different
  crop and quality for every copy of one source: every poster has different bytes, and every one is
  decoded, resized and run through the CNN, at the bundled posters' size (~154x231) and file size;
- its title, genres, release date, popularity and details (tagline, keywords, companies, runtime)
  copied: the label distribution and the sparsity of the detail features stay those of real movies.
Copies of one source are never on both sides of a split the pipeline fits on one side of and scores on
the other: the catalogue is laid out with the pipeline's own seeded cuts (`pipeline_groups`): the
train / val / test split, the out-of-fold folds of the training share, and the linear models'
cross-validation folds; all copies of one source land in one group of movies that every such cut keeps
together. Without that, a validation or test movie would be a near-copy of training movies: the models
would memorise (test micro-F1 0.99 at 20k), and early stopping would run 4-7 times as many epochs as
on distinct movies; and a held-out fold would be a near-copy of the folds fitted: at 20k the details
model's out-of-fold micro-F1 came out 0.998 (test 0.61), its grid search chose C = 100 (1 on the
real data), whose liblinear fits are the slowest, and the stacks were fitted on near-perfect inputs;
their times grew as N^1.2-1.6, an artefact. What stays unrepresentative: the training movies are
~N / 4,748 near-copies of fewer distinct ones; a real catalogue's vocabulary keeps growing with N
(real TF-IDF matrices get somewhat wider); and TMDB's long tail has more documentaries and TV movies
than the 5,000 best-known movies. These change constants, not which stage grows faster than linearly.
"""

from __future__ import annotations

import argparse
import datetime
import io
import itertools
import json
import math
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import yaml
from PIL import Image
from sklearn.model_selection import KFold

from movie_genres import paths
from movie_genres.data.bundled import read_bundled_movies
from movie_genres.data.contract import record_checksum
from movie_genres.data.dataset import assign_subsets, normalise_movies
from movie_genres.models.linear import cv_sample
from movie_genres.models.out_of_fold import fold_rows
from movie_genres.params import (
    LinearModelParams,
    OutOfFoldParams,
    SplitParams,
    load_section,
    load_seed,
    read_params,
)
from tests.dvc_repo import copy_repository, git, set_params

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "scale.json"
# What a scratch copy leaves out of the project: it gets its own catalogue, and runs no tests or benchmarks.
COPY_SKIPS = (f"{paths.BUNDLED_CSV.parent}/", "tests/", "docs/", "bench/")
ID_SPACE = 2_000_000  # new ids are drawn from 1 .. ID_SPACE (TMDB's reach ~1.4M)
WORD_DROP_SHARE = 0.05
MAX_CROP_PX = 4
JPEG_QUALITIES = range(80, 91)
EXPONENT_TARGET = 1.15
RSS_TARGET_BYTES = 8 * 1024**3
RSS_SAMPLE_S = 0.2
MIB = 1024**2
# The stages with a feature cache, and what reruns them on a catalogue with movies added.
FEATURE_STAGES = ("vgg_extract", "embed_text")
INCREMENTAL_STAGES = re.compile(f"^({'|'.join(('fetch_list', 'fetch_posters', 'split_dataset', *FEATURE_STAGES))})$")

SOURCES_FILE = "sources.csv"  # beside the catalogue's movies.csv: each movie's source movie (--prefill-features)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# --- The synthetic catalogue ------------------------------------------------------------------------


def modelled_sources(csv_path: Path, poster_dir: Path) -> pd.DataFrame:
    """The bundled table's rows that the pipeline models: kept by fetch_list and with a poster."""
    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    raw, _ = read_bundled_movies(csv_path)
    movies, _ = normalise_movies(raw, max_movies=None)
    kept = set(movies["movie_id"].tolist())
    has_poster = table["id"].map(lambda movie_id: (poster_dir / f"{movie_id}.jpg").is_file())
    return table[table["id"].astype(int).isin(kept) & has_poster].reset_index(drop=True)


def perturb_overview(text: str, rng: np.random.Generator) -> str:
    """The sentences in a shuffled order, each word dropped with probability 1/20 (at least one dropped)."""
    sentences = _SENTENCE_END.split(text.strip())
    words = " ".join(sentences[i] for i in rng.permutation(len(sentences))).split()
    if len(words) < 2:
        return " ".join(words)
    dropped = rng.random(len(words)) < WORD_DROP_SHARE
    if not dropped.any():
        dropped[rng.integers(len(words))] = True
    return " ".join(word for word, drop in zip(words, dropped) if not drop)


def distinct_overview(text: str, seen: set[str], rng: np.random.Generator, tries: int = 100) -> str:
    """A perturbed overview that is not in `seen` (the source's earlier copies); added to `seen`."""
    for _ in range(tries):
        candidate = perturb_overview(text, rng)
        if candidate not in seen:
            break
    seen.add(candidate)  # after `tries` failures (a one-word text) a repeat is accepted
    return candidate


def poster_variant(copy: int, source_id: int, seed: int) -> tuple[tuple[int, int, int, int], int]:
    """Copy number `copy` of a source's poster: a crop (left, top, right, bottom in pixels) and a JPEG
    quality; distinct for the first 5**4 * 11 copies of each source."""
    variants = len(JPEG_QUALITIES) * (MAX_CROP_PX + 1) ** 4
    index = int(np.random.default_rng([seed, source_id]).permutation(variants)[copy % variants])
    index, quality = divmod(index, len(JPEG_QUALITIES))
    crop = []
    for _ in range(4):
        index, pixels = divmod(index, MAX_CROP_PX + 1)
        crop.append(pixels)
    return (crop[0], crop[1], crop[2], crop[3]), JPEG_QUALITIES[quality]


def perturb_poster(data: bytes, crop: tuple[int, int, int, int], quality: int) -> bytes:
    """The poster with `crop` pixels cut from its left, top, right and bottom, re-encoded as JPEG."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        left, top, right, bottom = crop
        cropped = image.convert("RGB").crop((left, top, width - right, height - bottom))
    out = io.BytesIO()
    cropped.save(out, format="JPEG", quality=quality)
    return out.getvalue()


@dataclass(frozen=True)
class PipelineCuts:
    """What decides which movies the pipeline fits on and which it scores, all cut with its seed: the
    split, the out-of-fold folds of the training share, and the grid search's folds of the training
    movies (or of its sample of them, see `models.linear.cv_sample`; train_details_logreg's settings)."""

    split: SplitParams
    seed: int
    out_of_fold_folds: int
    cv_folds: int
    cv_max_movies: int | None

    @classmethod
    def of(cls, raw: dict) -> PipelineCuts:
        grid = load_section(raw, "train_details_logreg", LinearModelParams)
        return cls(
            load_section(raw, "split", SplitParams),
            load_seed(raw),
            load_section(raw, "out_of_fold", OutOfFoldParams).folds,
            grid.cv_folds,
            grid.cv_max_movies,
        )


def pipeline_subsets(ids: np.ndarray, split: SplitParams, split_seed: int) -> np.ndarray:
    """The subset (train, val, test) split_dataset will give each movie: its seeded split of the movies
    sorted by id (every synthetic movie has an overview, a genre and a poster, so all are modelled)."""
    order = np.argsort(ids, kind="stable")
    subsets = np.empty(len(ids), dtype=object)
    subsets[order] = assign_subsets(ids[order], split.test_size, split.val_size, split_seed)
    return subsets


def pipeline_groups(ids: np.ndarray, cuts: PipelineCuts) -> np.ndarray:
    """Per movie, the movies every cut of the pipeline keeps on its side: its subset, then for a movie of
    the training share (train, then val, each by id, as models.training orders it) its out-of-fold fold,
    then for a training movie in the grid search's rows its cross-validation fold ("train/oof2/cv4")."""
    subsets = pipeline_subsets(ids, cuts.split, cuts.seed)
    order = np.argsort(ids, kind="stable")
    train, val = order[subsets[order] == "train"], order[subsets[order] == "val"]
    groups = subsets.copy()
    share = np.concatenate([train, val])
    for fold, (_, held_out) in enumerate(fold_rows(len(share), cuts.out_of_fold_folds, cuts.seed)):
        groups[share[held_out]] = [f"{subsets[i]}/oof{fold}" for i in share[held_out]]
    sample = cv_sample(len(train), cuts.cv_max_movies, cuts.seed)
    searched = train if sample is None else train[sample]
    grid_folds = KFold(n_splits=cuts.cv_folds, shuffle=True, random_state=cuts.seed).split(np.zeros((len(searched), 1)))
    for fold, (_, held_out) in enumerate(grid_folds):
        groups[searched[held_out]] = [f"{groups[i]}/cv{fold}" for i in searched[held_out]]
    return groups


def assign_sources(groups: np.ndarray, n_sources: int, seed: int) -> np.ndarray:
    """Which source each movie copies. The sources are dealt to the groups in proportion to their sizes,
    and each group cycles through seeded permutations of its own sources: no source has copies in two
    groups, so no movie the pipeline scores is a near-copy of one it fitted on."""
    rng = np.random.default_rng([seed, 1])
    names = sorted(set(groups.tolist()))
    sizes = np.array([(groups == name).sum() for name in names])
    if len(names) > n_sources:
        raise ValueError(f"{len(names)} groups of movies need as many sources; there are {n_sources}")
    shares = np.maximum(1, np.floor(n_sources * sizes / sizes.sum())).astype(int)
    shares[np.argmax(shares)] += n_sources - shares.sum()
    pools = np.split(rng.permutation(n_sources), np.cumsum(shares)[:-1])
    sources = np.empty(len(groups), dtype=np.int64)
    for name, pool in zip(names, pools):
        rows = np.flatnonzero(groups == name)
        cycles = math.ceil(len(rows) / len(pool))
        sources[rows] = np.concatenate([rng.permutation(pool) for _ in range(cycles)])[: len(rows)]
    return sources


def build_catalogue(
    sources: pd.DataFrame, poster_dir: Path, n: int, seed: int, cuts: PipelineCuts, out_dir: Path
) -> None:
    """`out_dir/movies.csv` and `out_dir/posters/<id>.jpg`: `n` movies in the bundled table's format,
    laid out for the pipeline's `cuts` (see `assign_sources`)."""
    ids = np.random.default_rng([seed, 2]).choice(ID_SPACE, size=n, replace=False) + 1
    order = assign_sources(pipeline_groups(ids, cuts), len(sources), seed)
    rng = np.random.default_rng([seed, 3])
    seen: dict[int, set[str]] = {}
    copies: dict[int, int] = {}
    (out_dir / "posters").mkdir(parents=True, exist_ok=True)
    overviews = []
    for new_id, source in zip(ids.tolist(), order.tolist()):
        row = sources.iloc[source]
        source_id = int(row["id"])
        overviews.append(distinct_overview(row["overview"], seen.setdefault(source, set()), rng))
        copy = copies[source] = copies.get(source, -1) + 1
        poster = (poster_dir / f"{source_id}.jpg").read_bytes()
        (out_dir / "posters" / f"{new_id}.jpg").write_bytes(
            perturb_poster(poster, *poster_variant(copy, source_id, seed))
        )
    table = sources.iloc[order].assign(id=ids, overview=overviews)
    table.to_csv(out_dir / "movies.csv", index=False)
    record_checksum(out_dir / "movies.csv")  # fetch_list reads only a table whose checksum is recorded
    pd.DataFrame({"id": ids, "source_id": table.index.map(lambda i: int(sources.at[i, "id"]))}).to_csv(
        out_dir / SOURCES_FILE, index=False
    )


# --- Running and measuring the stages ---------------------------------------------------------------


@dataclass
class StageRun:
    wall_s: float
    cpu_s: float  # user + system, the stage's processes together
    peak_rss_mib: float  # the largest process of the stage (ru_maxrss)
    peak_tree_rss_mib: float  # the stage's processes summed, sampled every RSS_SAMPLE_S


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:  # ended between the listing and the reading
            continue
    return total


# Runs one stage and writes its CPU seconds and peak RSS (KiB) to argv[1]. Linux counts the memory a
# process had before it exec'd into its peak RSS (ru_maxrss), so a stage forked straight from the
# benchmark (hundreds of MiB once the catalogue is built) would report at least that much; forked from
# this launcher, a few MiB.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(argv: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> StageRun:
    """Run one stage command as a fresh process; its wall time, CPU time and peak RSS."""
    peak_tree = 0
    usage_path = log_path.with_suffix(".usage")
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        launched = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(usage_path), *argv]
        child = subprocess.Popen(launched, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_tree
            process = psutil.Process(child.pid)
            while not done.wait(RSS_SAMPLE_S):
                try:
                    peak_tree = max(peak_tree, _tree_rss(process))
                except psutil.Error:
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        child.wait()
        done.set()
        sampler.join()
    wall = time.perf_counter() - start
    if child.returncode != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{shlex.join(argv)} failed (exit {child.returncode}); end of {log_path}:\n{tail}")
    cpu_s, peak_kib = usage_path.read_text().split()
    peak = int(peak_kib) * 1024  # KiB on Linux
    return StageRun(round(wall, 2), round(float(cpu_s), 2), round(peak / MIB, 1), round(max(peak, peak_tree) / MIB, 1))


def stage_commands(repo: Path) -> list[tuple[str, list[str]]]:
    """Every stage of the copy's dvc.yaml, in file order (a dependency order), with its resolved command."""
    from dvc.repo import Repo

    with Repo(str(repo)) as dvc_repo:
        stages = [(stage.name, shlex.split(stage.cmd)) for stage in dvc_repo.index.stages]
    return [(name, [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]) for name, argv in stages]


def prepare_copy(repo: Path, n: int, seed: int, overrides: dict[tuple[str, ...], object]) -> float:
    """The project's files (this working tree's code and params) in `repo` with an `n`-movie catalogue.

    A catalogue already there for the same `n`, seed and split is kept; returns the seconds spent building it.
    """
    for name in ("src", "stages", ".dvc"):
        shutil.rmtree(repo / name, ignore_errors=True)
    copy_repository(ROOT, repo, skip=COPY_SKIPS)
    (repo / ".dvc" / "config.local").write_text("[core]\n    no_scm = true\n")  # no git in the copy
    set_params(repo, overrides)
    raw = read_params(repo / "params.yaml")
    cuts = PipelineCuts.of(raw)
    bundled = repo / paths.BUNDLED_CSV.parent
    stamp = bundled / "catalogue.json"
    wanted = {"movies": n, "seed": seed, "cuts": repr(cuts)}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return 0.0
    shutil.rmtree(bundled, ignore_errors=True)
    start = time.perf_counter()
    sources = modelled_sources(ROOT / paths.BUNDLED_CSV, ROOT / paths.BUNDLED_POSTERS)
    build_catalogue(sources, ROOT / paths.BUNDLED_POSTERS, n, seed, cuts, bundled)
    stamp.write_text(json.dumps(wanted))
    return time.perf_counter() - start


def extend_catalogue(repo: Path, sources: pd.DataFrame, poster_dir: Path, added: int, seed: int) -> int:
    """`added` more movies appended to the copy's catalogue (new ids, the same kind of copies of
    `sources`, drawn with another seed); the movies already there keep their rows and poster bytes.
    Returns the new count."""
    raw = read_params(repo / "params.yaml")
    bundled = repo / paths.BUNDLED_CSV.parent
    table = pd.read_csv(bundled / "movies.csv")
    with tempfile.TemporaryDirectory() as scratch:
        build_catalogue(sources, poster_dir, added, seed + 1, PipelineCuts.of(raw), Path(scratch))
        extra = pd.read_csv(Path(scratch) / "movies.csv")
        extra = extra[~extra["id"].isin(table["id"])]
        for movie_id in extra["id"]:
            shutil.move(Path(scratch) / "posters" / f"{movie_id}.jpg", bundled / "posters" / f"{movie_id}.jpg")
        extra_sources = pd.read_csv(Path(scratch) / SOURCES_FILE)
        extra_sources = extra_sources[extra_sources["id"].isin(extra["id"])]
    pd.concat([table, extra]).to_csv(bundled / "movies.csv", index=False)
    record_checksum(bundled / "movies.csv")
    pd.concat([pd.read_csv(bundled / SOURCES_FILE), extra_sources]).to_csv(bundled / SOURCES_FILE, index=False)
    (bundled / "catalogue.json").unlink()  # no longer the catalogue of its stamp: rebuilt on the next run
    return len(table) + len(extra)


def prefill_feature_cache(repo: Path, stage: str) -> int:
    """Fill the copy's feature cache for `stage` (vgg_extract or embed_text) with each movie's source
    movie's vector from this project's own feature file (the bundled run's): the stage then reads
    every vector from the cache and runs no network. For measuring memory at sizes where computing
    every feature would take hours: what grows with N (the cache reads, the output matrix) is all
    there; the network's batches, which do not grow, are not. Returns the number of entries written."""
    from movie_genres.data.dataset import read_table
    from movie_genres.data.posters import PosterArchive
    from movie_genres.features.cnn import build_backbone
    from movie_genres.features.feature_cache import FeatureCache, content_key
    from movie_genres.features.poster_features import poster_fingerprint
    from movie_genres.features.sentence_encoder import SentenceEncoder, find_model_dir, movie_texts
    from movie_genres.features.store import load_features
    from movie_genres.params import EmbedTextParams, FeatureCacheParams, VggExtractParams

    raw = read_params(repo / "params.yaml")
    cache_dir = load_section(raw, "feature_cache", FeatureCacheParams).dir
    if cache_dir is None:
        raise ValueError("--prefill-features needs feature_cache.dir")
    dataset = read_table(repo / paths.DATASET)
    sources = pd.read_csv(repo / paths.BUNDLED_CSV.parent / SOURCES_FILE)
    source_of = dict(zip(sources["id"].tolist(), sources["source_id"].tolist(), strict=True))
    ids = dataset["movie_id"].tolist()
    if stage == "vgg_extract":
        poster_params = load_section(raw, "vgg_extract", VggExtractParams)
        model = build_backbone(poster_params)
        fingerprint = poster_fingerprint(model, poster_params)
        cache = FeatureCache(repo / cache_dir, paths.POSTER_FEATURES.stem, fingerprint, model.output_shape[-1])
        vectors = load_features(ROOT / paths.POSTER_FEATURES)
        with PosterArchive(repo / paths.POSTERS) as archive:
            keys = [_poster_key(archive, movie_id) for movie_id in ids]
    else:
        text_params = load_section(raw, "embed_text", EmbedTextParams)
        encoder = SentenceEncoder(find_model_dir(text_params.model_dir), text_params.batch_size)
        cache = FeatureCache(repo / cache_dir, paths.TEXT_MINILM.stem, encoder.fingerprint(), encoder.dimension)
        vectors = load_features(ROOT / paths.TEXT_MINILM)
        keys = [content_key(text.encode()) for text in movie_texts(dataset, text_params.text)]
    row = {movie_id: i for i, movie_id in enumerate(vectors.movie_ids.tolist())}
    entries = [
        (key, row[source_of[movie_id]]) for movie_id, key in zip(ids, keys) if key and source_of[movie_id] in row
    ]
    for start in range(0, len(entries), 10_000):
        chunk = entries[start : start + 10_000]
        cache.store([key for key, _ in chunk], np.asarray(vectors.matrix)[[i for _, i in chunk]])
    return len(entries)


def _poster_key(archive: Any, movie_id: int) -> str | None:
    from movie_genres.features.feature_cache import content_key

    try:
        return content_key(archive.read(movie_id))
    except KeyError:  # no poster: the stage records it
        return None


def run_stages(repo: Path, only: re.Pattern, prefill: bool = False) -> dict[str, dict]:
    """The stages of the copy whose name `only` matches, in order, each measured; figures per stage.
    With `prefill`, the feature stages find their vectors in the cache (`prefill_feature_cache`)."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(repo / "src"),
    }
    (repo / "logs").mkdir(exist_ok=True)
    stages: dict[str, dict] = {}
    for name, argv in stage_commands(repo):
        if not only.search(name):
            continue
        if prefill and name in FEATURE_STAGES:
            print(f"  {name}: {prefill_feature_cache(repo, name):,} vectors put in the cache", flush=True)
        result = run_measured(argv, repo, env, repo / "logs" / f"{name.replace('@', '_')}.log")
        stages[name] = asdict(result)
        print(
            f"  {name:28} {result.wall_s:8.1f} s  cpu {result.cpu_s:8.1f} s  "
            f"peak {result.peak_rss_mib:7.0f} MiB  tree {result.peak_tree_rss_mib:7.0f} MiB",
            flush=True,
        )
    return stages


def empty_feature_cache(repo: Path) -> None:
    """Delete the copy's feature cache, so that a timed run computes every feature."""
    folder = read_params(repo / "params.yaml").get("feature_cache", {}).get("dir")
    if folder is not None:
        shutil.rmtree(repo / folder, ignore_errors=True)


def run_size(
    repo: Path,
    n: int,
    seed: int,
    overrides: dict[tuple[str, ...], object],
    only: re.Pattern,
    added: int,
    prefill: bool = False,
) -> dict:
    """Every selected stage on an `n`-movie catalogue in `repo`, the feature cache empty (or prefilled);
    figures per stage. With `added`, then `added` more movies and the feature stages again, on the
    cache that run left."""
    print(f"\n== N = {n:,}: building the catalogue in {repo}", flush=True)
    built_s = prepare_copy(repo, n, seed, overrides)
    print(f"  catalogue built in {built_s:.0f} s" if built_s else "  catalogue kept from an earlier run", flush=True)
    empty_feature_cache(repo)
    load_before = os.getloadavg()[0]
    stages = run_stages(repo, only, prefill)
    modelled = (
        len(pd.read_parquet(repo / paths.DATASET, columns=["movie_id"])) if (repo / paths.DATASET).is_file() else None
    )
    result: dict[str, object] = {
        "movies": n,
        "modelled": modelled,
        "catalogue_build_s": round(built_s, 1),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "feature_cache": "prefilled with the source movies' vectors" if prefill else "empty",
        "stages": stages,
    }
    if added:
        sources = modelled_sources(ROOT / paths.BUNDLED_CSV, ROOT / paths.BUNDLED_POSTERS)
        total = extend_catalogue(repo, sources, ROOT / paths.BUNDLED_POSTERS, added, seed)
        print(f"  + {total - n:,} movies, the feature stages again on the cache of the run above:", flush=True)
        result["incremental"] = {"movies": total, "stages": run_stages(repo, INCREMENTAL_STAGES)}
    return result


def incremental_share(size: dict) -> float | None:
    """The rerun's time of the feature stages (CNN, MiniLM) after movies were added, as a share of
    their time in the full run (wall time); None without an incremental run."""
    if "incremental" not in size:
        return None
    rerun = size["incremental"]["stages"]
    names = [name for name in FEATURE_STAGES if name in rerun and name in size["stages"]]
    full = sum(size["stages"][name]["wall_s"] for name in names)
    return sum(rerun[name]["wall_s"] for name in names) / full if full else None


# --- Growth and projection --------------------------------------------------------------------------


def growth_exponent(n1: int, v1: float, n2: int, v2: float) -> float:
    """b in v ~ N^b through two sizes."""
    return math.log(v2 / v1) / math.log(n2 / n1)


def project(n1: int, v1: float, n2: int, v2: float, n: int) -> float:
    """A figure at `n` from two sizes: the larger of the power law and the straight line through them.

    A fixed start-up cost (TensorFlow's import, loading a model) makes the measured exponent less
    than 1 and the power law too optimistic; the line is then the better guess. Above 1 the power law
    is the larger. Never less than the larger measured figure.
    """
    power = v2 * (n / n2) ** growth_exponent(n1, v1, n2, v2)
    line = v2 + (v2 - v1) / (n2 - n1) * (n - n2)
    return max(power, line, v2)


@dataclass
class Projection:
    stage: str
    wall_exponent: float  # of the wall time, between the two largest sizes
    cpu_exponent: float  # of the CPU time (less sensitive to other jobs on a shared machine)
    wall_s: float
    cpu_s: float
    peak_rss_mib: float  # of the stage's process tree
    flags: list[str]


def projections(results: dict[int, dict], n: int) -> list[Projection]:
    """Each stage's time and peak RSS at `n`, from the two largest sizes that ran it, and what is over target."""
    out = []
    for stage in _stage_names(results):
        sizes = sorted(m for m, size in results.items() if stage in size["stages"])
        if len(sizes) < 2:
            continue
        (n1, a), (n2, b) = [(m, results[m]["stages"][stage]) for m in sizes[-2:]]
        exponent = {key: growth_exponent(n1, a[key], n2, b[key]) for key in ("wall_s", "cpu_s")}
        rss = project(n1, a["peak_tree_rss_mib"], n2, b["peak_tree_rss_mib"], n)
        flags = [
            f"{key[:-2]} time exponent {value:.2f} > {EXPONENT_TARGET}"
            for key, value in exponent.items()
            if value > EXPONENT_TARGET
        ]
        if rss * MIB > RSS_TARGET_BYTES:
            flags.append(f"projected RSS {rss / 1024:.1f} GiB > {RSS_TARGET_BYTES / 1024**3:.0f} GiB")
        out.append(
            Projection(
                stage,
                round(exponent["wall_s"], 2),
                round(exponent["cpu_s"], 2),
                round(project(n1, a["wall_s"], n2, b["wall_s"], n), 1),
                round(project(n1, a["cpu_s"], n2, b["cpu_s"], n), 1),
                round(rss, 1),
                flags,
            )
        )
    return out


def _stage_names(results: dict[int, dict]) -> list[str]:
    return list(dict.fromkeys(name for n in sorted(results) for name in results[n]["stages"]))


def exponents(results: dict[int, dict]) -> dict[str, dict[str, dict[str, float]]]:
    """Per stage and pair of consecutive sizes ("5000-20000"), the exponent of the wall and of the CPU time."""
    table: dict[str, dict[str, dict[str, float]]] = {}
    for n1, n2 in itertools.pairwise(sorted(results)):
        for stage, b in results[n2]["stages"].items():
            a = results[n1]["stages"].get(stage)
            if a is not None:
                table.setdefault(stage, {})[f"{n1}-{n2}"] = {
                    key[:-2]: round(growth_exponent(n1, a[key], n2, b[key]), 2) for key in ("wall_s", "cpu_s")
                }
    return table


def format_table(results: dict[int, dict], n_project: int) -> str:
    """The N x stage table (wall time, CPU time, peak RSS), the exponents between consecutive sizes
    (wall / CPU), and the projection to `n_project` movies with what is over target."""
    sizes = sorted(results)
    growth = exponents(results)
    pairs = [f"{n1}-{n2}" for n1, n2 in itertools.pairwise(sizes)]
    projected = {p.stage: p for p in projections(results, n_project)}
    header = ["stage", *(f"N={n:,}: wall (CPU), peak RSS" for n in sizes), *(f"b {pair}: wall / CPU" for pair in pairs)]
    header += [f"N={n_project:,} projected", "over target"]
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 2) + " --- |"]
    for stage in _stage_names(results):
        cells = [stage]
        for n in sizes:
            run = results[n]["stages"].get(stage)
            cells.append(
                f"{run['wall_s']:,.1f} s ({run['cpu_s']:,.1f} s), {run['peak_tree_rss_mib']:,.0f} MiB" if run else ""
            )
        for pair in pairs:
            b = growth.get(stage, {}).get(pair)
            cells.append(f"{b['wall']:.2f} / {b['cpu']:.2f}" if b else "")
        p = projected.get(stage)
        cells += [f"{p.wall_s:,.0f} s, {p.peak_rss_mib:,.0f} MiB", "; ".join(p.flags)] if p else ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    totals = ["total"]
    for n in sizes:
        runs = results[n]["stages"].values()
        totals.append(f"{sum(r['wall_s'] for r in runs):,.0f} s ({sum(r['cpu_s'] for r in runs):,.0f} s)")
    total_projected = sum(p.wall_s for p in projected.values())
    totals += [""] * len(pairs) + [f"{total_projected:,.0f} s" if projected else "", ""]
    lines.append("| " + " | ".join(totals) + " |")
    return "\n".join(lines)


# --- The command ------------------------------------------------------------------------------------


def parse_override(text: str) -> tuple[tuple[str, ...], object]:
    key, _, value = text.partition("=")
    if not key or not _:
        raise argparse.ArgumentTypeError(f"--set {text!r}: expected SECTION.KEY=VALUE")
    return tuple(key.split(".")), yaml.safe_load(value)


def merged(output: Path, measured: dict[int, dict]) -> dict[int, dict]:
    """The figures already in `output` with the new ones on top (per size, per stage)."""
    results = {int(n): size for n, size in json.loads(output.read_text())["sizes"].items()} if output.is_file() else {}
    for n, size in measured.items():
        stages = {**results.get(n, {}).get("stages", {}), **size["stages"]}
        results[n] = {**results.get(n, {}), **size, "stages": stages}  # an earlier incremental run stays
    return results


def source_revision(root: Path = ROOT) -> str:
    """The commit of the working tree the scratch copies are made from, and whether it has uncommitted
    changes; read when the run starts (a commit made during an hour-long run is not the code it ran)."""
    copied = [".", *(f":!{skipped}" for skipped in COPY_SKIPS)]  # what prepare_copy copies
    changed = git("status", "--porcelain", "--", *copied, cwd=root).strip()
    return git("rev-parse", "--short", "HEAD", cwd=root).strip() + (" + uncommitted changes" if changed else "")


def write_results(
    output: Path, results: dict[int, dict], n_project: int, overrides: Iterable[str], revision: str
) -> None:
    this_run = {
        "command": "python -m bench.scale " + shlex.join(sys.argv[1:]),
        "date": datetime.date.today().isoformat(),
        "commit": revision,
    }
    earlier = json.loads(output.read_text()).get("runs", []) if output.is_file() else []
    document = {
        "runs": [run for run in earlier if run != this_run] + [this_run],  # the figures merge every run's
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
            "processor": platform.processor() or platform.machine(),
        },
        "params_set": list(overrides),
        "sizes": {str(n): results[n] for n in sorted(results)},
        "exponents": exponents(results),
        "projected": {"movies": n_project, "stages": [asdict(p) for p in projections(results, n_project)]},
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000], help="catalogue sizes (movies)")
    parser.add_argument("--project-to", type=int, default=100_000, help="project time and RSS to this many movies")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--stages", default="", help="run only the stages whose name matches this regex")
    parser.add_argument("--seed", type=int, default=0, help="seeds the catalogue (not the pipeline)")
    parser.add_argument("--workdir", type=Path, help="keep the copies here (reused: same N keeps its catalogue)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--add", type=int, default=0, help="after each size, add this many movies and rerun the feature stages"
    )
    parser.add_argument("--report-only", action="store_true", help="print the table of --output, run nothing")
    parser.add_argument(
        "--prefill-features",
        action="store_true",
        help="the feature stages read every vector from a prefilled cache (memory runs; needs this project's "
        "own features: dvc repro vgg_extract embed_text)",
    )
    args = parser.parse_args()
    overrides = dict(parse_override(text) for text in args.overrides)
    measured: dict[int, dict] = {}
    if not args.report_only:
        revision = source_revision()
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="scale-bench-"))
        try:
            for n in sorted(args.sizes):
                repo = workdir / f"n{n}"
                measured[n] = run_size(
                    repo, n, args.seed, overrides, re.compile(args.stages), args.add, args.prefill_features
                )
                write_results(args.output, merged(args.output, measured), args.project_to, args.overrides, revision)
        finally:
            if args.workdir is None:
                shutil.rmtree(workdir, ignore_errors=True)
    results = merged(args.output, {})
    print(f"\nwall time and peak RSS (stage's processes summed); b = time growth exponent ({args.output})")
    print(format_table(results, args.project_to))
    for n, size in sorted(results.items()):
        share = incremental_share(size)
        if share is not None:
            rerun = size["incremental"]
            print(
                f"N={n:,} + {rerun['movies'] - n:,} movies: {' + '.join(FEATURE_STAGES)} reran in "
                f"{share:.1%} of their full-run wall time (target <= 5 %)"
            )


if __name__ == "__main__":
    main()
