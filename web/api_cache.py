"""Public API answers: JSON bytes reused until what they show changes, with an ETag, a 304
for a matching ``If-None-Match``, shared caching and open CORS (the same rule as the feeds).

An answer is kept in the process's page cache (web/page_cache.py) under the shared content
version, the minute (lists drop events as they end), the path and the query string, so a
poll of an unchanged list costs a dictionary lookup and a hash comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response

from web.conditional import Rendered, conditional_response
from web.page_cache import cached_html

#: Clients may reuse an answer for a minute, then revalidate with its ETag.
PUBLIC_CACHE_CONTROL = "public, max-age=60"
PUBLIC_HEADERS = {
    "cache-control": PUBLIC_CACHE_CONTROL,
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "ETag",
}
JSON = "application/json"
_encoder = msgspec.json.Encoder()


def _encoded(build: Callable[[], Any]) -> Rendered:
    return Rendered(_encoder.encode(build()))


def public_json(
    request: Request, build: Callable[[], Any], *, version: object = None
) -> Response[bytes]:
    """200 with ``build()`` as JSON (cached, see the module docstring), or 304.
    ``version``: a change marker of what the answer shows that the shared content version
    does not follow (a board's own version: its topics change all evening)."""
    parts = ("api", request.url.path, request.url.query or "", version)
    rendered = cached_html(request, parts, lambda: _encoded(build))
    return conditional_response(request, rendered, media_type=JSON, headers=PUBLIC_HEADERS)
