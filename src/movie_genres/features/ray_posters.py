"""vgg_extract on a Ray cluster (`feature_engine.engine: ray`): the poster CNN in an actor pool (`ray_engine`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from movie_genres.data.posters import PosterArchive
from movie_genres.features import ray_engine
from movie_genres.features.cnn import build_backbone
from movie_genres.features.feature_cache import FeatureCache, content_key
from movie_genres.features.poster_features import poster_fingerprint, run_network
from movie_genres.parallel import usable_cores
from movie_genres.params import RayEngineParams, VggExtractParams


def precompute_posters(
    cache: FeatureCache | None,
    archive_path: Path,
    movie_ids: np.ndarray,
    params: VggExtractParams,
    engine: RayEngineParams,
) -> None:
    """Store in `cache` the features of every poster of `movie_ids` it lacks, computed on the cluster.

    Unreadable posters yield no vector: the stage's own pass then records why, as with `engine: local`.
    """
    cache = ray_engine.required(cache)
    with PosterArchive(archive_path) as archive:
        ray_engine.compute(cache, _posters(archive, movie_ids.tolist()), PosterWorker, params, engine, "posters")


def _posters(archive: PosterArchive, movie_ids: list[int]) -> Iterator[tuple[str, bytes]]:
    for movie_id in movie_ids:
        try:
            data = archive.read(movie_id)
        except KeyError:  # not in the archive: the stage's own pass records it
            continue
        yield content_key(data), data


class PosterWorker(ray_engine.Worker):
    """An actor of vgg_extract's pool: the stage's CNN, built once, run on batches of poster files."""

    def __init__(self, params: VggExtractParams) -> None:
        self.model = build_backbone(params)
        self.params = params
        super().__init__(poster_fingerprint(self.model, params))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        posters = list(enumerate(batch["input"].tolist()))
        threads = usable_cores()  # batches at once, as the stage's own pass runs
        rule, size = self.params.image_input, self.params.batch_size
        done, rows, _ = run_network(self.model, posters, len(posters), rule, size, threads, progress=False)
        return self.answer(batch["key"][done], rows)
