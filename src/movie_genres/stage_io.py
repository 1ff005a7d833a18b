"""Small helpers every stage script shares: logging, writing reports, saving fitted objects."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from movie_genres import paths
from movie_genres.errors import UserError
from movie_genres.files import atomic_path

if TYPE_CHECKING:
    import pandas as pd


def setup_logging() -> None:
    """INFO lines with time and logger on stderr; `run_stage` calls it, so every stage logs the same way."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_csv(path: Path, table: pd.DataFrame) -> None:
    with atomic_path(path) as partial:
        table.to_csv(partial, index=False)


def save_model(name: str, model: Any) -> None:
    """Pickle a fitted model or featurizer as models/<name>.pkl (predict loads it from there)."""
    with atomic_path(paths.model_file(name)) as partial, open(partial, "wb") as f:
        pickle.dump(model, f)


TRACEBACK_VARIABLE = "MOVIE_GENRES_TRACEBACK"


def run_stage(main: Callable[[], object]) -> None:
    """Run a stage's `main` with logging set up; a UserError ends it with its one-line message and exit status 2.

    `-v` on the command line (or MOVIE_GENRES_TRACEBACK=1, e.g. around `dvc repro`) shows the
    traceback as well. Any other exception is a bug and always shows its traceback. Under DVC, either
    failure also says how to get the stage's last good outputs back.
    """
    verbose = any(arg in ("-v", "--verbose") for arg in sys.argv[1:]) or os.environ.get(TRACEBACK_VARIABLE) == "1"
    sys.argv[1:] = [arg for arg in sys.argv[1:] if arg not in ("-v", "--verbose")]
    setup_logging()
    try:
        main()
    except Exception as err:
        restore = restore_hint()
        if verbose or not isinstance(err, UserError):
            if restore:
                err.add_note(restore)
            raise
        lines = [f"error: {err}", restore, f"(rerun with {TRACEBACK_VARIABLE}=1 for the traceback)"]
        print("\n".join(line for line in lines if line), file=sys.stderr)
        sys.exit(2)


def restore_hint() -> str:
    """When DVC runs the stage: the commands that bring back its last good outputs, which DVC removed
    before running it (its cached outputs from the DVC cache, the git-tracked ones from git). "" otherwise.
    """
    stage = os.environ.get("DVC_STAGE")  # DVC sets it, and DVC_ROOT, for every stage command it runs
    if not stage:
        return ""
    commands = [f"dvc checkout {stage}"]
    tracked = _git_tracked_outputs(stage, Path(os.environ.get("DVC_ROOT", ".")))
    if tracked:
        commands.append(f"git checkout -- {' '.join(tracked)}")
    return f"(DVC removed the outputs of {stage} before running it; the last good ones: {' && '.join(commands)})"


def _git_tracked_outputs(stage: str, root: Path) -> list[str]:
    """The outputs of `stage` that DVC does not cache (metrics, reports: git tracks them) and removes
    before a run (not `persist`)."""
    try:
        from dvc.repo import Repo  # only on this failure path: importing DVC takes a second

        with contextlib.chdir(root), Repo() as repo:  # DVC names the stage relative to the root
            (found,) = repo.stage.collect(stage)
            return [str(out.def_path) for out in found.outs if not out.use_cache and not out.persist]
    except Exception:  # the hint must never hide the stage's own error
        return []
