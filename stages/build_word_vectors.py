"""Stage build_word_vectors: the mean word vector of each overview."""

from src import paths
from src.dataset import read_table
from src.features_io import Features, save_features
from src.params import WordVectorsParams, load_section, read_params
from src.stage_io import write_json
from src.word_vectors import load_word_vectors, mean_word_vectors


def main() -> None:
    params = load_section(read_params(), "word_vectors", WordVectorsParams)
    dataset = read_table(paths.DATASET)
    means = mean_word_vectors(dataset["overview"], load_word_vectors(params), params.lowercase)
    save_features(paths.TEXT_WORD_VECTORS, Features(dataset["movie_id"].to_numpy(), means.matrix))
    write_json(
        paths.METRICS / "data" / "word_vectors.json",
        {
            "movies": len(dataset),
            "no_known_word": int(means.no_known_word.sum()),
            "no_known_word_ids": dataset["movie_id"][means.no_known_word].tolist(),
        },
    )


if __name__ == "__main__":
    main()
