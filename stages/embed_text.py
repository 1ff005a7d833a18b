"""Stage embed_text: a 384-d all-MiniLM-L6-v2 sentence embedding of each movie's text."""

import logging
import time

from movie_genres import paths
from movie_genres.data.dataset import read_table
from movie_genres.features.sentence_encoder import SentenceEncoder, find_model_dir, movie_texts
from movie_genres.features.store import Features, save_features
from movie_genres.params import EmbedTextParams, load_section, read_params
from movie_genres.stage_io import run_stage, setup_logging, write_json

log = logging.getLogger(__name__)


def main() -> None:
    setup_logging()
    params = load_section(read_params(), "embed_text", EmbedTextParams)
    encoder = SentenceEncoder(find_model_dir(params.model_dir), params.batch_size)
    dataset = read_table(paths.DATASET)
    texts = movie_texts(dataset, params.text)
    start = time.perf_counter()
    embeddings = encoder.encode(texts, progress=True)
    seconds = time.perf_counter() - start
    log.info(
        "embedded %d texts (%s) in %.1f s: %.1f sentences/s", len(texts), params.text, seconds, len(texts) / seconds
    )
    save_features(paths.TEXT_MINILM, Features(dataset["movie_id"].to_numpy(), embeddings))
    write_json(paths.featurizer_settings(paths.TEXT_MINILM), params.model_dump())


if __name__ == "__main__":
    run_stage(main)
