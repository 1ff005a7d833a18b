"""Stage build_detail_features: tagline, keywords, companies, year and runtime as sparse features."""

from src import paths
from src.dataset import read_table
from src.detail_features import DetailFeaturizer
from src.features_io import Features, save_features
from src.params import DetailFeaturesParams, load_section, read_params
from src.training import save_model


def main() -> None:
    params = load_section(read_params(), "detail_features", DetailFeaturesParams)
    dataset = read_table(paths.DATASET)
    featurizer = DetailFeaturizer(params).fit(dataset[dataset["subset"] == "train"])
    save_features(paths.DETAIL_FEATURES, Features(dataset["movie_id"].to_numpy(), featurizer.transform(dataset)))
    save_model("detail_featurizer", featurizer)  # predict describes a new movie with it


if __name__ == "__main__":
    main()
