"""Which text to embed: the overview alone, or "<title>. <overview>"? (params.yaml embed_text.text)

Run after `dvc repro split_dataset`:
    python -m bench.embedded_text_choice
Embeds every movie both ways, then for each C of a small grid fits a one-vs-rest logistic regression
(standardised features, balanced class weights) and prints micro-F1 under two decision rules
(probability >= 0.5, and the tutorial's three best genres): by 5-fold cross-validation on the
training movies, and trained on them, on the validation movies. The test movies are not looked at.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from movie_genres.data.dataset import subset_mask
from movie_genres.evaluation.metrics import top_k_decision
from movie_genres.features.sentence_encoder import SentenceEncoder, find_model_dir, movie_texts
from movie_genres.models.predictions import threshold_decision
from movie_genres.models.training import load_labels
from movie_genres.params import EmbedTextParams, load_section, load_seed, read_params

C_GRID = (0.001, 0.003, 0.01, 0.03)


def classifier(c: float, seed: int) -> Pipeline:
    logistic = LogisticRegression(C=c, class_weight="balanced", max_iter=1000, random_state=seed)
    return make_pipeline(StandardScaler(), OneVsRestClassifier(logistic))


def micro_f1s(y: np.ndarray, scores: np.ndarray) -> str:
    half = f1_score(y, threshold_decision(scores, 0.5), average="micro", zero_division=0)
    top3 = f1_score(y, top_k_decision(scores, 3), average="micro", zero_division=0)
    return f"p>=0.5 {half:.4f}, top-3 {top3:.4f}"


def main() -> None:
    raw = read_params()
    params, seed = load_section(raw, "embed_text", EmbedTextParams), load_seed(raw)
    dataset, labels, _ = load_labels()
    train, val = subset_mask(dataset, "train"), subset_mask(dataset, "val")
    encoder = SentenceEncoder(find_model_dir(params.model_dir), params.batch_size)
    folds = KFold(n_splits=5, shuffle=True, random_state=seed)
    print(f"train {train.sum()} movies, val {val.sum()}, {labels.shape[1]} genres; micro-F1:")
    for text in ("overview", "title_overview"):
        start = time.perf_counter()
        x = encoder.encode(movie_texts(dataset, text))
        print(f"{text} (embedded in {time.perf_counter() - start:.0f} s)")
        for c in C_GRID:
            cv_scores = cross_val_predict(
                classifier(c, seed), x[train], labels[train], cv=folds, method="predict_proba"
            )
            val_scores = classifier(c, seed).fit(x[train], labels[train]).predict_proba(x[val])
            print(
                f"  C={c:<6} 5-fold CV on train: {micro_f1s(labels[train], cv_scores)}"
                f" | val: {micro_f1s(labels[val], val_scores)}"
            )


if __name__ == "__main__":
    main()
