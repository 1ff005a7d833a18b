"""A failed stage's message: under DVC, which removed the stage's outputs before running it, it says how
to get the last good ones back, and that command does."""

from __future__ import annotations

import re
import sys

import pytest

from movie_genres import paths
from movie_genres.data.contract import record_checksum
from movie_genres.stage_io import run_stage
from stages import fetch_list
from tests.conftest import ROOT
from tests.data.bad_tables import with_cell
from tests.dvc_repo import copy_repository, dvc, git, run
from tests.tmdb.stage_runs import stage_error

# fetch_list's outputs DVC does not cache: git tracks them (dvc.yaml's order).
FETCH_LIST_TRACKED = f"{paths.data_report('fetch_list')} {paths.data_metrics('fetch_list')}"


def _bad_table_repo(folder) -> None:
    (folder / paths.BUNDLED_CSV).parent.mkdir(parents=True)
    (folder / paths.BUNDLED_CSV).write_bytes(with_cell(3, "id", "12a"))
    record_checksum(paths.BUNDLED_CSV)


def test_under_dvc_a_stage_error_says_how_to_restore_the_last_good_outputs(in_tmp_repo, monkeypatch, capfd):
    _bad_table_repo(in_tmp_repo)
    monkeypatch.setenv("DVC_STAGE", "fetch_list")
    monkeypatch.setenv("DVC_ROOT", str(ROOT))  # where DVC runs it: the repository whose dvc.yaml names the outputs
    lines = stage_error(fetch_list, in_tmp_repo, monkeypatch, capfd).splitlines()
    assert lines[0].startswith("error: data/bundled/movies.csv: line 4, column id: '12a': not a whole number")
    assert lines[1:] == [
        "(DVC removed the outputs of fetch_list before running it; the last good ones:"
        f" dvc checkout fetch_list && git checkout -- {FETCH_LIST_TRACKED})",
        "(rerun with MOVIE_GENRES_TRACEBACK=1 for the traceback)",
    ]


def test_outside_dvc_the_message_has_no_restore_line(in_tmp_repo, monkeypatch, capfd):
    _bad_table_repo(in_tmp_repo)
    monkeypatch.delenv("DVC_STAGE", raising=False)
    lines = stage_error(fetch_list, in_tmp_repo, monkeypatch, capfd).splitlines()
    assert len(lines) == 2 and lines[1] == "(rerun with MOVIE_GENRES_TRACEBACK=1 for the traceback)"


def test_a_bug_under_dvc_keeps_its_traceback_and_adds_the_restore_line(monkeypatch):
    monkeypatch.setenv("DVC_STAGE", "fetch_list")
    monkeypatch.setenv("DVC_ROOT", str(ROOT))
    monkeypatch.setattr(sys, "argv", ["stages.fetch_list"])
    with pytest.raises(ZeroDivisionError) as bug:
        run_stage(lambda: 1 / 0)
    assert bug.value.__notes__ == [
        "(DVC removed the outputs of fetch_list before running it; the last good ones:"
        f" dvc checkout fetch_list && git checkout -- {FETCH_LIST_TRACKED})"
    ]


def test_run_stage_sets_logging_up_so_a_stage_need_not():
    """A fresh process (pytest owns this one's logging): a stage's INFO line reaches stderr, with time and logger."""
    stage = (
        "import logging; from movie_genres.stage_io import run_stage;"
        " run_stage(lambda: logging.getLogger('stages.x').info('hi'))"
    )
    done = run([sys.executable, "-c", stage], ROOT)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"\d{4}-\d\d-\d\d [\d:,]+ stages\.x INFO hi\n", done.stderr), done.stderr


@pytest.mark.e2e
def test_after_a_failed_dvc_repro_the_restore_line_brings_back_the_last_good_outputs(tmp_path):
    """The real DVC on a copy of the project: a good fetch_list, committed; a bad table makes the next run
    fail, DVC removes the outputs and keeps dvc.lock; the message's command brings the outputs back."""
    repo = tmp_path / "repo"
    copy_repository(ROOT, repo, skip=(f"{paths.BUNDLED_POSTERS}/", "tests/", "docs/", "bench/"))
    (repo / "dvc.lock").unlink()
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "clone", cwd=repo)
    dvc("repro", "-s", "fetch_list", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "fetch_list run", cwd=repo)
    outputs = [paths.MOVIES, paths.GENRES, paths.data_report("fetch_list"), paths.data_metrics("fetch_list")]
    good = {output: (repo / output).read_bytes() for output in outputs}
    lock = (repo / "dvc.lock").read_bytes()

    (repo / paths.BUNDLED_CSV).write_bytes(with_cell(3, "id", "12a"))
    failed = run([sys.executable, "-m", "dvc", "repro", "-s", "fetch_list"], repo)
    assert failed.returncode != 0
    assert "error: data/bundled/movies.csv: line 4, column id: '12a': not a whole number" in failed.stderr
    assert (repo / "dvc.lock").read_bytes() == lock
    assert not any((repo / output).exists() for output in outputs)  # DVC removed them before the run

    restore = re.search(r"the last good ones: (.*)\)$", failed.stderr, re.MULTILINE)
    assert restore, failed.stderr
    assert restore.group(1) == f"dvc checkout fetch_list && git checkout -- {FETCH_LIST_TRACKED}"
    done = run(["bash", "-c", restore.group(1)], repo)
    assert done.returncode == 0, done.stderr
    assert {output: (repo / output).read_bytes() for output in outputs} == good
    status = git("status", "--porcelain", cwd=repo)
    assert status.splitlines() == [f" M {paths.BUNDLED_CSV}"]
