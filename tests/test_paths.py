"""paths: a stage that depends on a folder of per-model files refuses one of no listed model."""

from __future__ import annotations

import pytest

from movie_genres import paths
from movie_genres.errors import UserError


def test_a_folder_of_the_listed_models_files_passes(tmp_path):
    for name in ("svm.npz", "nb.npz", ".gitignore"):  # DVC's .gitignore is no model's file
        (tmp_path / name).write_text("")
    paths.require_only_models(tmp_path, ["svm", "nb"], ".npz")


def test_a_file_of_another_model_is_named_with_the_fix(tmp_path):
    for name in ("svm.npz", "old_model.npz"):
        (tmp_path / name).write_text("")
    with pytest.raises(UserError) as raised:
        paths.require_only_models(tmp_path, ["svm", "nb"], ".npz")
    assert f"{tmp_path}/ holds old_model.npz, of no model in dvc.yaml's models list" in str(raised.value)
    assert "delete what a removed model left there" in str(raised.value)
