"""Which text to embed: the overview alone, or "<title>. <overview>"? (params.yaml embed_text.text)

Run after `dvc repro split_dataset`:
    python -m bench.embedded_text_choice
Embeds every movie both ways, fits a one-vs-rest logistic regression per C on the training movies
and prints validation micro-F1 under two decision rules (probability >= 0.5, and the tutorial's
three best genres). The test movies are not looked at.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier

from src.metrics import threshold_decision, top_k_decision
from src.params import EmbedTextParams, load_section, load_seed, read_params
from src.sentence_encoder import SentenceEncoder, find_model_dir, movie_texts
from src.training import load_labels

C_GRID = (0.3, 1.0, 3.0, 10.0)


def main() -> None:
    raw = read_params()
    params, seed = load_section(raw, "embed_text", EmbedTextParams), load_seed(raw)
    dataset, labels, _ = load_labels()
    train, val = (dataset["subset"] == "train").to_numpy(), (dataset["subset"] == "val").to_numpy()
    encoder = SentenceEncoder(find_model_dir(params.model_dir), params.batch_size)
    print(f"train {train.sum()} movies, val {val.sum()}, {labels.shape[1]} genres")
    for text in ("overview", "title_overview"):
        start = time.perf_counter()
        x = encoder.encode(movie_texts(dataset, text))
        print(f"{text}: embedded in {time.perf_counter() - start:.0f} s")
        for c in C_GRID:
            model = OneVsRestClassifier(LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed))
            model.fit(x[train], labels[train])
            scores = model.predict_proba(x[val])
            f1_half = f1_score(labels[val], threshold_decision(scores, 0.5), average="micro", zero_division=0)
            f1_top3 = f1_score(labels[val], top_k_decision(scores, 3), average="micro", zero_division=0)
            print(f"  C={c:<5} val micro-F1: p>=0.5 {f1_half:.4f}, top-3 {f1_top3:.4f}")


if __name__ == "__main__":
    main()
