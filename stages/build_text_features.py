"""Stage build_text_features: bag of words and TF-IDF of the overviews."""

from src import paths
from src.dataset import read_table
from src.features_io import Features, save_features
from src.params import TextFeaturesParams, load_section, read_params
from src.text_features import bag_of_words


def main() -> None:
    params = load_section(read_params(), "text_features", TextFeaturesParams)
    dataset = read_table(paths.DATASET)
    counts, tfidf, vocabulary = bag_of_words(dataset["overview"], dataset["subset"] == "train", params)
    ids = dataset["movie_id"].to_numpy()
    save_features(paths.TEXT_COUNTS, Features(ids, counts))
    save_features(paths.TEXT_TFIDF, Features(ids, tfidf))
    paths.VOCABULARY.write_text("\n".join(vocabulary) + "\n")


if __name__ == "__main__":
    main()
