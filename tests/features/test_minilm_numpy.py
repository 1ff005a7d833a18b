"""MiniLM in NumPy against sentence-transformers' own output and against the Keras encoder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from movie_genres.errors import NumpyEngineUnsupported
from movie_genres.features.minilm_numpy import NumpySentenceEncoder
from movie_genres.features.sentence_encoder import find_model_dir
from tests.features.test_sentence_encoder import REFERENCE


@pytest.fixture(scope="module")
def numpy_encoder() -> NumpySentenceEncoder:
    return NumpySentenceEncoder(find_model_dir())


def test_embeddings_match_sentence_transformers(numpy_encoder):
    """The reference vectors (tests/fixtures/make_minilm_reference.py) to within 2e-5 per component."""
    embeddings = numpy_encoder.encode([entry["text"] for entry in REFERENCE])
    reference = np.array([entry["embedding"] for entry in REFERENCE])
    assert embeddings.shape == (len(REFERENCE), 384) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(embeddings, reference, atol=2e-5)


def test_embeddings_match_the_keras_encoder(numpy_encoder, encoder):
    """The same network as the pipeline's: equal to float32 rounding (the texts as the models read them)."""
    texts = [entry["text"] for entry in REFERENCE]
    np.testing.assert_allclose(numpy_encoder.encode(texts), encoder.encode(texts), atol=1e-6)


def test_empty_input_gives_an_empty_matrix(numpy_encoder):
    assert numpy_encoder.encode([]).shape == (0, 384)


def test_another_network_is_refused_with_the_engine_to_use(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(find_model_dir(), folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_act": "gelu_new"}))
    with pytest.raises(NumpyEngineUnsupported, match=r"hidden_act 'gelu_new'.*--engine tensorflow"):
        NumpySentenceEncoder(folder)
