"""Outputs are written whole or not at all, with ordinary permissions."""

from __future__ import annotations

import os

import pytest

from movie_genres.files import atomic_path


def test_a_file_appears_whole_with_the_usual_permissions(tmp_path):
    target = tmp_path / "out" / "metrics.json"
    with atomic_path(target) as partial:
        partial.write_text("{}")
        assert not target.exists()  # nothing under the real name until the block ends
    assert target.read_text() == "{}"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert list(target.parent.iterdir()) == [target]


def test_a_failure_leaves_the_old_file_and_no_partial_one(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as partial:
        partial.write_text("half")
        raise RuntimeError("the stage failed")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
