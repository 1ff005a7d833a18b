"""predict's defaults: a model that reads more inputs, or scores higher, replaces the incumbent only when
its paired gain is above zero."""

import numpy as np

from movie_genres.evaluation.bootstrap import bootstrap_weights
from movie_genres.evaluation.default_models import OutOfFoldDecisions, choose_defaults, input_key, input_sets

NEEDS = {
    "svm": frozenset({"overview"}),
    "stack_text": frozenset({"overview"}),
    "poster_mlp": frozenset({"poster"}),
    "stack_text_poster": frozenset({"overview", "poster"}),
    "details_logreg": frozenset({"overview", "details"}),
}
SCORES = {"svm": 0.53, "stack_text": 0.60, "poster_mlp": 0.45, "stack_text_poster": 0.61, "details_logreg": 0.66}


def compare_with(significant: set[tuple[str, str]]):
    """A paired comparison whose interval is above zero exactly for the (a, b) pairs given."""

    def compare(a: str, b: str) -> tuple[float, float, float]:
        gain = SCORES[a] - SCORES[b]
        return (gain, 0.001, 2 * gain) if (a, b) in significant else (gain, -0.01, 2 * gain)

    return compare


def test_the_input_sets_are_those_some_model_can_use_smaller_first():
    assert [input_key(s) for s in input_sets(NEEDS)] == [
        "overview",
        "poster",
        "overview+poster",
        "overview+details",
        "overview+poster+details",
    ]


def test_a_better_model_is_taken_only_when_its_gain_is_significant():
    significant = {("stack_text", "svm"), ("details_logreg", "stack_text")}
    choices = {c.inputs: c for c in choose_defaults(list(NEEDS), NEEDS, SCORES.__getitem__, compare_with(significant))}
    # Overview alone: the first usable model (svm) is the incumbent; stack_text beats it.
    assert (choices["overview"].incumbent, choices["overview"].model) == ("svm", "stack_text")
    assert choices["poster"].model == "poster_mlp"
    # The poster adds 0.01 that the interval does not confirm: the text model stays the default.
    both = choices["overview+poster"]
    assert (both.incumbent, both.best, both.model) == ("stack_text", "stack_text_poster", "stack_text")
    assert choices["overview+details"].model == "details_logreg"
    # With all three, the incumbent is the best smaller set's default, and nothing beats it.
    assert choices["overview+poster+details"].model == "details_logreg"
    assert choices["overview+poster+details"].gain == 0.0


def test_with_every_gain_significant_the_best_model_wins_everywhere():
    every = {(a, b) for a in NEEDS for b in NEEDS}
    choices = choose_defaults(list(NEEDS), NEEDS, SCORES.__getitem__, compare_with(every))
    for choice in choices:
        assert choice.model == choice.best


def test_the_micro_gain_is_paired_and_signed():
    rng = np.random.default_rng(0)
    labels = (rng.random((200, 5)) < 0.3).astype(int)
    noisy = np.where(rng.random(labels.shape) < 0.2, 1 - labels, labels)
    decisions = OutOfFoldDecisions(np.arange(200), {"exact": labels, "noisy": noisy}, {"exact": 1.0, "noisy": 0.7})
    compare = decisions.micro_gain(labels, bootstrap_weights(200, 300, 0))
    gain, low, high = compare("exact", "noisy")
    assert 0 < low < gain < high
    assert compare("noisy", "exact") == (-gain, -high, -low)
    assert compare("noisy", "noisy") == (0.0, 0.0, 0.0)
