"""Stage report: the results page, one self-contained HTML file (reports/report.html).

Usage: python -m stages.report --models MODEL [MODEL ...]   (dvc.yaml's models list, in order)
"""

import argparse

from movie_genres import paths
from movie_genres.data.posters import PosterArchive
from movie_genres.files import atomic_path
from movie_genres.params import EvaluateParams, load_section, read_params
from movie_genres.predict.api import Predictor
from movie_genres.report.inputs import (
    SHARED_TRAINING_PARAMS,
    read_data_summary,
    read_default_models,
    read_genre_plots,
    read_model,
    read_test_movies,
)
from movie_genres.report.page import build_page
from movie_genres.report.settings import ReportParams
from movie_genres.stage_io import run_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", required=True, help="model names, e.g. svm nb")
    args = parser.parse_args()
    for folder, suffix in (
        (paths.PREDICTIONS, ".npz"),
        (paths.REPORTS / "models", ".json"),
        (paths.PLOTS / "per_genre", ".csv"),
    ):
        paths.require_only_models(folder, args.models, suffix)  # its deps in dvc.yaml
    raw = read_params()
    params = load_section(raw, "report", ReportParams)
    top_k = load_section(raw, "evaluate", EvaluateParams).top_k
    predictor = Predictor()  # reads the model cards: what each model reads, as predict sees it
    with PosterArchive(paths.POSTERS) as posters:
        page = build_page(
            [read_model(model, predictor, raw) for model in args.models],
            read_test_movies(args.models),
            read_data_summary(),
            read_default_models(),
            read_genre_plots(),
            posters.read,
            params,
            top_k,
            {section: raw[section] for section in SHARED_TRAINING_PARAMS},
        )
    with atomic_path(paths.REPORTS / "report.html") as partial:
        partial.write_text(page, encoding="utf-8")


if __name__ == "__main__":
    run_stage(main)
