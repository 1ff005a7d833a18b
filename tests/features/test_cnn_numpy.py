"""EfficientNet-Lite0 in NumPy against the Keras network vgg_extract runs, on real posters."""

from __future__ import annotations

import numpy as np
import pytest

from movie_genres.features.cnn_numpy import NumpyEfficientNetLite0
from movie_genres.features.image_input import prepare_image
from movie_genres.features.imagenet_weights import WeightsUnavailable, efficientnet_lite0_weights_file
from tests.features.conftest import POSTERS


def test_poster_features_match_the_keras_network(extractor, params):
    """Bundled posters through both: the same features to float32 rounding (relative 1e-5)."""
    from PIL import Image

    images = np.stack(
        [prepare_image(Image.open(path), params.efficientnet_lite0) for path in sorted(POSTERS.iterdir())[:4]]
    )
    keras_features = np.asarray(extractor(images, training=False))
    numpy_features = NumpyEfficientNetLite0(efficientnet_lite0_weights_file()).features(images)
    assert numpy_features.shape == keras_features.shape == (4, 1280)
    np.testing.assert_allclose(numpy_features, keras_features, atol=1e-5 * np.abs(keras_features).max())


def test_a_checkpoint_of_another_network_is_named(tmp_path):
    import pickle

    path = tmp_path / "other.pth"
    with open(path, "wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}, {}, []):
            pickle.dump(header, f, protocol=2)
    with pytest.raises(WeightsUnavailable, match="lacks '_conv_stem.weight'"):
        NumpyEfficientNetLite0(path)
