"""Small helpers every stage script shares: logging, writing reports, saving fitted objects."""

from __future__ import annotations

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
    """Run a stage's `main`; a UserError ends it with its one-line message and exit status 2.

    `-v` on the command line (or MOVIE_GENRES_TRACEBACK=1, e.g. around `dvc repro`) shows the
    traceback as well. Any other exception is a bug and always shows its traceback.
    """
    verbose = any(arg in ("-v", "--verbose") for arg in sys.argv[1:]) or os.environ.get(TRACEBACK_VARIABLE) == "1"
    sys.argv[1:] = [arg for arg in sys.argv[1:] if arg not in ("-v", "--verbose")]
    try:
        main()
    except UserError as err:
        if verbose:
            raise
        print(f"error: {err}\n(rerun with {TRACEBACK_VARIABLE}=1 for the traceback)", file=sys.stderr)
        sys.exit(2)
