"""The charts' tables: every model's rows in one table, in the models list's order, a `model` column first."""

from __future__ import annotations

import pandas as pd

from movie_genres.evaluation.model_plots import stack_model_tables, training_loss


def test_tables_are_stacked_in_the_lists_order_with_the_model_first():
    tables = {
        "svm": pd.DataFrame({"recall": [0.0, 1.0], "precision": [1.0, 0.4]}),
        "nb": pd.DataFrame({"recall": [0.5], "precision": [0.6]}),
    }
    stacked = stack_model_tables(tables)
    assert list(stacked.columns) == ["model", "recall", "precision"]
    assert stacked["model"].tolist() == ["svm", "svm", "nb"]
    assert stacked["precision"].tolist() == [1.0, 0.4, 0.6]


def test_a_dvclive_folder_gives_the_loss_by_epoch_on_both_splits(tmp_path):
    for folder, losses in (("train", [0.5, 0.3]), ("eval", [0.6, 0.45])):
        path = tmp_path / "plots" / "metrics" / folder / "loss.tsv"
        path.parent.mkdir(parents=True)
        path.write_text("step\tloss\n" + "".join(f"{step}\t{loss}\n" for step, loss in enumerate(losses)))
    loss = training_loss(tmp_path)
    assert list(loss.columns) == ["split", "epoch", "loss"]
    assert loss.values.tolist() == [
        ["training", 0, 0.5], ["training", 1, 0.3], ["validation", 0, 0.6], ["validation", 1, 0.45]
    ]  # fmt: skip
