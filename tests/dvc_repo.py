"""Helpers for end-to-end tests: copies of the project run with the real git and DVC commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from movie_genres import paths

# A small, quick profile: the most popular movies only, a smaller grid.
SMALL_PROFILE = {
    ("fetch_list", "max_movies"): 200,
    ("train_svm", "C"): [0.1, 1],
    ("train_svm", "cv_folds"): 2,
    ("out_of_fold", "folds"): 2,
    ("train_details_logreg", "C"): [1],
    ("train_details_logreg", "cv_folds"): 2,
    ("train_text_mlp", "max_epochs"): 5,
    ("train_poster_mlp", "max_epochs"): 5,
    ("train_minilm_mlp", "max_epochs"): 5,
    ("train_early_fusion_mlp", "max_epochs"): 5,
}


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command with this interpreter's environment (so `python` and `dvc` are the project's).

    The copy's own package comes first on the path (not the editable install of the original), so
    its stages run the code DVC hashed.
    """
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    own = {"PATH": path, "PYTHONPATH": str(cwd / "src")}
    return subprocess.run(args, cwd=cwd, env={**os.environ, **own, **(env or {})}, capture_output=True, text=True)


def _checked(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = run(args, cwd, env)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def dvc(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    return _checked([sys.executable, "-m", "dvc", *args], cwd, env)


def git(*args: str, cwd: Path) -> str:
    return _checked(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args], cwd)


def copy_repository(source: Path, destination: Path, skip: tuple[str, ...] = ()) -> None:
    """The files a fresh clone would have (tracked, or new and not ignored), nothing generated; not those
    whose path starts with one of `skip`."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=source,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (source / name).is_file() and not name.startswith(skip):
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, destination / name)


def set_params(repo: Path, values: dict[tuple[str, ...], object]) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for keys, value in values.items():
        section = params
        for key in keys[:-1]:
            section = section[key]
        section[keys[-1]] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def reproduce_small_profile(project: Path, repo: Path) -> None:
    """Copy the project into repo, reproduce it on the small profile, commit: a git + DVC repository."""
    copy_repository(project, repo)
    (repo / "dvc.lock").unlink(missing_ok=True)
    set_params(repo, SMALL_PROFILE)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "clone", cwd=repo)  # as in a real clone: dvclive wants a commit
    dvc("repro", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "small profile reproduced", cwd=repo)


# Files nothing ever writes in place: content-addressed stores (git clone --local links them too),
# and the bundled inputs the pipeline only reads. A copy links them instead of copying 10,000 files.
NEVER_WRITTEN = (Path(".git/objects"), Path(".dvc/cache"), paths.BUNDLED_CSV.parent)


def copy_workspace(repo: Path, destination: Path) -> Path:
    """An independent copy of a repository with its git history, DVC cache and outputs."""
    shared = tuple(repo / part for part in NEVER_WRITTEN)

    def link_or_copy(source: str, target: str) -> None:
        if any(Path(source).is_relative_to(store) for store in shared):
            os.link(source, target)
        else:
            shutil.copy2(source, target)

    shutil.copytree(repo, destination, symlinks=True, copy_function=link_or_copy)
    return destination


# The experiments tests/evaluation/test_experiments.py compares: one that changes the SVM (and the
# stacks that read it), one that changes nothing a model sees (it reruns the report alone).
EXPERIMENTS = {"svm-c": "train_svm.C=[0.01]", "report-only": "report.gallery_movies=6"}


def run_experiments(source: Path, repo: Path) -> None:
    """A copy of `source` in repo with EXPERIMENTS run in it, each from HEAD (--temp: a plain run leaves its
    results in the workspace, the next one's start)."""
    copy_workspace(source, repo)
    for name, change in EXPERIMENTS.items():
        dvc("exp", "run", "--temp", "-n", name, "-S", change, cwd=repo)
