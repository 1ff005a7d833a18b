"""Where each stage reads and writes; dvc.yaml names the same paths."""

from pathlib import Path

BUNDLED_CSV = Path("data/bundled/movies.csv")
BUNDLED_POSTERS = Path("data/bundled/posters")

MOVIES = Path("data/movies.parquet")
GENRES = Path("data/genres.csv")
POSTERS = Path("data/posters.zip")
MISSING_POSTERS = Path("data/posters_missing.csv")
DATASET = Path("data/dataset.parquet")
TEXT_COUNTS = Path("data/features/text_counts.npz")
TEXT_TFIDF = Path("data/features/text_tfidf.npz")
TEXT_WORD_VECTORS = Path("data/features/text_word_vectors.npz")
DETAIL_FEATURES = Path("data/features/details.npz")
POSTER_FEATURES = Path("data/features/poster_cnn.npz")
POSTER_FEATURES_SKIPPED = Path("data/features/poster_cnn_skipped.csv")
TEXT_MINILM = Path("data/features/text_minilm.npz")

MODELS = Path("models")
PREDICTIONS = Path("data/predictions")
METRICS = Path("metrics")
PLOTS = Path("plots")
TRAINING_LOGS = Path("dvclive")


def model_file(name: str, suffix: str = ".pkl") -> Path:
    return MODELS / f"{name}{suffix}"


def predictions_file(name: str) -> Path:
    return PREDICTIONS / f"{name}.npz"


def training_log(name: str) -> Path:
    return TRAINING_LOGS / name


def model_card(name: str) -> Path:
    return MODELS / f"{name}.card.json"


def model_decision(name: str) -> Path:
    """The per-genre thresholds tuned on validation movies, and the model's validation micro-F1."""
    return MODELS / f"{name}.decision.json"
