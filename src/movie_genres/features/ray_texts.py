"""embed_text on a Ray cluster (`feature_engine.engine: ray`): the MiniLM encoder in an actor pool (`ray_engine`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from movie_genres.features import ray_engine
from movie_genres.features.feature_cache import FeatureCache, content_key
from movie_genres.features.sentence_encoder import (
    KERAS_HUB_UNUSED_IMPORTS,
    SentenceEncoder,
    _case_and_accents,
    find_model_dir,
    max_sequence_length,
    normalize_like_bert,
    padded_length,
)
from movie_genres.params import EmbedTextParams, RayEngineParams


def precompute_texts(
    cache: FeatureCache | None, texts: list[str], params: EmbedTextParams, engine: RayEngineParams
) -> None:
    """Store in `cache` the embedding of every text it lacks, computed on the cluster.

    The texts go to the pool in the order of their padded length. An actor's `encode` cuts its
    batch (`engine.batch_size` texts) into full network batches of one padded length each: in the
    catalogue's order most of a 256-text batch's lengths had a few texts, each padded to a full
    network batch, and the 20,000 texts of bench.ray_engine took 2.76 times the tokens (2.04 times
    the rows) of one `encode` of them all; in length order, 1.016 times. The order changes no
    vector: a text's padded length is its own, and every network batch is full.
    """
    cache = ray_engine.required(cache)
    keyed = {content_key(text.encode()): text for text in texts}
    # Only the texts the cache lacks are tokenized (a file there is a vector, or a damaged one the
    # pool recomputes wherever it comes in the order): a rerun after new movies tokenizes only them.
    missing = [key for key in keyed if not cache.path(key).is_file()]
    lengths = dict(zip(missing, _padded_lengths([keyed[key] for key in missing], params), strict=True))
    order = sorted(keyed, key=lambda key: lengths.get(key, 0))
    ray_engine.compute(cache, ((key, keyed[key]) for key in order), TextWorker, params, engine, "texts")


def _padded_lengths(texts: Sequence[str], params: EmbedTextParams) -> list[int]:
    """The length each text is padded to in `SentenceEncoder.encode`, from the tokenizer alone (no
    network: ~0.3 ms a text). It decides only the order the pool gets the texts in, not a vector."""
    if not texts:
        return []
    from movie_genres import tf_runtime  # quiet, machine-independent TensorFlow

    with tf_runtime.not_importable(KERAS_HUB_UNUSED_IMPORTS):
        import keras_hub

    model_dir = find_model_dir(params.model_dir)
    lowercase, strip_accents = _case_and_accents(model_dir)
    limit = max_sequence_length(model_dir)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=str(model_dir / "vocab.txt"), lowercase=False)
    pieces = tokenizer([normalize_like_bert(text, lowercase, strip_accents) for text in texts])
    return [padded_length(min(len(ids) + 2, limit), limit) for ids in pieces]  # [CLS] and [SEP] included


class TextWorker(ray_engine.Worker):
    """An actor of embed_text's pool: the stage's MiniLM encoder, built once, run on batches of texts."""

    def __init__(self, params: EmbedTextParams) -> None:
        self.encoder = SentenceEncoder(find_model_dir(params.model_dir), params.batch_size)
        super().__init__(self.encoder.fingerprint())

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.answer(batch["key"], self.encoder.encode(batch["input"].tolist()))
