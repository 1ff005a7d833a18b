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
VOCABULARY = Path("data/features/vocabulary.txt")
TEXT_MINILM = Path("data/features/text_minilm.npz")

MODELS = Path("models")
PREDICTIONS = Path("data/predictions")
METRICS = Path("metrics")
PLOTS = Path("plots")


def model_file(name: str, suffix: str = ".pkl") -> Path:
    return MODELS / f"{name}{suffix}"


def predictions_file(name: str) -> Path:
    return PREDICTIONS / f"{name}.npz"
