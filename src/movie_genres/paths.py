"""Where each stage reads and writes, from paths.yaml at the repository root (dvc.yaml reads it too)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from movie_genres.errors import UserError

PATHS_FILE = Path("paths.yaml")


def _load(path: Path = PATHS_FILE) -> dict[str, Path]:
    try:
        names = yaml.safe_load(path.read_text())["paths"]
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found: run from the repository root") from None
    return {key: Path(value) for key, value in names.items()}


_PATHS = _load()

BUNDLED_CSV = _PATHS["bundled_movies"]
BUNDLED_POSTERS = _PATHS["bundled_posters"]
MOVIES = _PATHS["movies"]
GENRES = _PATHS["genres"]
POSTERS = _PATHS["posters"]
MISSING_POSTERS = _PATHS["posters_missing"]
DATASET = _PATHS["dataset"]
TEXT_COUNTS = _PATHS["text_counts"]
TEXT_TFIDF = _PATHS["text_tfidf"]
TEXT_WORD_VECTORS = _PATHS["text_word_vectors"]
TEXT_MINILM = _PATHS["text_minilm"]
DETAIL_FEATURES = _PATHS["details"]
POSTER_FEATURES = _PATHS["poster_cnn"]
POSTER_FEATURES_SKIPPED = _PATHS["poster_cnn_skipped"]
MODELS = _PATHS["models"]
CARDS = _PATHS["cards"]
DECISIONS = _PATHS["decisions"]
PREDICTIONS = _PATHS["predictions"]
OUT_OF_FOLD = _PATHS["out_of_fold"]
METRICS = _PATHS["metrics"]
REPORTS = _PATHS["reports"]
PLOTS = _PATHS["plots"]
TRAINING_LOGS = _PATHS["training_logs"]
CODE = _PATHS["code"]


def model_file(name: str, suffix: str = ".pkl") -> Path:
    return MODELS / f"{name}{suffix}"


def predictions_file(name: str) -> Path:
    return PREDICTIONS / f"{name}.npz"


def out_of_fold_file(name: str) -> Path:
    return OUT_OF_FOLD / f"{name}.npz"


def training_log(name: str) -> Path:
    return TRAINING_LOGS / name


def model_card(name: str) -> Path:
    return CARDS / f"{name}.json"


def featurizer_settings(features: Path) -> Path:
    """The settings a feature file was computed with, for `predict` to compute a new movie's row the same way."""
    return MODELS / f"{features.stem}.featurizer.json"


def model_metrics(name: str) -> Path:
    """A model's headline test figures under the rule predict uses (a DVC metric: one row of `dvc metrics show`)."""
    return METRICS / f"{name}.json"


def data_metrics(stage: str) -> Path:
    """A data stage's counts in `dvc metrics show`: movies kept and dropped, or the split sizes."""
    return METRICS / f"{stage}.json"


def data_report(stage: str) -> Path:
    """A data stage's full counts (dropped by reason, ...): what the report page reads."""
    return REPORTS / "data" / f"{stage}.json"


def training_report(name: str) -> Path:
    """What a training stage chose (a grid search's C, an MLP's best epoch) and its validation score."""
    return REPORTS / "train" / f"{name}.json"


def model_report(name: str) -> Path:
    """A model's full test figures: every decision rule, every F1 with its bootstrap interval."""
    return REPORTS / "models" / f"{name}.json"


# predict's default model for each set of inputs (stage choose_defaults).
DEFAULT_MODELS = MODELS / "defaults.json"


def model_decision(name: str) -> Path:
    """The per-genre thresholds tuned on the out-of-fold scores, and the micro-F1 they give there."""
    return DECISIONS / f"{name}.json"


def code_fingerprint(module: str) -> Path:
    """The project files a stage module (`stages.<name>`) runs, with their MD5s: what its stage depends on."""
    return CODE / f"{module.removeprefix('stages.')}.json"


def model_plot_table(chart: str) -> Path:
    """A chart's data for every model in one table (stage gather_plots; dvc.yaml's top-level `plots`)."""
    return PLOTS / "all_models" / f"{chart}.csv"


def require_only_models(folder: Path, models: Sequence[str], suffix: str = "") -> None:
    """A stage that depends on a whole folder of per-model files reads it for `models` alone: a file of
    another model there would change the folder's hash, so rerun the stage, without being read."""
    wanted = {f"{model}{suffix}" for model in models}
    strays = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and p.name not in wanted)
    if strays:
        raise UserError(
            f"{folder}/ holds {', '.join(strays)}, of no model in dvc.yaml's models list (vars `evaluated`): "
            "delete what a removed model left there, or add the model to the list"
        )
