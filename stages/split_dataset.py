"""Stage split_dataset: the movies every model uses (those with a poster), split train/val/test."""

from src import paths
from src.dataset import build_dataset, read_table, write_table
from src.params import SplitParams, load_section, load_seed, read_params
from src.posters import read_missing
from src.stage_io import write_json


def main() -> None:
    raw = read_params()
    params = load_section(raw, "split", SplitParams)
    movies = read_table(paths.MOVIES)
    dataset = build_dataset(movies, read_missing(paths.MISSING_POSTERS), params.test_size, params.val_size, load_seed(raw))
    write_table(dataset, paths.DATASET)
    write_json(paths.METRICS / "data" / "split.json", dataset["subset"].value_counts().sort_index().to_dict())


if __name__ == "__main__":
    main()
