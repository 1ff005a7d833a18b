"""Stage train_svm: one-vs-rest linear SVM on TF-IDF, C by cross-validated grid search."""

import logging

from src import paths
from src.models import train_linear_svm
from src.params import TrainSvmParams, load_section, load_seed, read_params
from src.stage_io import setup_logging, write_json
from src.training import load_modelling_data, save_model, save_scores

log = logging.getLogger(__name__)


def main() -> None:
    setup_logging()
    raw = read_params()
    params = load_section(raw, "train_svm", TrainSvmParams)
    data = load_modelling_data(paths.TEXT_TFIDF)
    search = train_linear_svm(data.train.x, data.train.y, params, load_seed(raw))
    log.info("best C %s, cross-validated %s %.4f", search.best_params_["estimator__C"], params.scoring, search.best_score_)
    save_model("svm", search.best_estimator_)
    save_scores("svm", data, search.best_estimator_.decision_function(data.evaluated.x), "margin")
    write_json(
        paths.METRICS / "train" / "svm.json",
        {"best_C": search.best_params_["estimator__C"], "cv_score": round(float(search.best_score_), 4)},
    )


if __name__ == "__main__":
    main()
