"""`dvc plots show` and `dvc plots diff`: one chart per comparison, drawn offline in a real browser.

The page is the project's template (.dvc/plots/page.html, vega inline); the charts are dvc.yaml's
top-level `plots`. The browser tests run DVC on a copy of the committed plot data and open the page
in headless Chromium (Debian's `chromium`; `.ci/run` installs it), with every host name unresolvable,
and check through the DevTools protocol that every chart is drawn, no console error or warning is
logged and no request leaves the page's own folder.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from movie_genres.pipeline import evaluated_models
from tests.dvc_repo import dvc, git
from tests.headless_browser import CHROMIUM, Browser, PageLog

ROOT = Path(__file__).resolve().parents[2]
PLOTS_DIR = ROOT / ".dvc" / "plots"
MODELS = evaluated_models(ROOT)
MLPS = [model for model in MODELS if (ROOT / "dvclive" / model).is_dir()]  # the models with training curves

# The page, top to bottom: the id of each chart's <div> (DVC makes it from the plot's name).
VEGA_CHARTS = ["pr_curves", "per_genre_f1", "training_loss"]
IMAGE_CHARTS = ["plots_genre_coclusters_png", "plots_genre_cooccurrence_png"]

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs a headless browser: apt-get install chromium (.ci/run installs it)"
)

# What the page's charts look like once drawn: each vega chart's <canvas>, each image loaded.
PROBE = """document.readyState !== 'complete' ? null :
[...document.querySelectorAll('body > div[id]')].map(div => ({
    id: div.id,
    canvases: [...div.querySelectorAll('canvas')].filter(c => c.width > 0 && c.height > 0).length,
    images: [...div.querySelectorAll('img')].map(img => img.complete && img.naturalWidth > 0),
}))"""

# vega-embed 6.18.2 (the version DVC's renderer asks for) warns that a spec for "v5" does not match the
# v5.x.y it runs, for DVC's own templates too: its version check, not a problem with the charts.
VERSION_CHECK_WARNING = re.compile(
    r"warning: The (input|compiled) spec uses Vega(-Lite)? v5, but (the )?current version"
)


def _load_build_page() -> Any:
    spec = importlib.util.spec_from_file_location("build_page", PLOTS_DIR / "build_page.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_page_template_is_built_from_the_vendored_files_dvc_asks_for():
    from dvc_render.vega import VegaRenderer

    build_page = _load_build_page()
    assert build_page.main(["--check"]) == 0, "run python .dvc/plots/build_page.py"
    # The versions DVC's renderer would load from the CDN are the ones vendored.
    wanted = dict(re.findall(r"npm/([a-z-]+)@([\d.]+)", VegaRenderer.SCRIPTS))
    assert build_page.vendored_versions() == wanted
    readme = (PLOTS_DIR / "vendor" / "README.md").read_text()
    for package, version in wanted.items():
        folder = PLOTS_DIR / "vendor" / f"{package}-{version}"
        assert (folder / "LICENSE").is_file()
        digest = hashlib.sha256((folder / f"{package}.min.js").read_bytes()).hexdigest()
        assert f"| {package}@{version} | `{folder.name}/{package}.min.js` | `{digest}` |" in readme
    page = (PLOTS_DIR / "page.html").read_text()
    assert "{plot_divs}" in page and "{scripts}" not in page  # DVC's CDN script tags have no place to go
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    config = (ROOT / ".dvc" / "config").read_text()
    assert re.search(r"html_template\s*=\s*plots/page\.html", config)


def test_dvc_plots_output_folder_is_ignored_by_git():
    ignored = git("check-ignore", "-v", "dvc_plots/index.html", cwd=ROOT)
    assert ".gitignore" in ignored


# --- The page in a browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plots_repo(tmp_path_factory) -> Path:
    """A git repository holding the project's plot definitions and committed plot data, nothing else."""
    repo = tmp_path_factory.mktemp("plots_repo")
    for name in ("dvc.yaml", "params.yaml", "paths.yaml", ".dvc/config"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, repo / name)
    for folder in (".dvc/plots", "metrics", "plots", "dvclive"):
        shutil.copytree(ROOT / folder, repo / folder)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "plot data", cwd=repo)
    return repo


