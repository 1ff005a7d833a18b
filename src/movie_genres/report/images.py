"""Images inside the page: `data:` URIs, posters shrunk to thumbnails the same way every time."""

from __future__ import annotations

import base64
import io

from PIL import Image


def data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def thumbnail(data: bytes, width: int, quality: int) -> bytes:
    """A poster as a baseline JPEG `width` pixels wide (never wider than the original), aspect kept.

    Nothing of the original file (EXIF, ICC profile, comments) is carried over, and the encoder's
    settings are fixed, so the same poster gives the same bytes on every run.
    """
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    if rgb.width > width:
        height = max(1, round(rgb.height * width / rgb.width))
        rgb = rgb.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=quality, optimize=False, progressive=False, subsampling="4:2:0")
    return out.getvalue()
