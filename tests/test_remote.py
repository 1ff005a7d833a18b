"""Shared results through a DVC remote: push to a real S3-compatible server, pull on a fresh clone.

The server is moto in server mode on 127.0.0.1 (tests/s3_server.py), checking every request's
signature, so the remote is configured exactly as for AWS S3, MinIO or R2: the URL in the
committed .dvc/config, the endpoint and credentials in the git-ignored .dvc/config.local.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.dvc_repo import copy_workspace, dvc, git, run
from tests.s3_server import LocalS3, S3Credentials

pytestmark = pytest.mark.e2e

BUCKET = "team-results"
REMOTE = "storage"
UP_TO_DATE = "Data and pipelines are up to date."


@pytest.fixture(scope="module")
def s3():
    with LocalS3(BUCKET) as server:
        yield server


def add_remote(repo: Path, s3: LocalS3, prefix: str) -> None:
    """The remote's URL goes into the committed .dvc/config; the endpoint is each user's setting."""
    dvc("remote", "add", "--default", REMOTE, f"s3://{BUCKET}/{prefix}", cwd=repo)
    dvc("remote", "modify", "--local", REMOTE, "endpointurl", s3.endpoint_url, cwd=repo)


def credentials_env(credentials: S3Credentials) -> dict[str, str]:
    """One way to give credentials: the standard AWS environment variables."""
    return {"AWS_ACCESS_KEY_ID": credentials.access_key_id, "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key}


def cache_contents(repo: Path) -> dict[str, str]:
    """Every object of the local DVC cache with the md5 of its bytes.

    The run cache may keep some git-tracked outputs (`cache: false`) here too, which push skips: a
    clone's cache is a subset of the producer's, never holding an object the producer lacks.
    """
    cache = repo / ".dvc" / "cache" / "files"
    return {str(f.relative_to(cache)): hashlib.md5(f.read_bytes()).hexdigest() for f in cache.rglob("*") if f.is_file()}


def metrics(repo: Path) -> dict[str, dict]:
    return {str(f.relative_to(repo)): json.loads(f.read_text()) for f in sorted((repo / "metrics").rglob("*.json"))}


@pytest.fixture(scope="module")
def pushed_repo(small_profile_repo, s3, tmp_path_factory) -> Path:
    """The small-profile run with the remote added (committed) and every output pushed."""
    repo = copy_workspace(small_profile_repo, tmp_path_factory.mktemp("pushed") / "repo")
    add_remote(repo, s3, "cache")
    # The other way to give credentials: git-ignored .dvc/config.local.
    dvc("remote", "modify", "--local", REMOTE, "access_key_id", s3.credentials.access_key_id, cwd=repo)
    dvc("remote", "modify", "--local", REMOTE, "secret_access_key", s3.credentials.secret_access_key, cwd=repo)
    git("commit", "-q", "-m", "add the team's remote", ".dvc/config", cwd=repo)
    dvc("push", cwd=repo)
    return repo


def fresh_clone(repo: Path, destination: Path, s3: LocalS3) -> Path:
    """A new machine: a git clone (no DVC cache, no outputs) with the endpoint set locally."""
    git("clone", "-q", str(repo), str(destination), cwd=repo.parent)
    dvc("remote", "modify", "--local", REMOTE, "endpointurl", s3.endpoint_url, cwd=destination)
    return destination


def test_no_credential_is_committed(pushed_repo, s3):
    git("check-ignore", "-q", ".dvc/config.local", cwd=pushed_repo)
    committed = git("show", "HEAD:.dvc/config", cwd=pushed_repo)
    assert f"s3://{BUCKET}/cache" in committed
    assert s3.credentials.secret_access_key not in committed and "endpointurl" not in committed
    assert run(["git", "grep", "-q", s3.credentials.secret_access_key], pushed_repo).returncode == 1


def test_a_fresh_clone_pulls_every_result_and_recomputes_nothing(pushed_repo, s3, tmp_path):
    clone = fresh_clone(pushed_repo, tmp_path / "clone", s3)
    assert not (clone / "data/posters.zip").exists()

    dvc("pull", cwd=clone, env=credentials_env(s3.credentials))
    assert UP_TO_DATE in dvc("status", cwd=clone)
    assert "Running stage" not in dvc("repro", cwd=clone)
    assert cache_contents(clone).items() <= cache_contents(pushed_repo).items()  # only what was pushed

    # The pulled predictions give the pushed metrics: evaluate run again on them changes nothing.
    dvc("repro", "--force", "--single-item", "evaluate", cwd=clone)
    assert metrics(clone) == metrics(pushed_repo)
    assert git("status", "--porcelain", cwd=clone) == ""
    assert UP_TO_DATE in dvc("status", cwd=clone)


def test_repro_pull_on_a_fresh_clone_downloads_instead_of_running(pushed_repo, s3, tmp_path):
    clone = fresh_clone(pushed_repo, tmp_path / "clone", s3)
    assert "Running stage" not in dvc("repro", "--pull", cwd=clone, env=credentials_env(s3.credentials))
    assert UP_TO_DATE in dvc("status", cwd=clone)
    assert (clone / "models/svm.pkl").is_file()


@pytest.mark.parametrize(
    ("wrong", "refusal"),
    [
        ({"secret_access_key": "not-the-secret"}, "The request signature we calculated does not match"),
        ({"access_key_id": "AKIANOTAKNOWNKEY0000"}, "The AWS Access Key Id you provided does not exist"),
    ],
    ids=["wrong-secret", "unknown-key-id"],
)
def test_a_push_with_wrong_credentials_fails_clearly_and_keeps_the_cache(
    small_profile_repo, s3, tmp_path, wrong, refusal
):
    repo = copy_workspace(small_profile_repo, tmp_path / "repo")
    prefix = f"refused-{next(iter(wrong))}"
    add_remote(repo, s3, prefix)
    cache_before = cache_contents(repo)

    push = run([sys.executable, "-m", "dvc", "push"], repo, env=credentials_env(replace(s3.credentials, **wrong)))
    assert push.returncode != 0
    assert push.stderr.startswith("ERROR: unexpected error - ") and refusal in push.stderr, push.stderr
    assert s3.keys(f"{prefix}/") == []
    assert cache_contents(repo) == cache_before

    # Nothing was lost: with the right credentials the same cache pushes in full.
    dvc("push", cwd=repo, env=credentials_env(s3.credentials))
    assert "are in sync" in dvc("status", "--cloud", cwd=repo, env=credentials_env(s3.credentials))
