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
import pandas as pd

from movie_genres import paths
from movie_genres.data.dataset import label_matrix, subset_mask
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
from movie_genres.evaluation.evaluate import HEADLINE_RULE, decide
from movie_genres.models.predictions import Predictions
from movie_genres.models.training import labels_of
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

    def predictions(self, path: Path) -> Predictions:
        """models.predictions.load_predictions, from the bytes at this revision."""
        with np.load(io.BytesIO(self.read(path))) as npz:
            return Predictions(npz["movie_ids"], npz["scores"], str(npz["kind"]))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Labelled:
    """One revision's modelling table (ids, subsets, genres), its label matrix and its test movies."""

    dataset: pd.DataFrame
    labels: np.ndarray
    test: HeldOutMovies


def labelled(files: RevisionFiles) -> Labelled:
    """models.training.load_labels at this revision, and the test movies `evaluate` judged."""
    genres = pd.read_csv(io.BytesIO(files.read(paths.GENRES)))
    dataset = pd.read_parquet(io.BytesIO(files.read(paths.DATASET)), columns=["movie_id", "subset", "genre_ids"])
    labels = label_matrix(dataset["genre_ids"], genres["genre_id"].tolist())
    test = subset_mask(dataset, "test")
    movies = HeldOutMovies(dataset["movie_id"].to_numpy()[test], labels[test], tuple(genres["name"].tolist()))
    return Labelled(dataset, labels, movies)


def tuned_test_decisions(files: RevisionFiles, data: Labelled, model: str, params: EvaluateParams) -> np.ndarray | None:
    """The model's test decisions under the rule predict applies, computed as `evaluate` computes its
    headline (thresholds tuned on the out-of-fold scores), so the micro-F1 is metrics/<model>.json's at
    any revision (one from before evaluate wrote its thresholds unrounded too). None where the revision
    has no predictions of the model."""
    if not files.exists(paths.predictions_file(model)):
        return None
    out_of_fold = files.predictions(paths.out_of_fold_file(model))
    decisions = decide(
        files.predictions(paths.predictions_file(model)),
        out_of_fold,
        labels_of(out_of_fold.movie_ids, data.dataset, data.labels),
        data.test.movie_ids,
        params.top_k,
        params.min_positives,
    )
    return decisions.test[HEADLINE_RULE]


# --- Which models -------------------------------------------------------------------------------------


def default_models(files: RevisionFiles) -> list[str]:
    """predict's default model of each input set (models/defaults.json), each once, in the file's order."""
    choices = json.loads(files.read(paths.DEFAULT_MODELS))
    return list(dict.fromkeys(choice["model"] for choice in choices.values()))


def evaluated_models(revision: Revision) -> list[str]:
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


def _evaluate_params(revision: Revision) -> EvaluateParams:
    return load_section(revision.params.get(MAIN_PARAMS_FILE, {}), "evaluate", EvaluateParams)


def compare(baseline: Revision, models: Sequence[str], repo: str = ".") -> Comparison:
    """Each model of each experiment of `baseline` against the baseline's, on the draws `evaluate` uses
    (the baseline's `seed` and `evaluate.bootstrap_draws`)."""
    files = RevisionFiles(repo, baseline.rev)
    data = labelled(files)
    params = _evaluate_params(baseline)
    seed = load_seed(baseline.params.get(MAIN_PARAMS_FILE, {}))
    weights = bootstrap_weights(len(data.test.movie_ids), params.bootstrap_draws, seed)
    decided = {model: tuned_test_decisions(files, data, model, params) for model in models}
    reference = {m: d for m, d in decided.items() if d is not None}
    baseline_row = Row(
        baseline.name,
        f"(baseline {baseline.rev[:7]})",
        {model: Judged(micro_f1(data.test.labels, d)) for model, d in reference.items()},
    )
    rows = []
    for experiment in baseline.experiments:
        exp_files = RevisionFiles(repo, experiment.rev)
        exp_data = labelled(exp_files)
        exp_params = _evaluate_params(experiment)
        results = {}
        for model, base_decisions in reference.items():
            decisions = tuned_test_decisions(exp_files, exp_data, model, exp_params)
            if decisions is not None:
                results[model] = judge(data.test, base_decisions, exp_data.test, decisions, weights)
        changes = ", ".join(changed_params(baseline.params, experiment.params)) or "(nothing)"
        rows.append(Row(experiment.name, changes, results))
    return Comparison(baseline_row, sorted_by(rows, models[0]) if models else rows, params.bootstrap_draws)
