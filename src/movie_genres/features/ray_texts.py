"""embed_text on a Ray cluster (`feature_engine.engine: ray`): the MiniLM encoder in an actor pool (`ray_engine`)."""

from __future__ import annotations

import numpy as np

from movie_genres.features import ray_engine
from movie_genres.features.feature_cache import FeatureCache, content_key
from movie_genres.features.sentence_encoder import SentenceEncoder, find_model_dir
from movie_genres.params import EmbedTextParams, RayEngineParams


def precompute_texts(
    cache: FeatureCache | None, texts: list[str], params: EmbedTextParams, engine: RayEngineParams
) -> None:
    """Store in `cache` the embedding of every text it lacks, computed on the cluster."""
    items = ((content_key(text.encode()), text) for text in texts)
    ray_engine.compute(ray_engine.required(cache), items, TextWorker, params, engine, "texts")


class TextWorker(ray_engine.Worker):
    """An actor of embed_text's pool: the stage's MiniLM encoder, built once, run on batches of texts."""

    def __init__(self, params: EmbedTextParams) -> None:
        self.encoder = SentenceEncoder(find_model_dir(params.model_dir), params.batch_size)
        super().__init__(self.encoder.fingerprint())

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.answer(batch["key"], self.encoder.encode(batch["input"].tolist()))
