"""Stage build_text_features: bag of words and TF-IDF of the overviews."""

from src import paths
from src.dataset import read_table
from src.features_io import Features, save_features
from src.params import TextFeaturesParams, load_section, read_params
from src.text_features import BagOfWords
from src.training import save_model


def main() -> None:
    params = load_section(read_params(), "text_features", TextFeaturesParams)
    dataset = read_table(paths.DATASET)
    bag = BagOfWords.fit(dataset["overview"][dataset["subset"] == "train"], params)
    ids = dataset["movie_id"].to_numpy()
    save_features(paths.TEXT_COUNTS, Features(ids, bag.counts(dataset["overview"])))
    save_features(paths.TEXT_TFIDF, Features(ids, bag.tfidf(dataset["overview"])))
    save_model("bag_of_words", bag)  # predict describes a new overview with it


if __name__ == "__main__":
    main()
