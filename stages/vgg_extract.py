"""Stage vgg_extract (the tutorial's name): a pretrained CNN's feature vector for every movie's poster."""

from pathlib import Path

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.features.cnn import build_backbone
from movie_genres.features.feature_cache import FeatureCache
from movie_genres.features.poster_features import feature_chunks, poster_fingerprint, skipped_table
from movie_genres.features.store import write_dense_features
from movie_genres.params import FeatureCacheParams, FeatureEngineParams, VggExtractParams, load_section, read_params
from movie_genres.stage_io import run_stage, write_csv, write_json


def main() -> None:
    raw = read_params()
    params = load_section(raw, "vgg_extract", VggExtractParams)
    cache_dir = load_section(raw, "feature_cache", FeatureCacheParams).dir
    engine = load_section(raw, "feature_engine", FeatureEngineParams)
    movie_ids = read_table(paths.DATASET)["movie_id"].to_numpy()
    model = build_backbone(params)
    cache = None
    dimension = model.output_shape[-1]
    if cache_dir is not None:
        cache = FeatureCache(Path(cache_dir), paths.POSTER_FEATURES.stem, poster_fingerprint(model, params), dimension)
    if engine.engine == "ray":
        from movie_genres.features.ray_posters import precompute_posters

        precompute_posters(cache, paths.POSTERS, movie_ids, params, engine.ray)
    skipped: dict[int, str] = {}
    chunks = feature_chunks(model, paths.POSTERS, movie_ids, params.image_input, params.batch_size, skipped, cache)
    write_dense_features(paths.POSTER_FEATURES, chunks, dimension)
    write_json(paths.featurizer_settings(paths.POSTER_FEATURES), params.model_dump())
    write_csv(paths.POSTER_FEATURES_SKIPPED, skipped_table(movie_ids, skipped))


if __name__ == "__main__":
    run_stage(main)
