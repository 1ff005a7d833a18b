"""Which model `predict` uses by default for each set of inputs a movie comes with.

For each set of inputs (an overview; a poster; both; an overview and details; all three) the candidates
are the models those inputs can feed. The default starts from an incumbent: the default of the best
smaller set of inputs, or, for a set with none, the first usable model of the models list (the
tutorial's). It switches to the candidate with the best out-of-fold micro-F1 only when a paired
bootstrap over the training share's movies puts that candidate's gain above zero (95 % interval): a
model that reads more inputs, or costs more, has to earn its place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations

import numpy as np

from movie_genres import paths
from movie_genres.evaluation.bootstrap import paired_bootstrap
from movie_genres.models.predictions import at_least_one_genre, load_predictions

INPUTS = ("overview", "poster", "details")


def input_key(inputs: frozenset[str] | set[str]) -> str:
    """ "overview+poster": the inputs in INPUTS order, the key of models/defaults.json."""
    return "+".join(name for name in INPUTS if name in inputs)


@dataclass(frozen=True)
class DefaultChoice:
    inputs: str  # input_key of the set
    model: str  # the default
    incumbent: str  # what it had to beat
    best: str  # the candidate with the best out-of-fold micro-F1
    gain: float  # best - incumbent, out-of-fold micro-F1
    gain_low: float  # the gain's 95 % paired-bootstrap interval
    gain_high: float

    def as_dict(self) -> dict:
        return asdict(self)


def input_sets(needs: Mapping[str, frozenset[str]]) -> list[frozenset[str]]:
    """Every set of inputs whose every input some usable model reads, smaller sets first (a poster and
    details with no overview is not one: no model reads details without an overview)."""
    every = [frozenset(c) for size in range(1, len(INPUTS) + 1) for c in combinations(INPUTS, size)]
    return [inputs for inputs in every if frozenset().union(*(n for n in needs.values() if n <= inputs)) == inputs]


def choose_defaults(
    models: Sequence[str],
    needs: Mapping[str, frozenset[str]],
    score: Callable[[str], float],
    compare: Callable[[str, str], tuple[float, float, float]],
) -> list[DefaultChoice]:
    """The default of every input set. `score(m)` is m's out-of-fold micro-F1; `compare(a, b)` the
    paired difference a - b and its interval (low, high)."""
    chosen: dict[frozenset[str], DefaultChoice] = {}
    for inputs in input_sets(needs):
        usable = [m for m in models if needs[m] <= inputs]
        smaller = [choice.model for subset, choice in chosen.items() if subset < inputs]
        incumbent = max(smaller, key=lambda m: (score(m), m)) if smaller else usable[0]
        best = max(usable, key=lambda m: (score(m), m))
        gain, low, high = compare(best, incumbent) if best != incumbent else (0.0, 0.0, 0.0)
        model = best if low > 0 else incumbent
        chosen[inputs] = DefaultChoice(input_key(inputs), model, incumbent, best, gain, low, high)
    return list(chosen.values())


@dataclass(frozen=True)
class OutOfFoldDecisions:
    """What each model decides for the training share's movies: its out-of-fold scores under its tuned
    thresholds (at least one genre a movie), with its out-of-fold micro-F1, as `evaluate` wrote them."""

    movie_ids: np.ndarray
    decided: dict[str, np.ndarray]  # model -> (movies, genres) 0/1
    micro_f1: dict[str, float]

    @classmethod
    def read(cls, models: Sequence[str], genre_names: Sequence[str]) -> OutOfFoldDecisions:
        scores = {model: load_predictions(paths.out_of_fold_file(model)) for model in models}
        movie_ids = scores[models[0]].movie_ids
        decided, micro_f1 = {}, {}
        for model in models:
            decision = json.loads(paths.model_decision(model).read_text())
            thresholds = np.array([decision["thresholds"][genre] for genre in genre_names])
            decided[model] = at_least_one_genre(scores[model].rows(movie_ids), thresholds)
            micro_f1[model] = float(decision["out_of_fold_f1_micro"])
        return cls(movie_ids, decided, micro_f1)

    def micro_gain(self, labels: np.ndarray, weights: np.ndarray) -> Callable[[str, str], tuple[float, float, float]]:
        """compare(a, b): a's micro-F1 minus b's on these movies (`labels`, in `movie_ids` order), with
        its 95 % paired-bootstrap interval over `weights`, rounded to 4 places."""

        def compare(a: str, b: str) -> tuple[float, float, float]:
            micro = paired_bootstrap(labels, self.decided[a], self.decided[b], weights)["micro"]
            return round(micro.difference, 4), round(micro.low, 4), round(micro.high, 4)

        return compare
