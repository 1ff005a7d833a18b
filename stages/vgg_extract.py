"""Stage vgg_extract (the tutorial's name): a pretrained CNN's feature vector for every movie's poster."""

from src import paths
from src.dataset import read_table
from src.features_io import save_features
from src.image_features import build_backbone, extract_features
from src.params import VggExtractParams, load_section, read_params
from src.stage_io import setup_logging, write_csv


def main() -> None:
    setup_logging()
    params = load_section(read_params(), "vgg_extract", VggExtractParams)
    movie_ids = read_table(paths.DATASET)["movie_id"].to_numpy()
    model = build_backbone(params)
    features, skipped = extract_features(model, paths.POSTERS, movie_ids, params.image_input, params.batch_size)
    save_features(paths.POSTER_FEATURES, features)
    write_csv(paths.POSTER_FEATURES_SKIPPED, skipped)


if __name__ == "__main__":
    main()
