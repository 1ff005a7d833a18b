"""A poster as a CNN's input: decoded, resized by the backbone's rule, normalised (PIL and NumPy only)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from movie_genres.data.posters import decode_image, describe_image_error
from movie_genres.params import ImageInputParams

_RESAMPLING = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def prepare_image(image: Image.Image, rule: ImageInputParams) -> np.ndarray:
    """An RGB image as the network's input: resized by the rule, normalised, float32 (H, W, 3)."""
    width, height = image.size
    box = None
    if rule.resize == "center_crop":
        side = min(width, height) * (rule.crop_fraction or 1.0)
        left, top = (width - side) / 2, (height - side) / 2
        box = (left, top, left + side, top + side)
    size = (rule.image_size, rule.image_size)
    resized = image.convert("RGB").resize(size, _RESAMPLING[rule.interpolation], box=box)
    pixels = (np.asarray(resized, np.float32) - np.asarray(rule.mean, np.float32)) / np.asarray(rule.std, np.float32)
    return pixels[..., ::-1] if rule.channel_order == "bgr" else pixels


def network_input(data: bytes, rule: ImageInputParams) -> np.ndarray | str:
    """A poster file as the network's input, or why it cannot be read."""
    try:
        image = decode_image(data)
    except Exception as err:  # PIL raises many types for bad data
        return f"unreadable image: {describe_image_error(err)}"
    return prepare_image(image, rule)
