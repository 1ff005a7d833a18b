"""Stage build_text_features: bag of words and TF-IDF of the overviews."""

from movie_genres import paths
from movie_genres.data.dataset import read_table, subset_mask
from movie_genres.features.bag_of_words import BagOfWords
from movie_genres.features.store import Features, save_features
from movie_genres.params import TextFeaturesParams, load_section, read_params
from movie_genres.stage_io import run_stage, save_model


def main() -> None:
    params = load_section(read_params(), "text_features", TextFeaturesParams)
    dataset = read_table(paths.DATASET)
    bag = BagOfWords.fit(dataset["overview"][subset_mask(dataset, "train")], params)
    ids = dataset["movie_id"].to_numpy()
    save_features(paths.TEXT_COUNTS, Features(ids, bag.counts(dataset["overview"])))
    save_features(paths.TEXT_TFIDF, Features(ids, bag.tfidf(dataset["overview"])))
    save_model("bag_of_words", bag)  # predict describes a new overview with it


if __name__ == "__main__":
    run_stage(main)
