"""Fixed-window attempt counters kept in the ``key_value`` table, inside the request's own
write transaction.

The app-wide rate limiter (web/app.py) counts per client address only, for a fixed set of
paths. Forms that must be limited per address *and* per object (the "resend my ticket"
form: per address and event) count here instead. The counter lives in the request's
session rather than going through ``DatabaseStore``: a POST already holds the process's
write gate, and the store would wait for that same gate.
"""

from __future__ import annotations

from datetime import timedelta

from litestar import Request
from litestar.middleware.rate_limit import get_remote_address
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import KeyValue

NAMESPACE = "rencontres.throttle"
MAX_KEY_LENGTH = 255


def client_key(request: Request, *parts: object) -> str:
    """The counter key for this client address and ``parts`` (e.g. ``"resend"``, event id)."""
    return "|".join([get_remote_address(request), *map(str, parts)])[:MAX_KEY_LENGTH]


def allow(session: Session, key: str, *, limit: int, window: timedelta) -> bool:
    """Count one attempt under ``key``; False once more than ``limit`` happened in the
    current window (which starts at the first attempt and lasts ``window``)."""
    now = utcnow()
    row = session.scalar(
        select(KeyValue)
        .where(KeyValue.namespace == NAMESPACE, KeyValue.key == key)
        .with_for_update()
    )
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
        statement = insert(KeyValue).values(
            namespace=NAMESPACE, key=key, value=b"1", expires_at=now + window
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["namespace", "key"],
                set_={"value": b"1", "expires_at": now + window, "updated_at": now},
            )
        )
        return True
    count = int(row.value or b"0") + 1
    row.value = str(count).encode()
    session.flush()
    return count <= limit
