"""Fixed-window attempt counters counted inside the request's own write transaction.

The app-wide rate limiter (web/rate_limit.py) counts per client address only, for a fixed
set of paths. Forms that must be limited per address *and* per object (the "resend my
ticket" form: per address and event) count here instead, with the same atomic counter
(events/attempts.py), in the request's session: a POST already holds the process's write
gate, and counting apart would wait for that same gate.
"""

from __future__ import annotations

from datetime import timedelta

from litestar import Request
from litestar.middleware.rate_limit import get_remote_address
from sqlalchemy.orm import Session

from events.attempts import count_attempt

MAX_KEY_LENGTH = 255


def client_key(request: Request, *parts: object) -> str:
    """The counter key for this client address and ``parts`` (e.g. ``"resend"``, event id)."""
    return "|".join([get_remote_address(request), *map(str, parts)])[:MAX_KEY_LENGTH]


def allow(session: Session, key: str, *, limit: int, window: timedelta) -> bool:
    """Count one attempt under ``key``; False once more than ``limit`` happened in the
    current window (which starts at the first attempt and lasts ``window``)."""
    return count_attempt(session, key, window=window).allowed(limit)
