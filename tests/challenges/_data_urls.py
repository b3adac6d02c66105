"""Decoding the data URLs that challenge payloads carry."""

from __future__ import annotations

import base64
import io

from PIL import Image


def raw(data_url: str) -> bytes:
    return base64.b64decode(data_url.split(",", 1)[1], validate=True)


def image(data_url: str) -> Image.Image:
    return Image.open(io.BytesIO(raw(data_url)))
