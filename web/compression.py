"""Response compression: brotli or gzip for text, chosen from ``Accept-Encoding``.

The rule, for every response:

* **What**: bodies of ``MINIMUM_BYTES`` or more whose type is text (HTML, CSS, JavaScript,
  JSON, iCalendar, Atom and other XML, SVG, CSV, plain text). Images (JPEG covers, PNG QR
  codes), event streams (the door's live counters) and bodies already encoded pass
  untouched.
* **Which coding**: the one ``Accept-Encoding`` allows with the highest weight, brotli
  before gzip on a tie (``x-gzip`` counts as gzip, ``*`` stands for the codings not
  named, ``q=0`` refuses one); none when only ``identity`` is acceptable.
* **Where**: a body that is kept in memory (a feed, web/calendar_response.py) or answered
  with an ``ETag`` is a :class:`web.conditional.Rendered`: it is compressed once per
  coding, keeps its compressed forms as long as it is cached, and each coding has its own
  strong tag (``"…-br"``, ``"…-gz"``) so ``If-None-Match`` finds the right one. Those
  answers say ``Vary: Accept-Encoding`` themselves, and the middleware leaves them alone.
  Everything else (pages, fragments, JSON, static files) is compressed on the way out by
  :class:`NegotiatedCompressionMiddleware` (Litestar's compression middleware, told which
  responses to compress); a strong ``ETag`` on such a body becomes weak (``W/``): the
  compressed bytes differ, the representation is the same, and ``If-None-Match``
  compares weakly.
"""

from __future__ import annotations

import gzip
from typing import TYPE_CHECKING

import brotli
from litestar.config.compression import CompressionConfig
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.middleware.compression import CompressionMiddleware

if TYPE_CHECKING:
    from litestar.types import Message, Receive, Scope, Send

MINIMUM_BYTES = 500
GZIP_LEVEL = 6
#: Brotli's speed/size balance for text: a little slower than gzip 6, a tenth to a quarter
#: smaller (docs/performance.md); 11 took a hundred times longer on a 1 MB feed.
BROTLI_QUALITY = 5
#: Codings we send, most preferred first on equal weights.
CODINGS = ("br", "gzip")
_TEXT_TYPES = frozenset({"application/javascript", "application/json", "application/xml"})
#: Structured syntax suffixes (RFC 6839): Atom, SVG, problem details, the OpenAPI document.
_TEXT_SUFFIXES = ("+json", "+xml")


def is_compressible(media_type: str) -> bool:
    """Whether a body of ``media_type`` (parameters allowed) is text worth compressing."""
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind == "text/event-stream":  # sent piece by piece: compression would hold it back
        return False
    return kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(_TEXT_SUFFIXES)


def _weights(accept_encoding: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, _sep, params = part.strip().partition(";")
        coding = "gzip" if coding.strip() == "x-gzip" else coding.strip()
        weight = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            weights[coding] = weight
    return weights


def negotiate(accept_encoding: str, offered: tuple[str, ...] = CODINGS) -> str:
    """``br``, ``gzip`` or ``identity``: the coding to send for ``Accept-Encoding``, among
    the ``offered`` ones (a body kept whole in gzip offers only gzip)."""
    weights = _weights(accept_encoding)
    wildcard = weights.get("*", 0.0)
    best, best_weight = "identity", 0.0
    for coding in offered:
        weight = weights.get(coding, wildcard)
        if weight > best_weight:
            best, best_weight = coding, weight
    return best


def compress(body: bytes, coding: str) -> bytes:
    """``body`` in ``coding`` (``br`` or ``gzip``; the gzip header carries no time, so the
    same body always gives the same bytes)."""
    if coding == "br":
        compressed: bytes = brotli.compress(body, quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT)
        return compressed
    if coding == "gzip":
        return gzip.compress(body, GZIP_LEVEL, mtime=0)
    raise ValueError(f"unknown content coding {coding!r}")


def worth_compressing(media_type: str, size: int) -> bool:
    """Whether a body of ``media_type`` and ``size`` bytes is compressed when accepted (so
    its answer varies with ``Accept-Encoding``)."""
    return size >= MINIMUM_BYTES and is_compressible(media_type)


def response_coding(accept_encoding: str, media_type: str, size: int) -> str:
    """The coding for a body of ``media_type`` and ``size`` bytes."""
    return negotiate(accept_encoding) if worth_compressing(media_type, size) else "identity"


def _negotiated_elsewhere(headers: MutableScopeHeaders) -> bool:
    """Already encoded, or it chose its coding itself (it varies on Accept-Encoding)."""
    vary = {value.strip().lower() for value in (headers.get("vary") or "").split(",")}
    return headers.get("content-encoding") is not None or "accept-encoding" in vary


class NegotiatedCompressionMiddleware(CompressionMiddleware):
    """Litestar's compression, for the responses of the module docstring only, with the
    coding chosen by weight (Litestar's own looks for ``br`` anywhere in the header, so
    ``br;q=0`` got brotli)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        coding = negotiate(Headers.from_scope(scope).get("accept-encoding", ""))
        if coding == "identity":
            await self.app(scope, receive, send)
            return
        target: Send = send

        async def choose(message: Message) -> None:
            nonlocal target
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                length = headers.get("content-length")
                small = length is not None and int(length) < MINIMUM_BYTES
                wanted = is_compressible(headers.get("content-type", ""))
                if wanted and not small and not _negotiated_elsewhere(headers):
                    etag = headers.get("etag")
                    if etag and not etag.startswith("W/"):
                        headers["etag"] = f"W/{etag}"
                    target = self.create_compression_send_wrapper(
                        send=send, compression_encoding=coding, scope=scope
                    )
            await target(message)

        await self.app(scope, receive, choose)


#: The app's compression (web/app.py).
COMPRESSION = CompressionConfig(
    backend="brotli",
    minimum_size=MINIMUM_BYTES,
    gzip_compress_level=GZIP_LEVEL,
    brotli_quality=BROTLI_QUALITY,
    brotli_gzip_fallback=True,
    middleware_class=NegotiatedCompressionMiddleware,
)
