"""Stage genre_analysis: the genre co-occurrence heatmap and its spectral co-clustering."""

import pandas as pd

from movie_genres import paths
from movie_genres.data.dataset import label_matrix, read_table
from movie_genres.evaluation.genre_analysis import cocluster_order, cooccurrence
from movie_genres.evaluation.plots import coclustered_heatmap, heatmap
from movie_genres.params import GenreAnalysisParams, load_section, load_seed, read_params
from movie_genres.stage_io import run_stage


def main() -> None:
    raw = read_params()
    params = load_section(raw, "genre_analysis", GenreAnalysisParams)
    genres = pd.read_csv(paths.GENRES)
    movies = read_table(paths.MOVIES)
    matrix = cooccurrence(label_matrix(movies["genre_ids"], genres["genre_id"].tolist()))
    names = genres["name"].tolist()
    heatmap(matrix, names, "Genre co-occurrence (diagonal: movies per genre)", paths.PLOTS / "genre_cooccurrence.png")
    order, clusters = cocluster_order(matrix, params.n_clusters, load_seed(raw))
    coclustered_heatmap(matrix, names, order, clusters, paths.PLOTS / "genre_coclusters.png")


if __name__ == "__main__":
    run_stage(main)
