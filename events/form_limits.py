"""Limits on the public forms people use without an account: per client and per address.

Proposing, supporting, reporting and following each allow a number of attempts per window
from one client (its network address, as web/throttle.py gives it) and for one person
(their address, or their keyed hash), counted by events/attempts.py in the caller's write
transaction. Both counters count on every attempt (no short cut), so neither can be
probed around; beyond either, ``RateLimited`` and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from events.attempts import count_attempt
from events.errors import RateLimited
from events.tokens import hash_token


@dataclass(frozen=True)
class FormLimit:
    """``attempts`` per ``window``, for each client and each person."""

    attempts: int
    window: timedelta


def require_within_limit(
    session: Session, action: str, limit: FormLimit, *, client: str = "", person: str = ""
) -> None:
    """Count one ``action`` attempt for ``client`` and for ``person`` (an address or a
    keyed hash: only its SHA-256 goes into the counter's key); ``RateLimited`` beyond."""
    allowed = True
    for scope, who in (("client", client), ("person", hash_token(person) if person else "")):
        if who and not count_attempt(
            session, f"form|{action}|{scope}|{who}", window=limit.window
        ).allowed(limit.attempts):
            allowed = False
    if not allowed:
        raise RateLimited()
