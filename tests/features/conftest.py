"""Featurizers shared by the feature tests, each built once a session: the real EfficientNet-Lite0 and
MiniLM, and a poster archive of real posters with broken ones among them."""

from __future__ import annotations

import zipfile

import keras
import pytest

from movie_genres.features.cnn import (
    build_efficientnet_lite0,
    efficientnet_lite0_weights_file,
    feature_extractor,
    fold_batch_norms,
)
from movie_genres.features.sentence_encoder import SentenceEncoder, find_model_dir
from movie_genres.params import VggExtractParams, load_section, read_params
from tests.conftest import ROOT

POSTERS = ROOT / "data/bundled/posters"


@pytest.fixture(scope="session")
def params() -> VggExtractParams:
    return load_section(read_params(ROOT / "params.yaml"), "vgg_extract", VggExtractParams)


@pytest.fixture(scope="session")
def classifier(params) -> keras.Model:
    """The full EfficientNet-Lite0 (with its ImageNet head) from the shipped checkpoint, built once."""
    return build_efficientnet_lite0(efficientnet_lite0_weights_file(), params.efficientnet_lite0.image_size)


@pytest.fixture(scope="session")
def extractor(classifier) -> keras.Model:
    return fold_batch_norms(feature_extractor(classifier))


@pytest.fixture
def archive(tmp_path):
    """Five real posters, a truncated one and a file that is not an image, keyed by id like data/posters.zip."""
    real = sorted(POSTERS.iterdir())[:6]
    path = tmp_path / "posters.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for poster in real[:5]:
            zf.writestr(poster.name, poster.read_bytes())
        zf.writestr(real[5].name, real[5].read_bytes()[:3000])
        zf.writestr("1.jpg", b"<html>not an image</html>")
    return path, [int(p.stem) for p in real[:5]], int(real[5].stem)


@pytest.fixture(scope="session")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(find_model_dir(), batch_size=4)
