"""Stage vgg_extract (the tutorial's name): a pretrained CNN's feature vector for every movie's poster."""

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.features.cnn import build_backbone
from movie_genres.features.poster_features import extract_features
from movie_genres.features.store import save_features
from movie_genres.params import VggExtractParams, load_section, read_params
from movie_genres.stage_io import run_stage, setup_logging, write_csv, write_json


def main() -> None:
    setup_logging()
    params = load_section(read_params(), "vgg_extract", VggExtractParams)
    movie_ids = read_table(paths.DATASET)["movie_id"].to_numpy()
    model = build_backbone(params)
    features, skipped = extract_features(model, paths.POSTERS, movie_ids, params.image_input, params.batch_size)
    save_features(paths.POSTER_FEATURES, features)
    write_json(paths.featurizer_settings(paths.POSTER_FEATURES), params.model_dump())
    write_csv(paths.POSTER_FEATURES_SKIPPED, skipped)


if __name__ == "__main__":
    run_stage(main)
