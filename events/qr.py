"""QR images of ticket URLs, PNG and SVG, drawn once and cached.

Drawing costs about 10 ms (measured on this machine kind), so each URL is drawn once per
process and kept in a bounded LRU cache. Opaque white background and the standard 4-module
quiet zone keep cracked and dark phone screens readable by door scanners.
"""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from qrcode.image.svg import SvgPathFillImage

#: Quiet zone in modules (the QR standard's minimum).
BORDER = 4
#: Pixels per module in the PNG: about 300 px for a ticket URL, crisp when printed.
PNG_BOX_SIZE = 8
#: Codes kept per process and format. An SVG is ~13 KB, so 4,096 could hold ~55 MiB per
#: worker; the codes asked for again and again (a door's or a board's join link) are few,
#: a ticket's is asked for by its one holder (issue 20 item 4: every cache bounded to fit).
CACHE_SIZE = 512


def _code(data: str) -> qrcode.QRCode:
    # Medium error correction: survives scratches and glare without a huge symbol.
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=PNG_BOX_SIZE, border=BORDER
    )
    code.add_data(data)
    code.make(fit=True)
    return code


@lru_cache(maxsize=CACHE_SIZE)
def qr_png(data: str) -> bytes:
    image = _code(data).make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=CACHE_SIZE)
def qr_svg(data: str) -> bytes:
    # SvgPathFillImage: one path on an explicit white rectangle (opaque background).
    image = _code(data).make_image(image_factory=SvgPathFillImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
