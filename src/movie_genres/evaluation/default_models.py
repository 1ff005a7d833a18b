"""Which model `predict` uses by default for each set of inputs a movie comes with.

For each set of inputs (an overview; a poster; both; an overview and details; all three) the candidates
are the models those inputs can feed. The default starts from an incumbent: the default of the best
smaller set of inputs, or, for a set with none, the first usable model of the models list (the
tutorial's). It switches to the candidate with the best out-of-fold micro-F1 only when a paired
bootstrap over the training share's movies puts that candidate's gain above zero (95 % interval): a
model that reads more inputs, or costs more, has to earn its place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations

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
