"""Stage embed_text: a 384-d all-MiniLM-L6-v2 sentence embedding of each movie's text."""

import logging
import time
from pathlib import Path

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.features.feature_cache import FeatureCache
from movie_genres.features.sentence_encoder import SentenceEncoder, embedding_chunks, find_model_dir, movie_texts
from movie_genres.features.store import write_dense_features
from movie_genres.params import EmbedTextParams, FeatureCacheParams, FeatureEngineParams, load_section, read_params
from movie_genres.stage_io import run_stage, write_json

log = logging.getLogger(__name__)


def main() -> None:
    raw = read_params()
    params = load_section(raw, "embed_text", EmbedTextParams)
    cache_dir = load_section(raw, "feature_cache", FeatureCacheParams).dir
    engine = load_section(raw, "feature_engine", FeatureEngineParams)
    encoder = SentenceEncoder(find_model_dir(params.model_dir), params.batch_size)
    cache = None
    if cache_dir is not None:
        cache = FeatureCache(Path(cache_dir), paths.TEXT_MINILM.stem, encoder.fingerprint(), encoder.dimension)
    dataset = read_table(paths.DATASET)
    texts = movie_texts(dataset, params.text)
    start = time.perf_counter()
    if engine.engine == "ray":
        from movie_genres.features.ray_texts import precompute_texts

        precompute_texts(cache, texts, params, engine.ray)
    movie_ids = dataset["movie_id"].to_numpy()
    chunks = embedding_chunks(encoder, texts, cache, progress=True)
    write_dense_features(paths.TEXT_MINILM, ((movie_ids[rows], vectors) for rows, vectors in chunks), encoder.dimension)
    seconds = time.perf_counter() - start
    log.info(
        "embedded %d texts (%s) in %.1f s: %.1f sentences/s", len(texts), params.text, seconds, len(texts) / seconds
    )
    write_json(paths.featurizer_settings(paths.TEXT_MINILM), params.model_dump())


if __name__ == "__main__":
    run_stage(main)
