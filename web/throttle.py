"""Which client a request comes from, as the key of the attempt counters.

The app-wide rate limiter (web/rate_limit.py) counts per client address for a fixed set of
paths; use cases limited per address *and* per object (links mailed again: per event,
address and client) count in the domain with the same atomic counter (events/attempts.py),
given this key.
"""

from __future__ import annotations

from litestar import Request
from litestar.middleware.rate_limit import get_remote_address

MAX_KEY_LENGTH = 255


def client_key(request: Request, *parts: object) -> str:
    """The counter key for this client address and ``parts`` (e.g. ``"resend"``, event id)."""
    return "|".join([get_remote_address(request), *map(str, parts)])[:MAX_KEY_LENGTH]