def specs_by_chart(index: Path) -> dict[str, dict]:
    """Each vega chart's filled-in spec, from the page DVC wrote, by the id of its <div>."""
    found = re.findall(r"var spec = (.*);\s*vegaEmbed\('#(\w+)', spec\);", index.read_text())
    return {chart: json.loads(spec) for spec, chart in found}


def series(spec: dict, *fields: str) -> dict[tuple[str, ...], int]:
    """(revision, model, *fields) -> number of data points, in a chart's data."""
    counts: dict[tuple[str, ...], int] = {}
    for point in spec["data"]["values"]:
        key = (point["rev"], point["model"], *(point[field] for field in fields))
        counts[key] = counts.get(key, 0) + 1
    return counts


def check_drawn_offline(browser: Browser, index: Path, images_per_chart: int) -> PageLog:
    """Open the page; assert every chart is drawn, nothing is logged as a problem, nothing fetched."""
    expected = VEGA_CHARTS + IMAGE_CHARTS

    def done(charts: list[dict] | None) -> bool:
        return charts is not None and all(c["canvases"] or (c["images"] and all(c["images"])) for c in charts)

    log, charts = browser.open(index.as_uri(), PROBE, done)
    assert charts is not None, f"the page never finished loading: {log}"
    assert [c["id"] for c in charts] == expected  # every chart once, in this order: no per-file duplicates
    for chart in charts:
        if chart["id"] in VEGA_CHARTS:
            assert chart["canvases"] == 1 and not chart["images"], chart
        else:
            assert chart["images"] == [True] * images_per_chart, chart
    problems = [line for line in log.problems() if not VERSION_CHECK_WARNING.match(line)]
    assert problems == []
    assert log.requests, "no request recorded at all: the DevTools log is not working"
    outside = [url for url in log.requests if not url.startswith((index.parent.as_uri() + "/", "data:"))]
    assert outside == [], "the page fetched something besides itself and its images"
    return log


@needs_chromium
def test_plots_show_draws_one_chart_per_comparison_offline(plots_repo, browser, tmp_path):
    out = tmp_path / "show"
    printed = dvc("plots", "show", "-o", str(out), cwd=plots_repo)
    assert "WARNING" not in printed and "ERROR" not in printed, printed

    specs = specs_by_chart(out / "index.html")
    assert list(specs) == VEGA_CHARTS
    # All models in each comparison chart; every series has its points.
    assert series(specs["pr_curves"]) == {("workspace", model): 200 for model in MODELS}
    genres = len(list(csv.DictReader((ROOT / "plots/per_genre/svm.csv").open())))
    assert series(specs["per_genre_f1"]) == {("workspace", model): genres for model in MODELS}
    epochs = {
        mlp: len((ROOT / f"dvclive/{mlp}/plots/metrics/train/loss.tsv").read_text().splitlines()) - 1 for mlp in MLPS
    }
    assert series(specs["training_loss"], "split") == {
        ("workspace", mlp, split): epochs[mlp] for mlp in MLPS for split in ("training", "validation")
    }

    log = check_drawn_offline(browser, out / "index.html", images_per_chart=1)
    assert len(log.requests) == 1 + len(IMAGE_CHARTS)  # the page and its two PNGs


@needs_chromium
def test_plots_diff_draws_both_revisions_offline(plots_repo, browser, tmp_path):
    # A workspace change against the commit: one model's per-genre table and PR curve.
    for table, column in (("per_genre_f1.csv", "f1"), ("pr_curves.csv", "precision"), ("training_loss.csv", "loss")):
        path = plots_repo / "plots" / "all_models" / table
        rows = list(csv.DictReader(path.open()))
        rows[0][column] = str(round(float(rows[0][column]) / 2, 4))
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    try:
        out = tmp_path / "diff"
        printed = dvc("plots", "diff", "-o", str(out), cwd=plots_repo)
        assert "WARNING" not in printed and "ERROR" not in printed, printed

        specs = specs_by_chart(out / "index.html")
        assert list(specs) == VEGA_CHARTS
        for chart, spec in specs.items():
            assert {rev for rev, *_ in series(spec)} == {"HEAD", "workspace"}, chart
        check_drawn_offline(browser, out / "index.html", images_per_chart=2)
    finally:
        git("checkout", "--", "plots", cwd=plots_repo)
