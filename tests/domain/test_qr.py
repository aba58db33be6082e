"""Ticket QR images decode, with an independent decoder (OpenCV), to the ticket URL."""

from __future__ import annotations

import cv2
import numpy as np

from events.qr import qr_png, qr_svg
from events.tickets import new_ticket_code, ticket_url
from tests.qr_decoding import decode_png


def test_the_png_decodes_to_the_ticket_url() -> None:
    url = ticket_url("https://rencontres.example.org", new_ticket_code())
    assert decode_png(qr_png(url)) == url


def test_the_png_keeps_an_opaque_white_quiet_zone() -> None:
    image = cv2.imdecode(np.frombuffer(qr_png("https://x.test/t/abc"), np.uint8), -1)
    assert image.ndim == 2 or image.shape[2] == 3  # no alpha channel
    border = 4 * 8  # four modules of eight pixels
    assert (image[:border] == 255).all() and (image[:, :border] == 255).all()


def test_the_svg_has_a_white_background_and_is_cached() -> None:
    svg = qr_svg("https://x.test/t/abc")
    assert b'<rect fill="white"' in svg
    assert qr_svg("https://x.test/t/abc") is svg
