"""Images for the genre analysis (written as PNG under plots/)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np


def heatmap(matrix: np.ndarray, names: list[str], title: str, path: Path, boundaries: Sequence[float] = ()) -> None:
    """A labelled genre x genre heatmap of counts, with optional white lines between groups."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(9, 8))
    image = ax.imshow(matrix, cmap="viridis")
    for edge in boundaries:
        ax.axhline(edge, color="white", linewidth=1.5)
        ax.axvline(edge, color="white", linewidth=1.5)
    ax.set_xticks(range(len(names)), names, rotation=90)
    ax.set_yticks(range(len(names)), names)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="movies")
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})  # no version stamp: same data, same bytes
    plt.close(fig)


def cluster_boundaries(sorted_clusters: np.ndarray) -> list[float]:
    """Positions between consecutive genres of different clusters."""
    return [i + 0.5 for i in range(len(sorted_clusters) - 1) if sorted_clusters[i] != sorted_clusters[i + 1]]


def coclustered_heatmap(
    matrix: np.ndarray, names: list[str], order: np.ndarray, clusters: np.ndarray, path: Path
) -> None:
    """The co-occurrence heatmap with genres reordered by cluster, clusters outlined."""
    heatmap(
        matrix[np.ix_(order, order)],
        [names[i] for i in order],
        "Genre co-occurrence, spectral co-clustering",
        path,
        boundaries=cluster_boundaries(clusters[order]),
    )
