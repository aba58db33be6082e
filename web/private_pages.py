"""Headers of the pages a private link opens (``/p/{token}``, ``/c/{token}``,
``/u/{token}``): never stored by a cache, never indexed, and the token never leaves in a
``Referer``."""

from __future__ import annotations

from typing import Any

PRIVATE_HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex, nofollow",
}


def private(response: Any) -> Any:
    """``response`` with the private-page headers."""
    response.headers.update(PRIVATE_HEADERS)
    return response
