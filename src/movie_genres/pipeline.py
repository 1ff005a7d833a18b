"""What dvc.yaml declares, for code that runs beside the pipeline (tests, benchmarks), not in it."""

from __future__ import annotations

from pathlib import Path

import yaml


def evaluated_models(root: Path = Path(".")) -> list[str]:
    """dvc.yaml's models list (`vars`: `evaluated.models`): every model `evaluate` judges, in order.

    The stages get it on their command line (`${evaluated}`, `--models ...`), not from here."""
    variables = yaml.safe_load((root / "dvc.yaml").read_text())["vars"]
    return next(v["evaluated"]["models"] for v in variables if isinstance(v, dict) and "evaluated" in v)
