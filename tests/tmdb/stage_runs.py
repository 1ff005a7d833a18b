"""Running the fetch stages against the fake TMDB: a scratch repository's params, a run in this process,
a run expected to fail, and a run in a subprocess killed with SIGKILL midway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from movie_genres.stage_io import TRACEBACK_VARIABLE, run_stage
from tests.conftest import ROOT, TEST_KEY


def live_repo(folder: Path, server, http_changes: dict | None = None, **tmdb_changes) -> Path:
    """A folder with the project's params.yaml switched to the fake TMDB, as a stage sees the repo root."""
    folder.mkdir(parents=True, exist_ok=True)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["fetch_list"]["source"] = "tmdb"
    # Tens of movies: every genre they have is modelled (the default counts on thousands), so none is dropped.
    params["fetch_list"]["min_genre_movies"] = 1
    params["fetch_list"]["tmdb"].update(
        {"api_base_url": server.url + "/3", "popular_pages": 40, "discover_pages_per_genre": 0, **tmdb_changes}
    )
    params["tmdb_http"].update(
        {"requests_per_second": 50, "workers": 4, "timeout_s": 1.0, "backoff_base_s": 0.01, **(http_changes or {})}
    )
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (folder / "paths.yaml").write_text((ROOT / "paths.yaml").read_text())
    return folder


def run_in(stage: ModuleType, folder: Path, monkeypatch) -> None:
    monkeypatch.chdir(folder)
    stage.main()


def stage_error(stage: ModuleType, folder: Path, monkeypatch, capfd) -> str:
    """Run a stage as `python -m stages.<name>` does; it must stop with exit status 2 and a message, no traceback."""
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "argv", [stage.__name__])
    monkeypatch.delenv(TRACEBACK_VARIABLE, raising=False)
    capfd.readouterr()
    with pytest.raises(SystemExit) as end:
        run_stage(stage.main)
    err = capfd.readouterr().err
    message = err[err.index("error: ") :]
    assert end.value.code == 2 and "Traceback" not in err, err
    return message


def kill_when(stage: str, folder: Path, ready: Callable[[], bool]) -> None:
    """Start `python -m stages.<stage>` in `folder` and SIGKILL it as soon as `ready()` (polled) holds."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]), "TMDB_API_KEY": TEST_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", f"stages.{stage}"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not ready() and time.monotonic() < deadline:
        assert process.poll() is None, f"{stage} ended before it could be killed"
        time.sleep(0.01)
    assert process.poll() is None, f"{stage} ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
