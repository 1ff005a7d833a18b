"""Stage split_dataset: the movies every model uses (those with a poster), split train/val/test."""

from movie_genres import paths
from movie_genres.data.dataset import SUBSETS, build_dataset, read_table, write_table
from movie_genres.data.posters import read_missing
from movie_genres.params import SplitParams, load_section, load_seed, read_params
from movie_genres.stage_io import run_stage, write_json


def main() -> None:
    raw = read_params()
    params = load_section(raw, "split", SplitParams)
    movies = read_table(paths.MOVIES)
    dataset = build_dataset(
        movies, read_missing(paths.MISSING_POSTERS), params.test_size, params.val_size, load_seed(raw)
    )
    write_table(dataset, paths.DATASET)
    counts = dataset["subset"].value_counts()
    sizes = {name.capitalize(): int(counts.get(name, 0)) for name in SUBSETS}
    write_json(paths.data_report("split"), sizes)
    # In `dvc metrics show` only the test size, which bounds every interval: a row fits 120 columns.
    write_json(paths.data_metrics("split"), {"Test": sizes["Test"]})


if __name__ == "__main__":
    run_stage(main)
