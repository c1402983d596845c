"""The join link as a QR code, drawn locally with segno (an SVG string, no network)."""

from __future__ import annotations

import io
from functools import lru_cache

import segno


@lru_cache(maxsize=8)
def qr_svg(url: str, title: str = "") -> str:
    """An inline SVG QR code of ``url`` (dark on white, scalable, with a quiet zone; cached)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False,
                                    svgns=True, title=title or None, light="#fff", svgclass="qr",
                                    lineclass=None, omitsize=True)
    return buffer.getvalue().decode("utf-8")
