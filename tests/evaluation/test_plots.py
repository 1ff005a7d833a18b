import numpy as np
import pytest
from PIL import Image

from movie_genres.evaluation.plots import heatmap, pair_counts, pair_norm

# Drama-like: one genre far larger than any pair, as in the real data (2,296 movies, largest pair 603).
MATRIX = np.array([[2296, 603, 19, 0], [603, 894, 8, 3], [19, 8, 234, 1], [0, 3, 1, 8]])


def test_the_colour_scale_leaves_out_the_diagonal_and_the_zeros():
    counts = pair_counts(MATRIX)
    assert counts.mask.diagonal().all()
    assert counts.mask[0, 3] and counts.mask[3, 0]  # no movie has both
    assert counts.count() == 10  # the other pairs, both halves
    norm = pair_norm(MATRIX)
    assert (norm.vmin, norm.vmax) == (1.0, 603.0)  # the largest pair, not Drama's 2,296
    # On a log scale a pair of 8 movies is a third of the way up, not lost at the bottom as on a linear one.
    assert float(norm(8)) == pytest.approx(np.log(8) / np.log(603))


def test_heatmap_writes_the_same_png_for_the_same_data(tmp_path):
    names = ["Drama", "Romance", "Animation", "TV Movie"]
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    heatmap(MATRIX, names, "test", first)
    heatmap(MATRIX, names, "test", second, boundaries=[1.5])
    heatmap(MATRIX, names, "test", second)
    assert first.read_bytes() == second.read_bytes()
    assert Image.open(first).size == (1100, 1000)
