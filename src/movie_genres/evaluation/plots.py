"""Images for the genre analysis (written as PNG under plots/)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

CMAP = "viridis"
ZERO_COLOUR = "0.92"  # pairs no movie has: light grey, outside the colour scale
DIAGONAL_COLOUR = "white"  # a genre with itself: its movie count, outside the colour scale


def pair_counts(matrix: np.ndarray) -> np.ma.MaskedArray:
    """The co-occurrence counts with the diagonal and the zeros masked: what the colour scale shows."""
    counts = np.ma.masked_less_equal(np.asarray(matrix, dtype=float), 0)
    counts[np.diag_indices_from(counts)] = np.ma.masked
    return counts


def pair_norm(matrix: np.ndarray) -> LogNorm:
    """A log colour scale over the pairs (not the diagonal): 1 movie to the largest pair.

    The diagonal is each genre's own count, and Drama's alone is several times any pair: on a linear
    scale over the whole matrix every other cell would be the same dark colour.
    """
    counts = pair_counts(matrix)
    vmax = float(counts.max()) if counts.count() else 1.0
    return LogNorm(vmin=1.0, vmax=max(vmax, 10.0))


def _text_colour(rgba: Sequence[float]) -> str:
    """Black on light cells, white on dark ones (relative luminance)."""
    red, green, blue = rgba[:3]
    return "black" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.45 else "white"


def heatmap(matrix: np.ndarray, names: list[str], title: str, path: Path, boundaries: Sequence[float] = ()) -> None:
    """A labelled genre x genre heatmap of co-occurrence counts, every cell annotated with its count.

    Pairs are coloured on a log scale; the diagonal (movies per genre) is drawn apart, white with its
    count in bold; pairs no movie has are light grey. Optional lines between groups of genres.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(names)
    norm = pair_norm(matrix)
    cmap = plt.get_cmap(CMAP).with_extremes(bad=ZERO_COLOUR)
    fig, ax = plt.subplots(figsize=(11, 10))
    image = ax.imshow(pair_counts(matrix), cmap=cmap, norm=norm)
    for i in range(n):
        ax.add_patch(plt.Rectangle((i - 0.5, i - 0.5), 1, 1, facecolor=DIAGONAL_COLOUR, edgecolor="0.5", linewidth=0.8))
    for row in range(n):
        for col in range(n):
            count = int(matrix[row, col])
            if row == col:
                ax.text(col, row, f"{count}", ha="center", va="center", fontsize=6.5, fontweight="bold")
            elif count > 0:
                colour = _text_colour(cmap(norm(count)))
                ax.text(col, row, f"{count}", ha="center", va="center", fontsize=6.5, color=colour)
    for edge in boundaries:
        ax.axhline(edge, color="black", linewidth=1.5)
        ax.axvline(edge, color="black", linewidth=1.5)
    ax.set_xticks(range(n), names, rotation=90)
    ax.set_yticks(range(n), names)
    ax.set_title(title)
    colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
    ticks = [t for t in (1, 3, 10, 30, 100, 300, 1000, 3000) if t <= (norm.vmax or 1.0)]
    colorbar.set_ticks(ticks, labels=[str(t) for t in ticks])
    colorbar.minorticks_off()
    colorbar.set_label("movies with both genres (log scale); white diagonal: movies with the genre")
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
