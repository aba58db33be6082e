"""The client side of the attempt counters (events/attempts.py): which client a request
comes from. The app-wide rate limiter (web/app.py) counts per client address only, for a
fixed set of paths; forms that must be limited per object count with these keys.
"""

from __future__ import annotations

from litestar import Request
from litestar.middleware.rate_limit import get_remote_address

from events.attempts import MAX_KEY_LENGTH, count_attempt

__all__ = ["client_key", "count_attempt"]


def client_key(request: Request, *parts: object) -> str:
    """The counter key for this client address and ``parts`` (e.g. ``"resend"``, event id)."""
    return "|".join([get_remote_address(request), *map(str, parts)])[:MAX_KEY_LENGTH]
