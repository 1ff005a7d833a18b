"""Stage gather_plots: each model chart's data, every model in one table (plots/all_models/).

Usage: python -m stages.gather_plots --models MODEL [MODEL ...]   (dvc.yaml's models list, in order)
"""

import argparse

import pandas as pd

from movie_genres import paths
from movie_genres.evaluation.model_plots import stack_model_tables, training_loss
from movie_genres.stage_io import run_stage, write_csv

# chart -> the folder of per-model tables `evaluate` writes for it
EVALUATED = {"pr_curves": paths.PLOTS / "pr_curve", "per_genre_f1": paths.PLOTS / "per_genre"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", required=True)
    models = parser.parse_args().models
    for chart, folder in EVALUATED.items():
        paths.require_only_models(folder, models, ".csv")
        tables = {model: pd.read_csv(folder / f"{model}.csv") for model in models}
        write_csv(paths.model_plot_table(chart), stack_model_tables(tables))
    paths.require_only_models(paths.TRAINING_LOGS, models)
    logs = {model: training_loss(paths.training_log(model)) for model in models if paths.training_log(model).is_dir()}
    write_csv(paths.model_plot_table("training_loss"), stack_model_tables(logs))


if __name__ == "__main__":
    run_stage(main)
