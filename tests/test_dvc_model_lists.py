"""One list names the models (dvc.yaml's `evaluated.models`): `evaluate` loops over it, and the stages
that read every model get it as `--models ...` and depend on the models' folders whole. Only `stack`
lists model files by hand (it writes into those folders, so it cannot depend on them): checked here
against params `stack.models`."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from movie_genres import paths
from movie_genres.params import StackParams, load_section, read_params
from movie_genres.pipeline import evaluated_models
from tests.conftest import ROOT

# The stages that read every model, and the folders of per-model files they depend on.
READ_EVERY_MODEL = {
    "choose_defaults": {paths.OUT_OF_FOLD, paths.CARDS, paths.DECISIONS},
    "gather_plots": {paths.PLOTS / "per_genre", paths.PLOTS / "pr_curve", paths.TRAINING_LOGS},
    "report": {paths.MODELS, paths.PREDICTIONS, paths.REPORTS / "models", paths.PLOTS / "per_genre"},
}


def _stages(root: Path) -> dict:
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        return {stage.name: stage for stage in repo.index.stages}


@pytest.fixture(scope="module")
def stages() -> dict:
    return _stages(ROOT)


def _deps(stage) -> set[Path]:
    return {Path(dep.def_path) for dep in stage.deps}


def test_the_stages_that_read_every_model_get_the_list_and_depend_on_the_models_folders(stages):
    models = evaluated_models(ROOT)
    for name, folders in READ_EVERY_MODEL.items():
        assert stages[name].cmd.split()[3:] == ["--models", *models]  # in the list's order: it decides ties
        assert folders <= _deps(stages[name]), (
            f"{name} does not depend on {sorted(map(str, folders - _deps(stages[name])))}"
        )
    assert {f"evaluate@{model}" for model in models} <= set(stages)


def test_stack_depends_on_every_model_a_stack_reads_and_writes_every_stack(stages):
    stack = stages["stack"]
    stacks = load_section(read_params(ROOT / "params.yaml"), "stack", StackParams).models
    assert set(stacks) <= set(evaluated_models(ROOT)), "every stacked model is evaluated"
    for name, components in stacks.items():
        read = {f(part) for part in components for f in (paths.out_of_fold_file, paths.predictions_file)}
        assert read <= _deps(stack), f"add to stack's deps in dvc.yaml: {sorted(map(str, read - _deps(stack)))}"
        written = {
            paths.model_file(name), paths.model_card(name), paths.predictions_file(name), paths.out_of_fold_file(name)
        }  # fmt: skip
        assert written <= {Path(out.def_path) for out in stack.outs}, f"stack does not write all of {name}'s files"


# What a user writes to add a model: its training stage (here a second linear SVM on the counts) ...
NEW_STAGE = """\
  train_svm_counts:
    cmd: python -m stages.train_linear svm_counts svm ${paths.text_counts}
    deps:
      - ${paths.code}/train_linear.json
      - ${paths.text_counts}
      - ${paths.dataset}
      - ${paths.genres}
    params: [out_of_fold, seed, train_svm_counts, training_input]
    outs:
      - ${paths.models}/svm_counts.pkl
      - ${paths.cards}/svm_counts.json
      - ${paths.predictions}/svm_counts.npz
      - ${paths.out_of_fold}/svm_counts.npz
      - ${paths.reports}/train/svm_counts.json:
          cache: false

"""


def _add_a_model(pipeline: str) -> str:
    """... and its name at the end of the models list."""
    lines = pipeline.splitlines(keepends=True)
    last = next(i for i, line in enumerate(lines) if line.strip().endswith("stack_details]"))
    lines[last] = lines[last].replace("stack_details]", "stack_details, svm_counts]")
    edited = "".join(lines)
    return edited.replace("  train_details_logreg:\n", NEW_STAGE + "  train_details_logreg:\n", 1)


def test_adding_a_model_is_its_training_stage_and_one_entry_in_the_models_list(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".dvc").mkdir(parents=True)
    (repo / ".dvc/config").write_text("[core]\n    no_scm = true\n")
    shutil.copy(ROOT / "paths.yaml", repo)
    shutil.copy(ROOT / "params.yaml", repo)
    original = (ROOT / "dvc.yaml").read_text()
    (repo / "dvc.yaml").write_text(_add_a_model(original))
    diff = list(difflib.unified_diff(original.splitlines(), (repo / "dvc.yaml").read_text().splitlines(), lineterm=""))
    print("\n".join(diff))  # `pytest -s` shows it
    removed = [line for line in diff[2:] if line.startswith("-")]
    added = [line for line in diff[2:] if line.startswith("+")]
    assert len(removed) == 1 and removed[0].rstrip().endswith("stack_details]")  # the list's last line
    assert len(added) == 1 + len(NEW_STAGE.splitlines())  # that line with the new name, and the stage

    stages = _stages(repo)
    assert "evaluate@svm_counts" in stages
    for name in READ_EVERY_MODEL:
        assert stages[name].cmd.split()[-1] == "svm_counts"
    writer = {Path(out.def_path): stage for stage in stages.values() for out in stage.outs}
    evaluated = _deps(stages["evaluate@svm_counts"])
    assert writer[paths.predictions_file("svm_counts")].name == "train_svm_counts"
    assert {paths.predictions_file("svm_counts"), paths.out_of_fold_file("svm_counts")} <= evaluated
