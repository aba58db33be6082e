"""Count attempts exactly, across every process: one atomic statement per attempt.

A rate limit that reads the counter, then writes it back (Litestar's middleware over a
store) lets concurrent attempts read the same value: 30 simultaneous logins passed 11 to
19 times through a limit of 10. Here each attempt is a single
``INSERT ... ON CONFLICT (key) DO UPDATE SET hits = hits + 1 ... RETURNING hits``: the
database orders concurrent attempts on the row (PostgreSQL's row lock, SQLite's single
writer), so each one gets a distinct count and exactly ``limit`` of them see a count
within the limit, whichever process or node they reach.

Fixed windows: a window begins at the first attempt after the previous one ended and
lasts ``window``; refused attempts count too (they do not make the window longer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, case, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from events.clock import utcnow
from events.models import AttemptCounter
from events.models.base import table_of

#: Counters whose window ended this long ago are deleted by the periodic job.
KEEP_ENDED = timedelta(hours=1)
_TABLE = table_of(AttemptCounter)


@dataclass(frozen=True)
class Attempts:
    #: Attempts in the current window, this one included.
    count: int
    window_ends_at: datetime

    def allowed(self, limit: int) -> bool:
        return self.count <= limit

    def remaining(self, limit: int) -> int:
        return max(limit - self.count, 0)


@lru_cache(maxsize=4)  # one per database dialect
def _counting(dialect: str) -> ReturningInsert[int, datetime]:
    """The counting statement, built once per dialect with its values as bound parameters
    (building it and its cache key anew for every attempt was most of an attempt's cost)."""
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    new = insert(_TABLE).values(key=bindparam("key"), hits=1, window_ends_at=bindparam("ends_at"))
    ended = _TABLE.c.window_ends_at <= bindparam("now", type_=_TABLE.c.window_ends_at.type)
    return new.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={
            "hits": case((ended, 1), else_=_TABLE.c.hits + 1),
            "window_ends_at": case(
                (ended, new.excluded.window_ends_at), else_=_TABLE.c.window_ends_at
            ),
            "updated_at": bindparam("changed_at", type_=_TABLE.c.updated_at.type),
        },
    ).returning(_TABLE.c.hits, _TABLE.c.window_ends_at)


def count_attempt(
    session: Session, key: str, *, window: timedelta, now: datetime | None = None
) -> Attempts:
    """Count one attempt under ``key`` in the session's (write) transaction; returns the
    count so far in the current window, this attempt included."""
    now = now or utcnow()
    statement = _counting(session.get_bind().dialect.name)
    values = {"key": key, "ends_at": now + window, "now": now, "changed_at": now}
    hits, ends = session.execute(statement, values).one()
    return Attempts(count=int(hits), window_ends_at=ends)


def purge_ended_counters(session: Session, now: datetime | None = None) -> int:
    """Delete the counters whose window ended more than :data:`KEEP_ENDED` ago."""
    cutoff = (now or utcnow()) - KEEP_ENDED
    result = session.execute(delete(AttemptCounter).where(AttemptCounter.window_ends_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
