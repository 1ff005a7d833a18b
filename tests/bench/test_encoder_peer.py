"""The encoder-against-peer benchmark's arithmetic and results file (no model, no torch)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.encoder_peer import (
    TARGET,
    build_document,
    closeness,
    ratios,
    side_figures,
    side_order,
    summarise,
    summary_line,
)


def a_run(repeat: int, project_encode_s: float, peer_encode_s: float, n: int = 100) -> dict:
    project = side_figures(
        n, wall_s=project_encode_s + 10, cpu_s=project_encode_s + 10, report={"encode_s": project_encode_s}
    )
    peer = side_figures(n, wall_s=peer_encode_s + 5, cpu_s=2 * (peer_encode_s + 5), report={"encode_s": peer_encode_s})
    run = {"repeat": repeat, "project": project, "peer": peer}
    return run | ratios(run)


def test_sides_take_turns_going_first() -> None:
    assert [side_order(repeat) for repeat in (1, 2, 3)] == [
        ("project", "peer"),
        ("peer", "project"),
        ("project", "peer"),
    ]


def test_a_sides_figures_split_start_up_from_the_encode_call() -> None:
    figures = side_figures(100, wall_s=12.0, cpu_s=18.0, report={"encode_s": 4.0})
    assert figures["texts_per_s"] == 25.0
    assert figures["texts_per_s_with_start_up"] == pytest.approx(8.33, abs=0.01)
    assert figures["start_up_s"] == 8.0
    assert figures["cpu_utilisation"] == 1.5


def test_the_ratio_is_project_over_peer_texts_per_second() -> None:
    run = a_run(1, project_encode_s=10.0, peer_encode_s=5.0)
    assert run["ratio"] == 0.5  # the project takes twice as long: half the peer's rate
    assert run["ratio_with_start_up"] == pytest.approx(10 / 20, abs=0.001)  # walls 20 s and 10 s


def test_medians_are_of_the_per_repeat_ratios() -> None:
    runs = [a_run(1, 10.0, 5.0), a_run(2, 8.0, 8.0), a_run(3, 9.0, 6.0)]
    summary = summarise(runs)
    assert summary["ratio"] == pytest.approx(6 / 9, abs=0.001)
    assert summary["medians"]["project"]["encode_s"] == 9.0
    assert summary["medians"]["peer"]["encode_s"] == 6.0


def test_the_document_carries_context_runs_medians_target_and_checks() -> None:
    runs = [a_run(1, 10.0, 5.0)]
    context = {"command": "python -m bench.encoder_peer --movies 100", "date": "2026-01-01", "commit": "abc"}
    document = build_document(context, {"texts": 100}, runs, {"min_cosine": 0.999999})
    assert json.loads(json.dumps(document)) == document  # writable as JSON as it is
    assert document["command"] == context["command"]
    assert document["runs"] == runs
    assert document["ratio"] == 0.5
    assert document["ratio_target"] == TARGET == 0.9
    assert "ratio project/peer 0.500" in summary_line(document)


def test_closeness_of_two_embeddings() -> None:
    rng = np.random.default_rng(0)
    project = rng.normal(size=(5, 8)).astype(np.float32)
    project /= np.linalg.norm(project, axis=1, keepdims=True)
    same = closeness(project, project.copy())
    assert same["max_abs_difference"] == 0.0
    assert same["min_cosine"] == pytest.approx(1.0, abs=1e-6)
    flipped = project.copy()
    flipped[2] *= -1
    assert closeness(project, flipped)["min_cosine"] == pytest.approx(-1.0, abs=1e-6)
