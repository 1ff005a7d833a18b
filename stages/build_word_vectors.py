"""Stage build_word_vectors: the mean word vector of each overview."""

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.features.store import Features, save_features
from movie_genres.features.word_vectors import load_word_vectors, mean_word_vectors
from movie_genres.params import WordVectorsParams, load_section, read_params
from movie_genres.stage_io import run_stage, write_json


def main() -> None:
    params = load_section(read_params(), "word_vectors", WordVectorsParams)
    dataset = read_table(paths.DATASET)
    means = mean_word_vectors(dataset["overview"], load_word_vectors(params), params.lowercase)
    save_features(paths.TEXT_WORD_VECTORS, Features(dataset["movie_id"].to_numpy(), means.matrix))
    write_json(paths.featurizer_settings(paths.TEXT_WORD_VECTORS), params.model_dump())
    write_json(
        paths.data_report("word_vectors"),
        {
            "movies": len(dataset),
            "no_known_word": int(means.no_known_word.sum()),
            "no_known_word_ids": dataset["movie_id"][means.no_known_word].tolist(),
        },
    )


if __name__ == "__main__":
    run_stage(main)
