"""Genre co-occurrence and its spectral co-clustering (the tutorial's genre analysis)."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import SpectralCoclustering


def cooccurrence(labels: np.ndarray) -> np.ndarray:
    """Genre x genre counts of movies having both; the diagonal is each genre's movie count."""
    labels = labels.astype(np.int64)
    return labels.T @ labels


def cocluster_order(matrix: np.ndarray, n_clusters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row order that groups genres by spectral co-clustering, and each genre's cluster."""
    if n_clusters > len(matrix):
        raise ValueError(f"genre_analysis.n_clusters={n_clusters} exceeds the {len(matrix)} genres present")
    model = SpectralCoclustering(n_clusters=n_clusters, random_state=seed).fit(matrix)
    order = np.argsort(model.row_labels_, kind="stable")
    return order, model.row_labels_
