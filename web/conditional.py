"""Conditional GET: entity tags, ``If-None-Match`` / ``If-Modified-Since``, and the 304.

The rule, for every route that sends an ``ETag`` (feeds, event covers, ticket QR codes):

* ``If-None-Match`` uses the *weak* comparison (RFC 9110 §13.1.2 and §13.1.3): it may list
  several tags separated by commas, a ``W/`` prefix (also written ``w/`` by some clients)
  is ignored on both sides, and ``*`` matches any current representation.
* ``If-Modified-Since`` is only looked at when ``If-None-Match`` is absent; it matches
  when ``Last-Modified`` (to the second) is at or before the date sent. A date that does
  not parse is ignored.
* A match answers ``304 Not Modified`` with no body and the headers a 200 would carry
  (``ETag``, ``Cache-Control``, ``Vary``, ``Last-Modified``...), minus those describing a
  body (type, length, encoding, disposition). ``HEAD`` answers the GET headers and no body.

A body's tag is the quoted first 32 hex digits of its SHA-256 (:func:`body_etag`); each
content coding of the same body has its own tag (:func:`coded_etag`), since the bytes
differ. :func:`conditional_response` sends a :class:`Rendered` body in the coding the
client accepts (web/compression.py) and matches ``If-None-Match`` against that coding's
tag, so a 304 works for every encoding.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from litestar import Request, Response

from web.compression import compress, response_coding, worth_compressing

#: One member of ``If-None-Match``: an optional weakness prefix, then a quoted opaque tag.
_TAG = re.compile(r'(?:[Ww]/)?("[^"]*")')
#: What a coded body's tag ends with (``-gz`` predates brotli: feeds already sent it).
_CODING_SUFFIXES = {"gzip": "gz", "br": "br"}
#: Headers that describe a body: a 304 has none.
_BODY_HEADERS = frozenset(
    {"content-type", "content-length", "content-encoding", "content-disposition"}
)


def body_etag(body: bytes) -> str:
    """The strong tag of ``body``: ``"`` + 32 hex digits of its SHA-256 + ``"``."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def coded_etag(etag: str, coding: str) -> str:
    """The tag of the same representation sent with a content coding: ``"abc"`` becomes
    ``"abc-gz"`` for gzip, ``"abc-br"`` for brotli; ``identity`` keeps the tag."""
    if coding == "identity":
        return etag
    weak, opaque = ("W/", etag[2:]) if etag.startswith("W/") else ("", etag)
    return f'{weak}{opaque[:-1]}-{_CODING_SUFFIXES.get(coding, coding)}"'


def _opaque(etag: str) -> str:
    return etag[2:] if etag[:2] in {"W/", "w/"} else etag


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether ``If-None-Match`` matches ``etag`` by the weak comparison (lists, ``W/`` or
    ``w/`` prefixes on either side, ``*``). A member that is not a quoted tag, weak or
    not, or ``*`` is skipped (no tag of ours holds a comma)."""
    wanted = _opaque(etag)
    for member in if_none_match.split(","):
        member = member.strip()
        if member == "*":
            return True
        tag = _TAG.fullmatch(member)
        if tag is not None and tag.group(1) == wanted:
            return True
    return False


def modified_since_matches(if_modified_since: str, last_modified: datetime | None) -> bool:
    """Whether the resource is unchanged since ``If-Modified-Since`` (to the second)."""
    if last_modified is None or not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


def is_not_modified(request: Request, etag: str, last_modified: datetime | None = None) -> bool:
    """Whether the request's validators match: ``If-None-Match`` when sent, otherwise
    ``If-Modified-Since`` against ``last_modified``."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    return modified_since_matches(request.headers.get("if-modified-since", ""), last_modified)


def not_modified(headers: Mapping[str, str]) -> Response[bytes]:
    """``304 Not Modified``: no body, and ``headers`` without those describing a body."""
    kept = {name: value for name, value in headers.items() if name.lower() not in _BODY_HEADERS}
    return Response(content=b"", status_code=304, headers=kept)


class Rendered:
    """A body with its ``ETag`` (by default :func:`body_etag`), and its compressed forms,
    each made on first demand and kept as long as this object is: a cached ``Rendered``
    (a feed) is compressed once per coding, not per request. Two threads asking at once
    may both compress; the results are equal and one is kept."""

    __slots__ = ("_coded", "body", "etag")

    def __init__(self, body: bytes, etag: str | None = None) -> None:
        self.body = body
        self.etag = etag or body_etag(body)
        self._coded: dict[str, bytes] = {}

    @property
    def size(self) -> int:
        """Bytes of the body and of every compressed form made so far."""
        return len(self.body) + sum(len(coded) for coded in list(self._coded.values()))

    def encoded(self, coding: str) -> bytes:
        """The body in ``coding`` (``identity``: as it is)."""
        if coding == "identity":
            return self.body
        found = self._coded.get(coding)
        if found is None:
            found = self._coded.setdefault(coding, compress(self.body, coding))
        return found


def _with_vary(headers: dict[str, str], field: str) -> None:
    """Add ``field`` to the ``Vary`` of ``headers`` (whatever the case of its name)."""
    name = next((key for key in headers if key.lower() == "vary"), "vary")
    present = [item.strip() for item in headers.get(name, "").split(",") if item.strip()]
    if field.lower() not in {item.lower() for item in present}:
        headers[name] = ", ".join([*present, field])


def conditional_response(
    request: Request,
    rendered: Rendered,
    *,
    media_type: str,
    headers: Mapping[str, str],
    last_modified: datetime | None = None,
) -> Response[bytes]:
    """304 when the validators match, else the body (or, for ``HEAD``, only its headers),
    with ``headers``. A text body is sent in the coding the client prefers
    (web/compression.py), with that coding's own tag and ``Vary: Accept-Encoding``."""
    sent = dict(headers)
    size = len(rendered.body)
    coding = response_coding(request.headers.get("accept-encoding", ""), media_type, size)
    if worth_compressing(media_type, size):
        _with_vary(sent, "Accept-Encoding")  # another client gets other bytes
    if coding != "identity":
        sent["content-encoding"] = coding
    etag = coded_etag(rendered.etag, coding)
    sent["etag"] = etag
    if is_not_modified(request, etag, last_modified):
        return not_modified(sent)
    body = rendered.encoded(coding)
    if request.method == "HEAD":
        sent["content-length"] = str(len(body))
        return Response(content=b"", media_type=media_type, headers=sent)
    return Response(content=body, media_type=media_type, headers=sent)
