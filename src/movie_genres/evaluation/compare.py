"""Experiments side by side (`movie-genres compare`): what each changed, how its models score, and
whether the change is more than resampling noise. Pure: evaluation/experiments.py reads DVC.

Each model's test decisions in an experiment are judged against the same model's in the baseline by a
paired bootstrap over the baseline's test movies (the draws `evaluate` uses: `seed`,
`evaluate.bootstrap_draws`). The verdict reads the 95 % interval of the micro-F1 difference: above
zero "better", below zero "worse", otherwise "no clear difference".
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from movie_genres.evaluation.bootstrap import f1_estimates, paired_bootstrap

Verdict = Literal["better", "worse", "no clear difference", "not paired"]
# Only params.yaml's keys are named bare: it is where `dvc exp run -S key=value` writes.
MAIN_PARAMS_FILE = "params.yaml"
NOT_PAIRED_NOTE = (
    "not paired: the experiment's test movies or their genres differ from the baseline's (a split or data "
    "change), so no paired verdict; its Δ compares figures on different movies"
)
MISSING = "-"  # a model an experiment (or its baseline) has no predictions for


@dataclass(frozen=True)
class HeldOutMovies:
    """One revision's test movies and their true genres (rows in `movie_ids` order, columns `genres`)."""

    movie_ids: np.ndarray
    labels: np.ndarray
    genres: tuple[str, ...]

    def aligned_to(self, other: HeldOutMovies) -> np.ndarray | None:
        """Row positions that put these movies in `other`'s order, or None when the two are not the same
        test movies with the same genres (then no paired comparison is possible)."""
        if self.genres != other.genres or len(self.movie_ids) != len(other.movie_ids):
            return None
        position = {movie_id: i for i, movie_id in enumerate(self.movie_ids.tolist())}
        if set(position) != set(other.movie_ids.tolist()):
            return None
        order = np.array([position[m] for m in other.movie_ids.tolist()], dtype=int)
        return order if np.array_equal(self.labels[order], other.labels) else None


@dataclass(frozen=True)
class Judged:
    """One model in one row: its micro-F1 on the test movies; against the baseline (None on the
    baseline's own row), the difference and the verdict."""

    micro: float
    delta: float | None = None
    verdict: Verdict | None = None


def micro_f1(labels: np.ndarray, decisions: np.ndarray) -> float:
    return f1_estimates(labels, decisions)["micro"]


def verdict_of(low: float, high: float) -> Verdict:
    """The verdict of an experiment's micro-F1 difference from the bounds of its bootstrap interval."""
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "no clear difference"


def judge(
    baseline: HeldOutMovies,
    baseline_decisions: np.ndarray,
    experiment: HeldOutMovies,
    experiment_decisions: np.ndarray,
    weights: np.ndarray,
) -> Judged:
    """The experiment's model against the baseline's: decisions are movies x genres (0/1), in each
    side's `movie_ids` order; `weights` the bootstrap draws of the baseline's test movies."""
    micro = micro_f1(experiment.labels, experiment_decisions)
    order = experiment.aligned_to(baseline)
    if order is None:
        return Judged(micro, micro - micro_f1(baseline.labels, baseline_decisions), "not paired")
    paired = experiment_decisions[order]
    if np.array_equal(paired, baseline_decisions):
        # Every draw's difference is exactly zero: no need to score a thousand draws to know it.
        return Judged(micro, 0.0, "no clear difference")
    comparison = paired_bootstrap(baseline.labels, paired, baseline_decisions, weights)["micro"]
    return Judged(micro, comparison.difference, verdict_of(comparison.low, comparison.high))


# --- What an experiment changed ----------------------------------------------------------------------


