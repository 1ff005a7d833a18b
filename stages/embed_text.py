"""Stage embed_text: a 384-d all-MiniLM-L6-v2 sentence embedding of each movie's text."""

import logging
import time

from src import paths
from src.dataset import read_table
from src.features_io import Features, save_features
from src.params import EmbedTextParams, load_section, read_params
from src.sentence_encoder import SentenceEncoder, find_model_dir, movie_texts
from src.stage_io import setup_logging

log = logging.getLogger(__name__)


def main() -> None:
    setup_logging()
    params = load_section(read_params(), "embed_text", EmbedTextParams)
    encoder = SentenceEncoder(find_model_dir(params.model_dir), params.batch_size)
    dataset = read_table(paths.DATASET)
    texts = movie_texts(dataset, params.text)
    start = time.perf_counter()
    embeddings = encoder.encode(texts)
    seconds = time.perf_counter() - start
    log.info("embedded %d texts (%s) in %.1f s: %.1f sentences/s", len(texts), params.text, seconds, len(texts) / seconds)
    save_features(paths.TEXT_MINILM, Features(dataset["movie_id"].to_numpy(), embeddings))


if __name__ == "__main__":
    main()
