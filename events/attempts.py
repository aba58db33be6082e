"""Fixed-window attempt counters, kept in the ``key_value`` table inside the caller's own
write transaction.

Forms that must be limited per address *and* per object (links mailed again for one event:
per recipient address and per client) count here. The counter lives in the caller's
session: a write already holds the process's write gate (and, on PostgreSQL, the row lock
of the counter serialises concurrent attempts on one key, so the limit is exact).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import KeyValue

NAMESPACE = "rencontres.throttle"
MAX_KEY_LENGTH = 255


def count_attempt(session: Session, key: str, *, limit: int, window: timedelta) -> bool:
    """Count one attempt under ``key``; False once more than ``limit`` happened in the
    current window (which starts at the first attempt and lasts ``window``)."""
    key = key[:MAX_KEY_LENGTH]
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
