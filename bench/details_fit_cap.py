"""The F1 cost of train_details_logreg's fit_max_movies: the model (C=1) fitted on all training movies
and on seeded samples, test micro-F1 at probability > 0.5, paired bootstrap against all.

Run in a bench.scale copy after its run (its features and split), e.g. the 100k one:
    cd /tmp/scale-mem/n100000 && PYTHONPATH=src python /work/main/bench/details_fit_cap.py 72000 50000 20000
(the first size is the reference; at or above the training movies it means all).
"""

import json
import sys
import time

from sklearn.metrics import f1_score

from movie_genres import paths
from movie_genres.evaluation.bootstrap import bootstrap_weights, paired_bootstrap
from movie_genres.models.linear import OneVsRestGenres, fitting_rows, logistic_regression
from movie_genres.models.training import load_modelling_data


def main() -> None:
    files = [paths.TEXT_TFIDF, paths.DETAIL_FEATURES, paths.TEXT_MINILM]  # train_details_logreg's, in dvc.yaml's order
    data = load_modelling_data(*files, max_in_memory_bytes=0)
    test_x = data.test.x.read()
    caps = [int(c) for c in sys.argv[1:]]
    decided, results = {}, {}
    for cap in caps:
        start = time.time()
        x, y = fitting_rows(data.train.x, data.train.y, cap if cap < len(data.train.y) else None, 42)
        model = OneVsRestGenres(logistic_regression("balanced", seed=42)).fit(x, y)
        decided[cap] = model.predict_proba(test_x) > 0.5
        results[cap] = {
            "fitted_movies": len(y),
            "fit_s": round(time.time() - start, 1),
            "micro_f1": round(f1_score(data.test.y, decided[cap], average="micro"), 4),
        }
        print(cap, results[cap], flush=True)
    weights = bootstrap_weights(len(data.test.y), 1000, 42)
    full = caps[0]
    for cap in caps:
        micro = paired_bootstrap(data.test.y, decided[cap], decided[full], weights)["micro"]
        results[cap].update(
            micro_f1=round(micro.a, 4),
            gain_vs_all=round(micro.difference, 4),
            low=round(micro.low, 4),
            high=round(micro.high, 4),
        )
    print(
        json.dumps(
            {
                "train_movies": len(data.train.y),
                "test_movies": len(data.test.y),
                "C": 1.0,
                "decision": "probability > 0.5",
                "caps": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
