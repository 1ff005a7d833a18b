"""`movie-genres compare` end to end: two real `dvc exp run`s on a copy of the small profile, one that
changes the default text model, one that changes nothing any model sees. The repository is shared by
every test here (and every worker): the tests only read it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from movie_genres import paths
from movie_genres.evaluation.experiments import compare, models_with_metrics, show_experiments
from tests.dvc_repo import EXPERIMENTS, copy_workspace, dvc, run

pytestmark = pytest.mark.e2e

# `experimented` (tests/conftest.py): the small profile with these two run, shared by the workers.
REAL_CHANGE = ("svm-c", EXPERIMENTS["svm-c"])  # the SVM with another C
NO_CHANGE = ("report-only", EXPERIMENTS["report-only"])  # reruns the report alone: no model sees it
VERDICTS = ("better", "worse", "no clear difference")


def compare_output(repo: Path, *args: str) -> list[str]:
    done = run([sys.executable, "-m", "movie_genres", "compare", *args], repo)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def parse(lines: list[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The model columns in order and each row's cells by column, from every block of a text or markdown table."""
    models: list[str] = []
    rows: dict[str, dict[str, str]] = {}
    for block in "\n".join(lines).split("\n\n"):
        table = block.splitlines()
        if not table[0].lstrip("| ").startswith("experiment"):
            continue  # the legend
        markdown = table[0].startswith("|")
        split = (
            (lambda line: [c.strip() for c in line.strip("|").split(" | ")])
            if markdown
            else re.compile(r"\s{2,}").split
        )
        header = split(table[0].rstrip())
        models += [column for column in header if column not in ("experiment", "changed params")]
        for line in table[2:]:
            cells = split(line.rstrip())
            rows.setdefault(cells[0], {}).update(zip(header[1:], cells[1:]))
    return models, rows


def default_models(repo: Path) -> list[str]:
    defaults = json.loads((repo / paths.DEFAULT_MODELS).read_text())
    return list(dict.fromkeys(choice["model"] for choice in defaults.values()))


def assert_sorted_by_first_model(models: list[str], rows: dict[str, dict[str, str]]) -> None:
    experiments = [name for name in rows if name != "main"]
    micro = [float(rows[name][models[0]].split()[0]) for name in experiments]
    assert sorted(zip((-m for m in micro), experiments)) == list(zip((-m for m in micro), experiments))


def test_the_table_shows_both_experiments_their_changes_and_verdicts(experimented):
    lines = compare_output(experimented)
    print("\n".join(lines))
    assert max(map(len, lines)) <= 120
    models, rows = parse(lines)
    assert models == default_models(experimented)
    assert next(iter(rows)) == "main"
    assert set(rows) == {"main", REAL_CHANGE[0], NO_CHANGE[0]}
    assert rows[REAL_CHANGE[0]]["changed params"] == REAL_CHANGE[1]
    assert rows[NO_CHANGE[0]]["changed params"] == NO_CHANGE[1]
    for model in models:
        assert rows[NO_CHANGE[0]][model].endswith(" +0.0000 no clear difference"), model
        assert rows[NO_CHANGE[0]][model].split()[0] == rows["main"][model]
        micro, delta, verdict = rows[REAL_CHANGE[0]][model].split(" ", 2)
        assert verdict in VERDICTS
        assert float(delta) == pytest.approx(float(micro) - float(rows["main"][model]), abs=1.5e-4)
    # The model the change is to (not always a default on 200 movies: --all-models shows every model)
    _, every_model = parse(compare_output(experimented, "--all-models"))
    assert float(every_model[REAL_CHANGE[0]]["svm"].split()[1]) != 0
    assert_sorted_by_first_model(models, rows)
    assert "paired bootstrap (1000 draws" in " ".join(lines)


def test_an_experiment_changes_svm_metrics_in_metrics_diff(experimented):
    diff = dvc("metrics", "diff", "--md", "HEAD", REAL_CHANGE[0], cwd=experimented)
    assert "metrics/svm.json" in diff and "micro" in diff


def test_markdown_holds_the_same_cells(experimented):
    lines = compare_output(experimented, "--md")
    assert max(map(len, lines)) <= 120
    tables = [block.splitlines() for block in "\n".join(lines).split("\n\n") if block.startswith("| experiment")]
    assert tables
    for table in tables:
        assert all(line.startswith("| ") and line.endswith(" |") for line in table)
        assert re.fullmatch(r"\|( -+ \|)+", table[1])
    assert parse(lines) == parse(compare_output(experimented))


def test_models_picks_the_columns_and_the_first_one_sorts(experimented):
    for chosen in (["svm", "stack_details"], ["stack_details", "svm"]):
        models, rows = parse(compare_output(experimented, "--models", *chosen))
        assert models == chosen
        assert_sorted_by_first_model(models, rows)
    lines = compare_output(experimented, "--all-models")
    assert max(map(len, lines)) <= 120
    with_metrics = [
        p.stem for p in sorted((experimented / paths.METRICS).glob("*.json")) if "micro" in json.loads(p.read_text())
    ]
    assert sorted(parse(lines)[0]) == with_metrics


def test_each_micro_f1_is_the_one_evaluate_wrote(experimented, monkeypatch):
    """Recomputed from each revision's stored predictions, exactly metrics/<model>.json's `micro`."""
    monkeypatch.chdir(experimented)
    baseline = show_experiments()[0]
    models = models_with_metrics(baseline)
    comparison = compare(baseline, models)
    revisions = {experiment.name: experiment for experiment in baseline.experiments}
    for row, revision in [(comparison.baseline, baseline), *((r, revisions[r.name]) for r in comparison.experiments)]:
        for model in models:
            assert (
                round(row.results[model].micro, 4) == revision.metrics[paths.model_metrics(model).as_posix()]["micro"]
            )


def test_an_unknown_model_or_no_experiment_is_one_line(experimented, small_profile_repo, tmp_path):
    done = run([sys.executable, "-m", "movie_genres", "compare", "--models", "svm", "knn"], experimented)
    assert done.returncode == 2
    assert done.stderr.startswith("error: no test metrics of knn at HEAD (models: ")
    assert "svm" in done.stderr.partition("(models: ")[2]
    assert done.stderr.count("\n") == 1
    bare = copy_workspace(small_profile_repo, tmp_path / "repo")
    done = run([sys.executable, "-m", "movie_genres", "compare"], bare)
    assert done.returncode == 1
    assert "has no finished experiment" in done.stderr
