"""The feature cache: hits and misses, what invalidates an entry, damaged entries, and the featurizers'
outputs the same bytes with a cache (cold, warm, half warm) and without one."""

from __future__ import annotations

import copy
import logging
import shutil

import keras
import numpy as np
import pytest

from movie_genres.features.feature_cache import FeatureCache, cached_row_chunks, cached_rows, content_key
from movie_genres.features.poster_features import extract_features, poster_fingerprint
from movie_genres.features.sentence_encoder import MODEL_FILES, SentenceEncoder, embed_texts, find_model_dir
from movie_genres.features.store import save_features
from tests.features.test_sentence_encoder import REFERENCE

INPUTS = [b"poster one", b"poster two", b"poster three", b"poster four"]
KEYS = [content_key(data) for data in INPUTS]


class Counting:
    """A featurizer for the unit tests: a row from each input's bytes; remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    def __call__(self, positions: list[int]) -> tuple[list[int], np.ndarray]:
        self.asked.append(positions)
        rows = [np.frombuffer(INPUTS[i].ljust(12, b"."), np.uint8)[:12].astype(np.float32) for i in positions]
        return positions, np.array(rows, np.float32).reshape(len(positions), 12)


def toy_cache(tmp_path, network: str = "toy-1") -> FeatureCache:
    return FeatureCache(tmp_path / "cache", "toy", {"network": network}, dimension=12)


def test_stored_vectors_are_found_and_only_the_others_computed(tmp_path):
    compute = Counting()
    _, cold = cached_rows(toy_cache(tmp_path), KEYS[:3], compute, 12)
    _, warm = cached_rows(toy_cache(tmp_path), KEYS[:3], compute, 12)
    _, grown = cached_rows(toy_cache(tmp_path), KEYS, compute, 12)
    assert compute.asked == [[0, 1, 2], [], [3]]
    np.testing.assert_array_equal(cold, warm)
    np.testing.assert_array_equal(grown, Counting()(list(range(4)))[1])


def test_rows_a_chunk_at_a_time_are_the_rows_of_one_call(tmp_path):
    cached_rows(toy_cache(tmp_path, "whole"), KEYS[:2], Counting(), 12)  # a half-warm cache
    cached_rows(toy_cache(tmp_path, "chunked"), KEYS[:2], Counting(), 12)
    _, expected = cached_rows(toy_cache(tmp_path, "whole"), KEYS, Counting(), 12)
    compute = Counting()
    chunks = list(cached_row_chunks(toy_cache(tmp_path, "chunked"), KEYS, compute, 12, chunk_size=3))
    assert [positions for positions, _ in chunks] == [[0, 1, 2], [3]] and compute.asked == [[2], [3]]
    np.testing.assert_array_equal(np.concatenate([rows for _, rows in chunks]), expected)


def test_without_a_cache_everything_is_computed():
    compute = Counting()
    for _ in range(2):
        positions, rows = cached_rows(None, KEYS, compute, 12)
    assert compute.asked == [[0, 1, 2, 3]] * 2 and positions == [0, 1, 2, 3] and rows.shape == (4, 12)


def test_an_input_without_a_row_is_left_out_and_asked_again(tmp_path):
    def unusable_second(positions):
        kept = [p for p in positions if p != 1]
        return kept, Counting()(kept)[1]

    positions, rows = cached_rows(toy_cache(tmp_path), KEYS, unusable_second, 12)
    assert positions == [0, 2, 3] and rows.shape == (3, 12)
    assert toy_cache(tmp_path).lookup(KEYS)[1] is None


def test_another_network_or_setting_is_another_folder(tmp_path):
    compute = Counting()
    cached_rows(toy_cache(tmp_path, "toy-1"), KEYS, compute, 12)
    cached_rows(toy_cache(tmp_path, "toy-2"), KEYS, compute, 12)
    assert compute.asked == [[0, 1, 2, 3]] * 2
    folders = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(folders) == 2 and all(name.startswith("toy-") for name in folders)
    assert '"network": "toy-2"' in (toy_cache(tmp_path, "toy-2").folder / "fingerprint.json").read_text()


def _truncated(data: bytes) -> bytes:
    return data[:20]


def _vector_bit_flipped(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


def _checksum_bit_flipped(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x80])


def _grown(data: bytes) -> bytes:
    return data + b"\0"


@pytest.mark.parametrize("damage", [_truncated, _vector_bit_flipped, _checksum_bit_flipped, _grown, lambda d: b""])
def test_a_damaged_entry_is_reported_once_recomputed_and_rewritten(tmp_path, caplog, damage):
    compute = Counting()
    _, expected = cached_rows(toy_cache(tmp_path), KEYS, compute, 12)
    for key in KEYS[1:3]:
        entry = toy_cache(tmp_path).path(key)
        entry.write_bytes(damage(entry.read_bytes()))
    with caplog.at_level(logging.INFO):
        _, rows = cached_rows(toy_cache(tmp_path), KEYS, compute, 12)
    assert compute.asked[1] == [1, 2]
    np.testing.assert_array_equal(rows, expected)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("2 damaged entries")
    assert all(row is not None for row in toy_cache(tmp_path).lookup(KEYS))  # rewritten whole


# --- The poster CNN ----------------------------------------------------------------------------------


def _poster_run(tmp_path, name, extractor, archive, rule, ids, cache, workers=None) -> bytes:
    features, skipped = extract_features(extractor, archive, ids, rule, 2, cache, workers, progress=False)
    save_features(tmp_path / f"{name}.npz", features)
    return (tmp_path / f"{name}.npz").read_bytes() + skipped.to_csv().encode()


def test_poster_features_are_the_same_bytes_cold_warm_half_warm_and_without_cache(
    tmp_path, extractor, archive, params, caplog
):
    path, good, truncated = archive
    ids = np.array([good[0], truncated, good[1], 1, good[2], 2, good[3], good[4]])
    rule = params.efficientnet_lite0
    fingerprint = poster_fingerprint(extractor, params.model_copy(update={"batch_size": 2}))

    def cache(name: str) -> FeatureCache:
        return FeatureCache(tmp_path / name, "poster_cnn", fingerprint, 1280)

    plain = _poster_run(tmp_path, "plain", extractor, path, rule, ids, None, workers=1)  # as before the cache
    assert _poster_run(tmp_path, "threads", extractor, path, rule, ids, None) == plain
    assert _poster_run(tmp_path, "cold", extractor, path, rule, ids, cache("full")) == plain
    with caplog.at_level(logging.INFO):
        assert _poster_run(tmp_path, "warm", extractor, path, rule, ids, cache("full")) == plain
    assert "5 of 7 found, 2 to compute" in caplog.text  # the two unreadable posters are tried again
    # Half warm: three posters cached by a run on other movies, in other batches.
    _poster_run(tmp_path, "some", extractor, path, rule, np.array([good[3], good[0], good[4]]), cache("half"))
    assert _poster_run(tmp_path, "half", extractor, path, rule, ids, cache("half")) == plain


def _tiny_network(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D()]
    )


def test_another_network_or_preprocessing_misses(tmp_path, archive, params):
    """Weights, backbone, each input setting and the batch size: another folder, nothing reused."""
    path, good, _ = archive
    rule = params.vgg16.model_copy(update={"image_size": 32})
    base = params.model_copy(update={"backbone": "vgg16", "vgg16": rule})
    network = _tiny_network(0)
    variants = {
        "weights": (_tiny_network(1), base),
        "backbone": (network, base.model_copy(update={"backbone": "efficientnet_lite0"})),
        "batch_size": (network, base.model_copy(update={"batch_size": 8})),
        **{
            key: (network, base.model_copy(update={"vgg16": rule.model_copy(update={key: value})}))
            for key, value in [("interpolation", "bicubic"), ("mean", [0.0, 0.0, 0.0]), ("channel_order", "rgb")]
        },
    }

    def run(model, settings) -> tuple[str, int]:
        cache = FeatureCache(tmp_path, "poster_cnn", poster_fingerprint(model, settings), 4)
        extract_features(model, path, np.array(good), settings.vgg16, 2, cache, progress=False)
        return cache.folder.name, len(list(cache.folder.glob("*/*")))

    first = run(network, base)
    assert first[1] == len(good) and run(network, base) == first  # the same settings: the same entries
    folders = [run(model, settings) for model, settings in variants.values()]
    assert len({folder for folder, _ in folders} | {first[0]}) == len(variants) + 1
    assert all(entries == len(good) for _, entries in folders)


# --- MiniLM ------------------------------------------------------------------------------------------

TEXTS = [entry["text"] for entry in REFERENCE]


def test_embeddings_are_the_same_bytes_cold_warm_half_warm_and_without_cache(tmp_path, encoder, caplog):
    def cache(name: str) -> FeatureCache:
        return FeatureCache(tmp_path / name, "text_minilm", encoder.fingerprint(), encoder.dimension)

    plain = embed_texts(encoder, TEXTS, None)
    assert plain.dtype == np.float32 and plain.shape == (len(TEXTS), 384)
    np.testing.assert_array_equal(embed_texts(encoder, TEXTS, cache("full")), plain)
    with caplog.at_level(logging.INFO):
        np.testing.assert_array_equal(embed_texts(encoder, TEXTS, cache("full")), plain)
    assert f"{len(TEXTS)} of {len(TEXTS)} found, 0 to compute" in caplog.text
    embed_texts(encoder, TEXTS[::3], cache("half"))  # in other batches, with other texts
    np.testing.assert_array_equal(embed_texts(encoder, TEXTS, cache("half")), plain)


def test_other_model_files_or_batch_size_miss_and_the_text_is_the_key(tmp_path, encoder):
    """The key is the exact text: the same overview in another movie hits, another text misses."""
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    for name in MODEL_FILES:
        (model_dir / name).symlink_to(find_model_dir() / name)
    (model_dir / "vocab.txt").unlink()
    shutil.copy(find_model_dir() / "vocab.txt", model_dir / "vocab.txt")
    same = copy.copy(encoder)
    same.model_dir = model_dir
    assert same.fingerprint() == encoder.fingerprint()  # the same bytes, wherever the folder
    with open(model_dir / "vocab.txt", "a") as vocab:
        vocab.write("newword\n")
    bigger = copy.copy(encoder)
    bigger.batch_size = 8
    folders = {FeatureCache(tmp_path, "text_minilm", e.fingerprint(), 384).folder for e in (encoder, same, bigger)}
    assert len(folders) == 3
    assert content_key(TEXTS[0].encode()) != content_key((TEXTS[0] + " ").encode())


def test_embeddings_do_not_depend_on_the_length_a_process_embeds_first():
    """Keras traces the first input shape it sees apart from the later ones, and the two graphs sum in
    another order: a run that adds texts of another length first must still give the same bits."""
    short_first, long_first = (SentenceEncoder(find_model_dir(), batch_size=4) for _ in range(2))
    short_first.encode([TEXTS[3]])  # 4 tokens
    long_first.encode([TEXTS[6]])  # 70 tokens
    np.testing.assert_array_equal(short_first.encode(TEXTS), long_first.encode(TEXTS))


def test_the_fingerprint_names_the_gpu_kind_not_how_many_are_visible(monkeypatch):
    """A Ray actor sees only its own GPU, the stage's driver all of them: both must name one fingerprint."""
    import tensorflow as tf

    from movie_genres.features import feature_cache

    assert feature_cache.tensorflow_runtime()["gpu"] is None  # this machine computes on its CPU
    details = {"device_name": "NVIDIA H200", "compute_capability": (9, 0)}
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda device: details)
    kinds = []
    for visible in (["GPU:0"], ["GPU:0", "GPU:1", "GPU:2"]):
        monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind, visible=visible: visible)
        kinds.append(feature_cache.gpu_kind())
    assert kinds == ["NVIDIA H200 (compute capability 9.0)"] * 2
