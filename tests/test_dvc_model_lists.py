"""dvc.yaml lists the models by hand where a stage is not a `foreach` over `vars.models` (its top-level
fields cannot loop). These tests fail when a model is added to `vars.models` or to params `stack.models`
and one of those hand-made lists misses it. (The report's list: tests/evaluation/test_report.py; the
plots': tests/evaluation/test_plots_page.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from movie_genres import paths
from movie_genres.params import StackParams, load_section, read_params
from tests.conftest import ROOT
from tests.dvc_repo import evaluated_models


@pytest.fixture(scope="module")
def stages() -> dict:
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        return {stage.name: stage for stage in repo.index.stages}


def _deps(stage) -> set[Path]:
    return {Path(dep.def_path) for dep in stage.deps}


def test_choose_defaults_reads_every_evaluated_model(stages):
    stage = stages["choose_defaults"]
    models = evaluated_models(ROOT)
    assert stage.cmd.split()[3:] == models  # in the models list's order: the order decides ties
    for model in models:
        wanted = {paths.out_of_fold_file(model), paths.model_decision(model), paths.model_card(model)}
        assert wanted <= _deps(stage), f"choose_defaults does not depend on {sorted(map(str, wanted - _deps(stage)))}"


def test_stack_depends_on_every_model_a_stack_reads_and_writes_every_stack(stages):
    stack = stages["stack"]
    stacks = load_section(read_params(ROOT / "params.yaml"), "stack", StackParams).models
    assert set(stacks) <= set(evaluated_models(ROOT)), "every stacked model is evaluated"
    for name, components in stacks.items():
        read = {f(part) for part in components for f in (paths.out_of_fold_file, paths.predictions_file)}
        assert read <= _deps(stack), f"stack does not depend on {sorted(map(str, read - _deps(stack)))}"
        written = {
            paths.model_file(name), paths.model_card(name), paths.predictions_file(name), paths.out_of_fold_file(name)
        }  # fmt: skip
        assert written <= {Path(out.def_path) for out in stack.outs}, f"stack does not write all of {name}'s files"


def test_dvc_lock_holds_exactly_the_stages_of_dvc_yaml(stages):
    """A stage renamed or removed in dvc.yaml leaves its entry in dvc.lock until a full `dvc repro`
    (or `dvc commit`) rewrites the file: stale entries mislead `dvc status` readers and reviewers."""
    import yaml

    locked = set(yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"])
    defined = {stage.addressing for stage in stages.values()}
    assert locked - defined == set(), (
        "dvc.lock has stages dvc.yaml no longer defines: run `dvc repro` and commit dvc.lock"
    )
    assert defined - locked == set(), "dvc.yaml has stages dvc.lock lacks: run `dvc repro` and commit dvc.lock"
