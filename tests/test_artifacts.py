"""DVC's model registry: dvc.yaml's `artifacts` name predict's default models, and a consumer gets them.

An artifact is one path, so each default model's artifact is its model file, with the other files
predict reads for it in `meta.reads`; the `models` artifact is the whole folder. The lists are written
by hand (DVC cannot loop in `artifacts`): these tests derive them from models/defaults.json, params.yaml
and the stages, and name the fix. The end-to-end test publishes a small-profile run through a local
DVC remote and gets the artifacts from a separate directory with `dvc artifacts get`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from movie_genres import paths
from movie_genres.params import StackParams, load_section, read_params
from tests.conftest import ROOT
from tests.dvc_repo import copy_workspace, dvc, git

FOLDER = "models"  # the artifact for all of models/
VERSION = "v1.0.0"


@pytest.fixture(scope="module")
def project():
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        artifacts = repo.artifacts.read()["dvc.yaml"]
        writers = {Path(out.def_path): stage for stage in repo.index.stages for out in stage.outs}
    return artifacts, writers


def _defaults() -> dict[str, str]:
    """Input set -> predict's default model (stage choose_defaults; the file is git-tracked)."""
    return {inputs: entry["model"] for inputs, entry in json.loads((ROOT / paths.DEFAULT_MODELS).read_text()).items()}


def _stacks() -> dict[str, list[str]]:
    return load_section(read_params(ROOT / "params.yaml"), "stack", StackParams).models


def _in_models(stage) -> list[Path]:
    return [Path(out.def_path) for out in stage.outs if Path(out.def_path).parent == paths.MODELS]


def _model_path(name: str, writers) -> Path:
    """The model file the stage that writes `name`'s card writes beside it (.pkl or .keras)."""
    written = _in_models(writers[paths.model_card(name)])
    return next(p for p in written if p.stem == name and p.suffix != ".json")


def _featurizers(name: str, writers) -> list[Path]:
    """The files under models/ that the stages computing `name`'s feature files write: its featurizers."""
    features = [Path(d.def_path) for d in writers[paths.model_card(name)].deps if writers.get(Path(d.def_path))]
    return [p for f in features if f.parent == paths.TEXT_COUNTS.parent for p in _in_models(writers[f])]


def predict_reads(name: str, writers) -> list[str]:
    """What predict reads for model `name` besides its model file: the card and thresholds, each
    component's model file and card (a stacked model), the featurizers of the features its leaves
    were trained on, defaults.json and the genre list (movie_genres/predict/api.py and features.py)."""
    components = _stacks().get(name, [])
    files = [paths.model_card(name), paths.model_decision(name)]
    for component in components:
        files += [_model_path(component, writers), paths.model_card(component)]
    featurizers = {p for leaf in components or [name] for p in _featurizers(leaf, writers)}
    return [str(p) for p in [*files, *sorted(featurizers), paths.DEFAULT_MODELS, paths.GENRES]]


def test_the_artifacts_are_predicts_default_models(project):
    artifacts, _ = project
    defaults = _defaults()
    named = {name: artifact.meta.get("inputs") for name, artifact in artifacts.items() if name != FOLDER}
    assert named == {model: inputs for inputs, model in defaults.items()}, (
        f"models/defaults.json names {defaults}: make dvc.yaml's `artifacts` (besides `{FOLDER}`) exactly "
        "these models, each with `meta.inputs` its input set"
    )


def test_each_artifact_is_its_model_file_with_what_predict_reads_beside_it(project):
    artifacts, writers = project
    stacks = _stacks()
    for name, artifact in artifacts.items():
        if name == FOLDER:
            continue
        assert artifact.type == "model" and artifact.desc and "default" in artifact.labels, name
        assert artifact.path == str(_model_path(name, writers)), f"set artifacts.{name}.path to the model file"
        assert artifact.meta.get("components") == stacks.get(name), (
            f"set artifacts.{name}.meta.components in dvc.yaml to params.yaml's stack.models.{name}"
        )
        wanted = predict_reads(name, writers)
        assert artifact.meta["reads"] == wanted, f"set artifacts.{name}.meta.reads in dvc.yaml to [{', '.join(wanted)}]"


def test_the_folder_artifact_is_models_and_names_the_one_file_outside_it(project):
    artifacts, _ = project
    folder = artifacts[FOLDER]
    assert folder.path == str(paths.MODELS) and folder.type == "model"
    assert folder.meta["reads"] == [str(paths.GENRES)]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}


@pytest.mark.e2e
def test_a_consumer_gets_the_artifacts_through_the_remote(small_profile_repo, tmp_path):
    """Publish: a local remote committed, version tags (GTO's `<name>@v1.0.0`, which `dvc artifacts get`
    resolves a version by), `dvc push`, and a bare clone as the shared git server. The consumer is a
    plain directory; the clone DVC makes of the bare repository has no cache, so every byte comes from
    the remote."""
    from dvc.api import artifacts_show

    model = _defaults()["overview"]
    producer = copy_workspace(small_profile_repo, tmp_path / "producer")
    dvc("remote", "add", "-d", "local", str(tmp_path / "remote"), cwd=producer)
    git("commit", "-q", "-m", "the team's remote", ".dvc/config", cwd=producer)
    for name in (model, FOLDER):
        git("tag", "-a", f"{name}@{VERSION}", "-m", f"register {name} {VERSION}", cwd=producer)
    dvc("push", "-q", cwd=producer)
    origin = tmp_path / "origin.git"
    git("clone", "-q", "--bare", str(producer), str(origin), cwd=tmp_path)
    consumer = tmp_path / "consumer"
    consumer.mkdir()

    dvc("artifacts", "get", str(origin), model, cwd=consumer)
    model_file = producer / paths.model_file(model)
    assert (consumer / model_file.name).read_bytes() == model_file.read_bytes()

    dvc("artifacts", "get", str(origin), FOLDER, cwd=consumer)
    assert _files(consumer / FOLDER) == _files(producer / paths.MODELS)

    shown = artifacts_show(model, repo=str(origin))
    head = git("rev-parse", "HEAD", cwd=producer).strip()
    assert shown == {"rev": head, "path": str(paths.model_file(model))}
