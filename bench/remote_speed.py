"""`dvc push` and `dvc pull` times against a local S3-compatible server (moto, as in the tests).

Run after `dvc repro` (it pushes the outputs that dvc.lock names, from this repository's cache);
needs the test requirements (moto): `make test` installs them.
    python -m bench.remote_speed [--repeats 3]
Prints, for each case, the median wall time of the whole `dvc` command (start-up included) and the
bytes and objects pushed:
- the full run's outputs (everything `dvc push` sends after `dvc repro`);
- the posters alone, as the pipeline keeps them (one zip), and as a directory of one file per poster.
Each push goes to a fresh prefix (everything is uploaded), each pull into a fresh cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from movie_genres import paths
from tests.s3_server import LocalS3

BUCKET = "bench"
ROOT = Path(__file__).resolve().parents[1]


def write_dvc_config(repo: Path, s3: LocalS3, prefix: str, cache_dir: Path | None = None) -> None:
    """What `dvc init --no-scm`, `dvc remote add -d` and `dvc remote modify --local` would write."""
    (repo / ".dvc").mkdir(parents=True, exist_ok=True)
    cache = f"[cache]\n    dir = {cache_dir}\n" if cache_dir else ""
    (repo / ".dvc" / "config").write_text(
        "[core]\n    no_scm = true\n    analytics = false\n    remote = bench\n"
        f"['remote \"bench\"']\n    url = s3://{BUCKET}/{prefix}\n    endpointurl = {s3.endpoint_url}\n" + cache
    )


def timed_dvc(repo: Path, s3: LocalS3, *args: str) -> float:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AWS_ACCESS_KEY_ID": s3.credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3.credentials.secret_access_key,
    }
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def bytes_under(s3: LocalS3, prefix: str) -> tuple[int, int]:
    pages = s3.client("s3", s3.credentials).get_paginator("list_objects_v2")
    sizes = [o["Size"] for page in pages.paginate(Bucket=BUCKET, Prefix=prefix) for o in page.get("Contents", [])]
    return sum(sizes), len(sizes)


def measure(name: str, tracked: Path, cache: Path, s3: LocalS3, scratch: Path, repeats: int) -> None:
    """Push the DVC-tracked files of `tracked` (its .dvc/ files and dvc.lock) from `cache`, then pull them."""
    # params.yaml too: dvc.yaml interpolates values from it.
    metafiles = [
        f for f in tracked.iterdir() if f.suffix == ".dvc" or f.name in ("dvc.yaml", "dvc.lock", "params.yaml")
    ]
    pushes, pulls = [], []
    for run in range(repeats):
        repo = scratch / f"{name}-push-{run}"
        repo.mkdir()
        for f in metafiles:
            shutil.copy2(f, repo / f.name)
        prefix = f"{name}/{run}"
        write_dvc_config(repo, s3, prefix, cache_dir=cache)
        pushes.append(timed_dvc(repo, s3, "push"))
        clone = scratch / f"{name}-pull-{run}"
        clone.mkdir()
        for f in metafiles:
            shutil.copy2(f, clone / f.name)
        write_dvc_config(clone, s3, prefix)
        pulls.append(timed_dvc(clone, s3, "pull"))
    noop = timed_dvc(repo, s3, "push")
    size, objects = bytes_under(s3, f"{name}/0/")
    print(
        f"{name}: {objects} objects, {size / 1e6:.1f} MB pushed; "
        f"push median {statistics.median(pushes):.1f} s {[round(t, 1) for t in pushes]}, "
        f"pull median {statistics.median(pulls):.1f} s {[round(t, 1) for t in pulls]}, "
        f"push with nothing to send {noop:.1f} s"
    )


def posters_repo(scratch: Path, as_directory: bool) -> tuple[Path, Path]:
    """A scratch DVC repository tracking this run's posters, one zip or one file per poster."""
    repo = scratch / ("posters-directory" if as_directory else "posters-zip")
    repo.mkdir()
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q", "--no-scm"], cwd=repo, check=True)
    if as_directory:
        with zipfile.ZipFile(ROOT / paths.POSTERS) as archive:
            archive.extractall(repo / "posters")
        target = "posters"
    else:
        shutil.copy2(ROOT / paths.POSTERS, repo / "posters.zip")
        target = "posters.zip"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", target], cwd=repo, check=True)
    print(f"dvc add {target}: {time.perf_counter() - start:.1f} s")
    return repo, repo / ".dvc" / "cache"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3, help="pushes and pulls of each case (median reported)")
    args = parser.parse_args()
    if not (ROOT / paths.POSTERS).is_file():
        sys.exit("no data/posters.zip: run `dvc repro` first")
    with LocalS3(BUCKET) as s3, tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        measure("full-run", ROOT, ROOT / ".dvc" / "cache", s3, scratch, args.repeats)
        for as_directory in (False, True):
            repo, cache = posters_repo(scratch, as_directory)
            measure(repo.name, repo, cache, s3, scratch, args.repeats)


if __name__ == "__main__":
    main()
