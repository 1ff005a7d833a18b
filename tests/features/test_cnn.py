import pickle
import sys
import zipfile

import keras
import numpy as np
import pytest
import skimage.data
import yaml
from PIL import Image

from movie_genres.features.cnn import (
    WeightsUnavailable,
    build_vgg16,
    efficientnet_lite0_weights_file,
    feature_extractor,
    fold_batch_norms,
)
from movie_genres.features.image_input import prepare_image
from movie_genres.features.poster_features import extract_features
from movie_genres.features.store import load_features, save_features
from movie_genres.features.torch_checkpoint import read_legacy_torch_state_dict
from movie_genres.params import ParamError, VggExtractParams, load_section
from tests.conftest import ROOT
from tests.features.conftest import POSTERS

CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE_CLASSES = {967, 968, 504}  # espresso, cup, coffee mug


def run(model: keras.Model, inputs: np.ndarray) -> np.ndarray:
    """One eager call: for a one-off input, quicker than tracing a predict function."""
    return np.asarray(model(inputs, training=False))


@pytest.fixture(scope="session")
def photos() -> list[Image.Image]:
    return [Image.fromarray(skimage.data.chelsea()), Image.fromarray(skimage.data.coffee())]


def test_the_checkpoint_loads_with_numpy_alone():
    state = read_legacy_torch_state_dict(efficientnet_lite0_weights_file())
    assert "torch" not in sys.modules
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3) and state["_conv_stem.weight"].dtype == np.float32
    assert state["_fc.weight"].shape == (1000, 1280)
    assert np.all(state["_bn0.running_var"] >= 0) and np.isfinite(state["_fc.weight"]).all()


def test_the_checkpoint_reader_refuses_other_objects(tmp_path):
    """Anything but tensors and an OrderedDict is refused before it can run."""
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(header, f, protocol=2)
        pickle.dump(zipfile.ZipFile, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="zipfile.ZipFile"):
        read_legacy_torch_state_dict(path)


def test_the_network_classifies_imagenet_photos(classifier, photos, params):
    """A cat and a cup of coffee land in their ImageNet classes: the weights are really ImageNet's."""
    inputs = np.stack([prepare_image(photo, params.efficientnet_lite0) for photo in photos])
    cat, coffee = np.argmax(run(classifier, inputs), axis=1)
    assert cat in CAT_CLASSES
    assert coffee in COFFEE_CLASSES


def test_the_normalisation_in_params_is_the_one_the_weights_saw(classifier, photos, params):
    """The first BatchNorm's running variances fit the stem's outputs on real images normalised as in
    params.yaml (TF Lite's (x - 127) / 128) several times better than under the usual alternatives."""
    images = photos + [Image.open(p) for p in sorted(POSTERS.iterdir())[:6]]
    stem = keras.Model(classifier.input, classifier.get_layer("conv_stem_conv2d").output)
    running_var = np.asarray(classifier.get_layer("conv_stem_bn").moving_variance)
    live = running_var > 1e-3  # some channels are dead in the checkpoint

    def misfit(rule) -> float:
        out = run(stem, np.stack([prepare_image(image, rule) for image in images]))
        return float(np.median(np.abs(np.log(out.var(axis=(0, 1, 2))[live] / running_var[live]))))

    ours = params.efficientnet_lite0
    imagenet = ours.model_copy(update={"mean": [123.675, 116.28, 103.53], "std": [58.395, 57.12, 57.375]})
    zero_to_one = ours.model_copy(update={"mean": [0.0] * 3, "std": [255.0] * 3})
    assert misfit(ours) * 2 < min(misfit(imagenet), misfit(zero_to_one))


def test_folding_batch_norms_keeps_the_features(classifier, extractor, photos, params):
    inputs = np.stack([prepare_image(photo, params.efficientnet_lite0) for photo in photos])
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in extractor.layers)
    np.testing.assert_allclose(run(extractor, inputs), run(feature_extractor(classifier), inputs), atol=1e-4)


def test_unreadable_posters_are_skipped_and_listed(extractor, archive, params):
    path, good, truncated = archive
    ids = np.array([good[0], truncated, good[1], 1, good[2], 2, good[3], good[4]])
    features, skipped = extract_features(extractor, path, ids, params.efficientnet_lite0, batch_size=2, progress=False)
    reasons = dict(zip(skipped["movie_id"], skipped["reason"]))
    assert set(reasons) == {truncated, 1, 2}
    assert reasons[2] == "not in the poster archive"
    assert reasons[1].startswith("unreadable image") and reasons[truncated].startswith("unreadable image")
    assert features.movie_ids.tolist() == good and features.matrix.shape == (5, 1280)


def test_each_row_is_its_own_posters_features(extractor, archive, params, tmp_path):
    """Rows follow the ids (checked one poster at a time), and a rerun writes the same bytes."""
    path, good, _ = archive
    ids = np.array(good[::-1])
    for name in ("one.npz", "two.npz"):
        features, _ = extract_features(extractor, path, ids, params.efficientnet_lite0, batch_size=2, progress=False)
        save_features(tmp_path / name, features)
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    saved = load_features(tmp_path / "one.npz")
    for movie_id in (good[0], good[3]):
        alone = prepare_image(Image.open(POSTERS / f"{movie_id}.jpg"), params.efficientnet_lite0)[None]
        np.testing.assert_allclose(saved.rows(np.array([movie_id]))[0], run(extractor, alone)[0], atol=1e-4)


def test_vgg16_extracts_512_features(archive, params):
    """The tutorial's network on tiny inputs with random weights: the code path, not the weights."""
    path, good, _ = archive
    rule = params.vgg16.model_copy(update={"image_size": 32})
    model = fold_batch_norms(build_vgg16(None, rule.image_size))
    features, skipped = extract_features(model, path, np.array(good[:3]), rule, batch_size=2, progress=False)
    assert features.matrix.shape == (3, 512) and np.isfinite(features.matrix).all() and skipped.empty


def test_vgg16_refuses_a_missing_or_broken_weights_file(tmp_path):
    with pytest.raises(WeightsUnavailable, match="not found"):
        build_vgg16(tmp_path / "missing.h5", 32)
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not a weights file")
    with pytest.raises(WeightsUnavailable, match="cannot get VGG16 weights"):
        build_vgg16(broken, 32)


def test_vgg16_says_so_when_the_download_fails(monkeypatch):
    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr("keras.src.applications.vgg16.file_utils.get_file", offline)
    with pytest.raises(WeightsUnavailable, match="URL fetch failure.*vgg_extract.vgg16.weights"):
        build_vgg16("imagenet", 32)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("backbone", "resnet", r"`vgg_extract\.backbone`: Input should be 'efficientnet_lite0' or 'vgg16'"),
        ("efficientnet_lite0.std", [128, 0, 128], r"`vgg_extract\.efficientnet_lite0`: std must be positive"),
        ("vgg16.resize", "pad", r"`vgg_extract\.vgg16\.resize`: Input should be 'center_crop' or 'stretch'"),
        (
            "vgg16.crop_fraction",
            0.5,
            r"`vgg_extract\.vgg16`: crop_fraction must be set with resize: center_crop, and null",
        ),
    ],
)
def test_a_bad_vgg_extract_param_names_its_key(key, value, message):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    *parents, last = key.split(".")
    section = raw["vgg_extract"]
    for parent in parents:
        section = section[parent]
    section[last] = value
    with pytest.raises(ParamError, match=message):
        load_section(raw, "vgg_extract", VggExtractParams)
