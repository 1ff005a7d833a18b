"""Stage build_detail_features: tagline, keywords, companies, year and runtime as sparse features."""

from movie_genres import paths
from movie_genres.data.dataset import read_table, subset_mask
from movie_genres.features.details import DetailFeaturizer
from movie_genres.features.store import Features, save_features
from movie_genres.params import DetailFeaturesParams, load_section, read_params
from movie_genres.stage_io import run_stage, save_model


def main() -> None:
    params = load_section(read_params(), "detail_features", DetailFeaturesParams)
    dataset = read_table(paths.DATASET)
    featurizer = DetailFeaturizer(params).fit(dataset[subset_mask(dataset, "train")])
    save_features(paths.DETAIL_FEATURES, Features(dataset["movie_id"].to_numpy(), featurizer.transform(dataset)))
    save_model("detail_featurizer", featurizer)  # predict describes a new movie with it


if __name__ == "__main__":
    run_stage(main)
