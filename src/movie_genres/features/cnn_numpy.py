"""EfficientNet-Lite0 in NumPy: the poster features of `cnn.build_backbone` (to float32 rounding) without
TensorFlow, for predict's one-movie calls (`predict --engine numpy`).

The network is read from the same torch checkpoint as the Keras one, module by module in the network's
order: a 3x3 stride-2 stem, 16 inverted-residual blocks (1x1 expansion, depthwise k x k, 1x1
projection; a residual where the shape is kept), a 1x1 head to 1280 channels, then the global average.
ReLU6 throughout, BatchNorm (epsilon 1e-3) folded into each convolution, TF "same" padding, as kimm's
EfficientNetLiteB0 computes it. The checkpoint does not record strides: EfficientNet-B0's stages
start with stride 2 at blocks 1, 3, 5 and 11.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from movie_genres.features.imagenet_weights import WeightsUnavailable, fold_batch_norm, keras_kernel
from movie_genres.features.torch_checkpoint import CheckpointError, read_legacy_torch_state_dict

STRIDE_2_BLOCKS = frozenset({1, 3, 5, 11})
BLOCKS = 16
BATCH_NORM_EPSILON = 1e-3


@dataclass(frozen=True)
class Convolution:
    kernel: np.ndarray  # Keras' layout, BatchNorm folded in: (k, k, in, out), or (k, k, channels, 1) depthwise
    bias: np.ndarray
    depthwise: bool = False
    stride: int = 1

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """One image (H, W, C) through the convolution, TF "same" padding."""
        k = self.kernel.shape[0]
        if k == 1 and self.stride == 1:
            return x @ self.kernel[0, 0] + self.bias
        windows = list(_windows(_pad_same(x, k, self.stride), k, self.stride))
        if self.depthwise:  # each channel with its own k x k kernel
            out = sum(window * self.kernel[i, j, :, 0] for (i, j), window in windows)
        else:  # a dense k x k convolution (the stem): the windows side by side, one matrix product
            out = np.concatenate([window for _, window in windows], axis=-1) @ self.kernel.reshape(
                -1, self.kernel.shape[-1]
            )
        return out + self.bias


def _pad_same(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    def pads(size: int) -> tuple[int, int]:
        total = max((-(-size // stride) - 1) * stride + k - size, 0)
        return total // 2, total - total // 2

    return np.pad(x, (pads(x.shape[0]), pads(x.shape[1]), (0, 0)))


def _windows(x: np.ndarray, k: int, stride: int) -> Iterator[tuple[tuple[int, int], np.ndarray]]:
    rows, cols = (x.shape[0] - k) // stride + 1, (x.shape[1] - k) // stride + 1
    for i in range(k):
        for j in range(k):
            yield (i, j), x[i : i + stride * rows : stride, j : j + stride * cols : stride]


def _relu6(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 6)


@dataclass(frozen=True)
class Block:
    expand: Convolution | None
    depthwise: Convolution
    project: Convolution

    def __call__(self, x: np.ndarray) -> np.ndarray:
        h = _relu6(self.expand(x)) if self.expand is not None else x
        h = self.project(_relu6(self.depthwise(h)))
        return x + h if h.shape == x.shape and self.depthwise.stride == 1 else h


class NumpyEfficientNetLite0:
    """`features(images)`: (n, H, W, 3) network inputs (`prepare_image`) -> (n, 1280) pooled features."""

    def __init__(self, weights_file: Path) -> None:
        try:
            state = read_legacy_torch_state_dict(weights_file)
        except CheckpointError as err:
            raise WeightsUnavailable(str(err)) from None
        try:
            self.stem = _folded(state, "_conv_stem", "_bn0", stride=2)
            self.blocks = [_block(state, n) for n in range(BLOCKS)]
            self.head = _folded(state, "_conv_head", "_bn1")
        except KeyError as missing:
            raise WeightsUnavailable(f"{weights_file} lacks {missing}: not an EfficientNet-Lite0 checkpoint") from None

    def features(self, images: np.ndarray) -> np.ndarray:
        return np.stack([self._one(np.asarray(image, np.float32)) for image in images])

    def _one(self, image: np.ndarray) -> np.ndarray:
        x = _relu6(self.stem(image))
        for block in self.blocks:
            x = block(x)
        return _relu6(self.head(x)).mean(axis=(0, 1))


def _folded(state: dict[str, np.ndarray], conv: str, bn: str, depthwise: bool = False, stride: int = 1) -> Convolution:
    """A bias-free torch convolution and the BatchNorm after it, as one convolution in Keras' layout."""
    kernel = keras_kernel(state[f"{conv}.weight"], depthwise)
    gamma, beta, mean, variance = (state[f"{bn}.{name}"] for name in ("weight", "bias", "running_mean", "running_var"))
    kernel, bias = fold_batch_norm(kernel, depthwise, gamma, beta, mean, variance, BATCH_NORM_EPSILON)
    return Convolution(kernel.astype(np.float32), bias.astype(np.float32), depthwise, stride)


def _block(state: dict[str, np.ndarray], n: int) -> Block:
    name = f"_blocks.{n}"
    expanded = f"{name}._expand_conv.weight" in state
    # Without an expansion the block's BatchNorms are bn1 (depthwise) and bn2 (projection), else bn0, bn1, bn2.
    expand = _folded(state, f"{name}._expand_conv", f"{name}._bn0") if expanded else None
    stride = 2 if n in STRIDE_2_BLOCKS else 1
    depthwise = _folded(state, f"{name}._depthwise_conv", f"{name}._bn1", depthwise=True, stride=stride)
    return Block(expand, depthwise, _folded(state, f"{name}._project_conv", f"{name}._bn2"))
