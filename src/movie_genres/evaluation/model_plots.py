"""The plot data of every model in one table per chart: what dvc.yaml's top-level `plots` draw.

DVC draws one chart per plot definition from the files it names, and a definition cannot loop over the
models list; so each chart reads one table here, with a `model` column, written by stage gather_plots.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

# dvclive's folders under a training log, each a curve of the loss by epoch: the split it is measured on.
LOSS_SPLITS = {"train": "training", "eval": "validation"}


def stack_model_tables(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The tables one after another, in the mapping's order (the models list's), with a first column `model`."""
    return pd.concat([table.assign(model=name)[["model", *table.columns]] for name, table in tables.items()])


def training_loss(log: Path) -> pd.DataFrame:
    """An MLP's loss by epoch on its training and validation movies, from its dvclive folder."""
    curves = [
        pd.read_csv(log / "plots" / "metrics" / folder / "loss.tsv", sep="\t").assign(split=split)
        for folder, split in LOSS_SPLITS.items()
    ]
    return pd.concat(curves).rename(columns={"step": "epoch"})[["split", "epoch", "loss"]]