def flatten(section: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested params as dotted keys (`train_svm.C`); lists stay values, as `dvc exp run -S` sets them."""
    flat: dict[str, Any] = {}
    for key, value in section.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def format_value(value: Any) -> str:
    """A value as `-S` takes it: YAML-like scalars (null, true), compact JSON for lists."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def changed_params(baseline: Mapping[str, Mapping[str, Any]], experiment: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """`key=value` for every param whose value the experiment changed, per params file (file -> its
    nested values); keys of files other than params.yaml start with `file:`, a dropped key reads
    `key=(removed)`."""
    changes = []
    for file in sorted(set(baseline) | set(experiment), key=lambda name: (name != MAIN_PARAMS_FILE, name)):
        before, after = flatten(baseline.get(file, {})), flatten(experiment.get(file, {}))
        prefix = "" if file == MAIN_PARAMS_FILE else f"{file}:"
        for key in [*before, *(k for k in after if k not in before)]:
            if key not in after:
                changes.append(f"{prefix}{key}=(removed)")
            elif key not in before or before[key] != after[key]:
                changes.append(f"{prefix}{key}={format_value(after[key])}")
    return changes


# --- The table ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    changes: str  # what the row changed, as one line ("key=value, key=value"); the baseline's says so
    results: Mapping[str, Judged]  # model -> its figures; a model the row lacks is absent


def sorted_by(rows: Sequence[Row], model: str) -> list[Row]:
    """Best first by `model`'s micro-F1; rows without it last; ties by name (a stable order)."""

    def key(row: Row) -> tuple[float, str]:
        judged = row.results.get(model)
        return (-judged.micro if judged is not None else np.inf, row.name)

    return sorted(rows, key=key)


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def cell(judged: Judged | None) -> str:
    """`0.6320 +0.0057 better`; the baseline's own figure alone."""
    if judged is None:
        return MISSING
    if judged.delta is None:
        return f"{judged.micro:.4f}"
    return f"{judged.micro:.4f} {judged.delta:+.4f} {judged.verdict}"


@dataclass(frozen=True)
class Style:
    """How a table's columns are joined: its lines are `left + separator.join(cells) + right`."""

    left: str
    separator: str
    right: str

    def width(self, columns: Sequence[int]) -> int:
        return len(self.left) + len(self.separator) * (len(columns) - 1) + sum(columns) + len(self.right)


TEXT = Style("", "  ", "")
MARKDOWN = Style("| ", " | ", " |")
NAME_WIDTH = 24  # an experiment name longer than this is shortened (DVC's generated ones are ~12)
CHANGES_MIN_WIDTH = 16  # the changed params never get fewer columns: they are what tells rows apart
WIDEST_CELL = len("0.0000 +0.0000 no clear difference")  # model names are shorter
# The narrowest `width` every table keeps to: a first block of the longest name, the changes' minimum and
# the widest cell, joined as markdown.
MIN_WIDTH = MARKDOWN.width([NAME_WIDTH, CHANGES_MIN_WIDTH, WIDEST_CELL])


def _blocks(fixed: Sequence[int], models: Sequence[int], style: Style, width: int) -> list[list[int]]:
    """The model columns (their indexes) of each block: as many as fit beside the first block's
    `fixed` columns (name and changes), or beside the name column alone in later blocks; at least one."""
    blocks: list[list[int]] = []
    for index, model_width in enumerate(models):
        key = fixed if len(blocks) == 1 else fixed[:1]
        if blocks and style.width([*key, *(models[i] for i in blocks[-1]), model_width]) <= width:
            blocks[-1].append(index)
        else:
            blocks.append([index])
    return blocks


def _render_block(header: list[str], body: list[list[str]], widths: list[int], style: Style) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return (style.left + style.separator.join(c.ljust(w) for c, w in zip(cells, widths)) + style.right).rstrip()

    rule = ["-" * w for w in widths]
    return [line(header), line(rule), *(line(cells) for cells in body)]


def table(rows: Sequence[Row], models: Sequence[str], width: int = 120, markdown: bool = False) -> list[str]:
    """The rows as a text (or GitHub markdown) table no line of which is wider than `width`: one row per
    experiment, a column per model. Models that do not fit beside the experiment and its changes go to
    further blocks below, each repeating the experiment's name."""
    style = MARKDOWN if markdown else TEXT
    escape = (lambda text: text.replace("|", "\\|")) if markdown else (lambda text: text)
    names = [shorten(escape(row.name), NAME_WIDTH) for row in rows]
    columns = {model: [escape(cell(row.results.get(model))) for row in rows] for model in models}
    model_widths = [max(len(model), *map(len, columns[model])) for model in models]
    name_width = max(len("experiment"), *map(len, names))
    # The changes take what the widest first-block model column leaves, at least CHANGES_MIN_WIDTH.
    room = width - style.width([name_width, max(model_widths, default=0)])
    natural = max(len("changed params"), *(len(escape(row.changes)) for row in rows))
    changes_width = max(CHANGES_MIN_WIDTH, min(natural, room - len(style.separator)))
    changes = [shorten(escape(row.changes), changes_width) for row in rows]
    lines: list[str] = []
    for number, block in enumerate(_blocks([name_width, changes_width], model_widths, style, width)):
        keys: list[tuple[str, list[str], int]] = [("experiment", names, name_width)]
        if number == 0:
            keys.append(("changed params", changes, changes_width))
        header = [k[0] for k in keys] + [models[i] for i in block]
        body = [[k[1][r] for k in keys] + [columns[models[i]][r] for i in block] for r in range(len(rows))]
        if lines:
            lines.append("")
        lines.extend(_render_block(header, body, [k[2] for k in keys] + [model_widths[i] for i in block], style))
    return lines


def legend(rows: Sequence[Row], draws: int, width: int = 120) -> list[str]:
    """What the cells mean, wrapped to `width`; the not-paired note only where a row has that verdict."""
    text = [
        "micro-F1 on the test movies under the tuned per-genre thresholds (the rule predict applies), its Δ "
        f"against the baseline, and the verdict of a paired bootstrap ({draws} draws of the baseline's test "
        'movies): the 95 % interval of Δ above zero "better", below "worse", else "no clear difference"'
    ]
    if any(judged.verdict == "not paired" for row in rows for judged in row.results.values()):
        text.append(NOT_PAIRED_NOTE)
    return [line for paragraph in text for line in textwrap.wrap(paragraph, width)]
