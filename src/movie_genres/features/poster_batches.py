"""Poster files through a CNN, a batch on each core at once (PIL and NumPy only: the network is given).

Each batch is decoded, resized and run on a worker thread of its own: PIL and TensorFlow release the
GIL, and TensorFlow runs each op on its caller's thread (tf_runtime), so the cores work on separate
batches instead of handing each op's work between them (1,500 posters at 160 pixels on 2 cores: 5.5 s,
against 7.7 s for batches one after the other with each op split over both cores). A poster's
features do not depend on which posters share its batch (every batch is full,
`keras_batches.predict_in_batches`), so neither do they on the threads.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

import numpy as np

from movie_genres.features.image_input import network_input
from movie_genres.parallel import ordered_map
from movie_genres.params import ImageInputParams

Key = TypeVar("Key", bound=Hashable)
Network = Callable[[np.ndarray], np.ndarray]  # a stack of at most batch_size network inputs -> their rows


def poster_batches(
    network: Network,
    posters: Iterable[tuple[Key, bytes]],
    rule: ImageInputParams,
    batch_size: int,
    workers: int,
) -> Iterator[tuple[list[Key], np.ndarray | None, dict[Key, str]]]:
    """For each batch of (key, file) posters, in order: the keys of the posters read, their feature
    rows (None when none was), and why each of the others could not be read. At most `workers` batches
    are decoded at once: memory holds their inputs, however many posters."""

    def run(batch: list[tuple[Key, bytes]]) -> tuple[list[Key], np.ndarray | None, dict[Key, str]]:
        inputs = [(key, network_input(data, rule)) for key, data in batch]
        unreadable = {key: image for key, image in inputs if isinstance(image, str)}
        readable = [(key, image) for key, image in inputs if not isinstance(image, str)]
        if not readable:
            return [], None, unreadable
        return [key for key, _ in readable], network(np.stack([image for _, image in readable])), unreadable

    files = iter(posters)
    batches = iter(lambda: list(islice(files, batch_size)), [])
    yield from ordered_map(run, batches, workers, 2 * workers)
