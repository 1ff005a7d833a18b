"""How sure a figure is: a seeded bootstrap over the test movies, for F1s and for comparing two models.

Each draw resamples the test movies with replacement. A draw is stored as how often it picked each
movie (a row of `weights`), so every F1 of every draw comes from per-movie true positive, false
positive and false negative counts with a few matrix products, not from a loop of scikit-learn calls.
The same seed and number of movies give the same draws, so two models judged on the same test movies
are resampled alike: their intervals are comparable, and their difference is a paired bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

F1_AVERAGES = ("micro", "samples", "macro")
CONFIDENCE = 0.95
_CHUNK = 250  # draws generated at a time, bounding the temporary index array
_SCORED_DRAWS = 50  # draws scored at a time (as floats: 8 bytes a movie each), bounding f1_draws' memory


def bootstrap_weights(n_movies: int, n_draws: int, seed: int) -> np.ndarray:
    """`n_draws` resamples of `n_movies` movies with replacement: draws x movies, how often each movie is drawn.

    Every row sums to `n_movies`. The result depends only on the three arguments. Counts are 16-bit (a
    movie is drawn about once a resample; 1,000 draws of 1M movies take 2 GB).
    """
    if n_movies < 1 or n_draws < 1:
        raise ValueError(f"need at least one movie and one draw, got {n_movies} movies and {n_draws} draws")
    rng = np.random.default_rng(seed)
    weights = np.empty((n_draws, n_movies), dtype=np.uint16)
    for start in range(0, n_draws, _CHUNK):
        size = min(_CHUNK, n_draws - start)
        picks = rng.integers(0, n_movies, size=(size, n_movies)) + n_movies * np.arange(size)[:, None]
        counts = np.bincount(picks.ravel(), minlength=size * n_movies)
        if counts.max() > np.iinfo(weights.dtype).max:  # never seen: a movie drawn 65,536 times in one resample
            raise OverflowError("a bootstrap count does not fit in 16 bits")
        weights[start : start + size] = counts.reshape(size, n_movies)
    return weights


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """2 tp / (2 tp + fp + fn), 0 where nothing is true or predicted (scikit-learn's zero_division=0)."""
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros_like(denominator, dtype=float), where=denominator > 0)


def f1_draws(y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Micro, samples and macro F1 of the movies each row of `weights` picks: one value per draw.

    A row of ones gives the F1s of the movies themselves (scikit-learn's `f1_score`, zero_division=0).
    """
    truth, predicted = y_true.astype(bool), y_pred.astype(bool)
    tp = (truth & predicted).astype(float)
    fp = (~truth & predicted).astype(float)
    fn = (truth & ~predicted).astype(float)
    movie_f1 = _f1(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1))
    genre_tp, genre_fp, genre_fn = (np.empty((len(weights), y_true.shape[1])) for _ in range(3))  # draws x genres
    samples = np.empty(len(weights))
    for start in range(0, len(weights), _SCORED_DRAWS):
        draws = slice(start, start + _SCORED_DRAWS)
        w = weights[draws].astype(float)
        genre_tp[draws], genre_fp[draws], genre_fn[draws] = w @ tp, w @ fp, w @ fn
        samples[draws] = (w @ movie_f1) / w.sum(axis=1)
    return {
        "micro": _f1(genre_tp.sum(axis=1), genre_fp.sum(axis=1), genre_fn.sum(axis=1)),
        "samples": samples,
        "macro": _f1(genre_tp, genre_fp, genre_fn).mean(axis=1),
    }


def percentile_interval(draws: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The central `confidence` share of the draws: (low, high)."""
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Interval:
    estimate: float  # on all the test movies
    low: float
    high: float


def f1_estimates(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Micro, samples and macro F1 on the movies themselves (what `f1_draws` gives for a row of ones)."""
    return {average: float(value[0]) for average, value in f1_draws(y_true, y_pred, np.ones((1, len(y_true)))).items()}


def f1_intervals(
    y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray, confidence: float = CONFIDENCE
) -> dict[str, Interval]:
    """Per F1 average: the figure on the test movies and its bootstrap percentile interval."""
    estimates, draws = f1_estimates(y_true, y_pred), f1_draws(y_true, y_pred, weights)
    return {
        average: Interval(estimates[average], *percentile_interval(draws[average], confidence))
        for average in F1_AVERAGES
    }


@dataclass(frozen=True)
class PairedComparison:
    """Model A against model B on the same resampled movies, for one F1 average."""

    average: str
    a: float  # A's figure on the test movies
    b: float
    low: float  # the interval of A - B over the draws
    high: float
    share_a_better: float  # the share of draws in which A scores strictly more than B

    @property
    def difference(self) -> float:
        return self.a - self.b


def paired_bootstrap(
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    weights: np.ndarray,
    confidence: float = CONFIDENCE,
) -> dict[str, PairedComparison]:
    """Does A beat B? Both decisions are scored on the same draws of movies; per F1 average, the
    interval of the difference A - B and the share of draws in which A is better."""
    estimates_a, estimates_b = f1_estimates(y_true, pred_a), f1_estimates(y_true, pred_b)
    draws_a, draws_b = f1_draws(y_true, pred_a, weights), f1_draws(y_true, pred_b, weights)
    comparisons = {}
    for average in F1_AVERAGES:
        difference = draws_a[average] - draws_b[average]
        comparisons[average] = PairedComparison(
            average,
            estimates_a[average],
            estimates_b[average],
            *percentile_interval(difference, confidence),
            float(np.mean(difference > 0)),
        )
    return comparisons
