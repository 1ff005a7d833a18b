"""DVC's experiments, read for `movie-genres compare`: which experiments HEAD has, what each changed,
and each model's tuned test decisions at each revision (read through dvc.api, from git and the local
DVC cache where `dvc exp run` left the outputs). The judging and the table: evaluation/compare.py.

Runs at the repository root (movie_genres.paths reads paths.yaml there), like every command.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from movie_genres import paths
from movie_genres.data.dataset import subset_mask
from movie_genres.evaluation.bootstrap import bootstrap_weights
from movie_genres.evaluation.compare import (
    MAIN_PARAMS_FILE,
    HeldOutMovies,
    Judged,
    Row,
    changed_params,
    judge,
    micro_f1,
    sorted_by,
)
from movie_genres.models.predictions import at_least_one_genre, load_predictions
from movie_genres.models.training import load_labels
from movie_genres.params import EvaluateParams, load_section, load_seed


@dataclass(frozen=True)
class Revision:
    """A commit `dvc exp show` lists: a baseline (with its experiments) or one experiment."""

    name: str
    rev: str  # the full commit hash
    params: dict[str, dict[str, Any]]  # params file -> its values
    metrics: dict[str, dict[str, Any]]  # metrics file -> its values
    experiments: list[Revision] = field(default_factory=list)


def _file_values(results: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """{file: {"data": values}} (where DVC could not read a file: {"error": ...}) as {file: values}."""
    return {name: result.get("data") or {} for name, result in (results or {}).items()}


def _revision(state: dict[str, Any], name: str | None, experiments: list[Revision]) -> Revision:
    data = state["data"]
    label = name or state.get("name") or state["rev"][:7]
    return Revision(label, state["rev"], _file_values(data["params"]), _file_values(data["metrics"]), experiments)


def _finished(run: dict[str, Any]) -> bool:
    """A saved experiment (no executor left) or one whose executor succeeded; queued, running and failed
    ones have no outputs to compare."""
    state = (run.get("executor") or {}).get("state", "success")
    return state == "success" and bool(run["revs"] and run["revs"][0].get("data"))


def baselines(shown: list[dict[str, Any]]) -> list[Revision]:
    """The baselines of `dvc exp show --json` (its list of states), each with its finished experiments."""
    return [
        _revision(
            state,
            None,
            [
                _revision(run["revs"][0], run.get("name"), [])
                for run in state.get("experiments") or []
                if _finished(run)
            ],
        )
        for state in shown
        if state["rev"] != "workspace" and state.get("data")
    ]


def show_experiments(repo: str = ".") -> list[Revision]:
    """HEAD and its experiments: what `dvc exp show --json` prints, without the workspace."""
    from dvc.repo import Repo

    with Repo(repo) as dvc_repo:
        states = dvc_repo.experiments.show(hide_queued=True, hide_failed=True, hide_workspace=True)
        return baselines([state.dumpd() for state in states])


# --- Files at a revision ------------------------------------------------------------------------------


class RevisionFiles:
    """The repository's files as they were at one commit: git-tracked ones and DVC outputs alike."""

    def __init__(self, repo: str, rev: str) -> None:
        from dvc.api import DVCFileSystem

        self._fs = DVCFileSystem(repo, rev=rev)

    def exists(self, path: Path) -> bool:
        return bool(self._fs.exists(path.as_posix()))

    def read(self, path: Path) -> bytes:
        with self._fs.open(path.as_posix(), mode="rb") as file:
            return bytes(file.read())

    def bytes_of(self, path: Path) -> io.BytesIO:
        return io.BytesIO(self.read(path))


def test_movies(files: RevisionFiles) -> HeldOutMovies:
    """The test movies `evaluate` judged at this revision, with their true genres."""
    dataset, labels, genres = load_labels(files.bytes_of(paths.GENRES), files.bytes_of(paths.DATASET))
    test = subset_mask(dataset, "test")
    return HeldOutMovies(dataset["movie_id"].to_numpy()[test], labels[test], tuple(genres))


def tuned_test_decisions(files: RevisionFiles, movies: HeldOutMovies, model: str) -> np.ndarray | None:
    """The model's test decisions under the rule predict applies: the thresholds `evaluate` tuned and wrote
    (models/decisions/<model>.json, exact), at least one genre a movie; so the micro-F1 is the revision's
    metrics/<model>.json `micro`. None where the revision has no predictions of the model."""
    if not files.exists(paths.predictions_file(model)):
        return None
    scores = load_predictions(files.bytes_of(paths.predictions_file(model))).rows(movies.movie_ids)
    thresholds = json.loads(files.read(paths.model_decision(model)))["thresholds"]
    return at_least_one_genre(scores, np.array([thresholds[genre] for genre in movies.genres]))


# --- Which models -------------------------------------------------------------------------------------


def default_models(files: RevisionFiles) -> list[str]:
    """predict's default model of each input set (models/defaults.json), each once, in the file's order."""
    choices = json.loads(files.read(paths.DEFAULT_MODELS))
    return list(dict.fromkeys(choice["model"] for choice in choices.values()))


def models_with_metrics(revision: Revision) -> list[str]:
    """Every model with a headline metrics file (metrics/<model>.json holding `micro`), in DVC's order."""
    return [
        Path(file).stem
        for file, values in revision.metrics.items()
        if Path(file) == paths.model_metrics(Path(file).stem) and "micro" in values
    ]


# --- The comparison -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    baseline: Row
    experiments: list[Row]  # best first by the first model
    draws: int  # bootstrap draws of each verdict


def compare(baseline: Revision, models: Sequence[str], repo: str = ".") -> Comparison:
    """Each model of each experiment of `baseline` against the baseline's, on the draws `evaluate` uses
    (the baseline's `seed` and `evaluate.bootstrap_draws`)."""
    files = RevisionFiles(repo, baseline.rev)
    movies = test_movies(files)
    raw = baseline.params.get(MAIN_PARAMS_FILE, {})
    draws = load_section(raw, "evaluate", EvaluateParams).bootstrap_draws
    weights = bootstrap_weights(len(movies.movie_ids), draws, load_seed(raw))
    decided = {model: tuned_test_decisions(files, movies, model) for model in models}
    reference = {m: d for m, d in decided.items() if d is not None}
    baseline_row = Row(
        baseline.name,
        f"(baseline {baseline.rev[:7]})",
        {model: Judged(micro_f1(movies.labels, d)) for model, d in reference.items()},
    )
    rows = []
    for experiment in baseline.experiments:
        exp_files = RevisionFiles(repo, experiment.rev)
        exp_movies = test_movies(exp_files)
        results = {}
        for model, base_decisions in reference.items():
            decisions = tuned_test_decisions(exp_files, exp_movies, model)
            if decisions is not None:
                results[model] = judge(movies, base_decisions, exp_movies, decisions, weights)
        changes = ", ".join(changed_params(baseline.params, experiment.params)) or "(nothing)"
        rows.append(Row(experiment.name, changes, results))
    return Comparison(baseline_row, sorted_by(rows, models[0]) if models else rows, draws)
