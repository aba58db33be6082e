"""What one person may still do in a call: their support budget and their proposals.

One ``CallAllowance`` row per person and call counts what they used. Taking a unit is
one conditional statement, ``UPDATE ... SET used = used + 1 WHERE used < limit``: on
PostgreSQL concurrent requests of the same person queue on the row's lock and each sees
the value the previous one wrote; on SQLite writers are serialised. So 50 simultaneous
supports of one person with a budget of 5 give exactly 5, never 6 (the same guarantee as
``Event.taken``, events/services/places.py).

``lock=False`` is the TEST-ONLY negative control: it reads the count, lets the test widen
the race (``_between_check_and_write``), then writes the value it read plus one, as
naive code would; the race tests show it goes beyond the limit.
"""

from __future__ import annotations

import enum
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from events.models import CallAllowance
from events.models.base import table_of

_TABLE = table_of(CallAllowance)


class Allowance(enum.StrEnum):
    SUPPORTS = "supports_used"
    PROPOSALS = "proposals_used"


def _between_check_and_write(session: Session) -> None:
    """Test hook of the negative control (see the module docstring); does nothing."""


def _ensure_row(session: Session, call_id: UUID, person_key: str) -> None:
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    session.execute(
        insert(CallAllowance)
        .values(call_id=call_id, person_key=person_key, supports_used=0, proposals_used=0)
        .on_conflict_do_nothing(index_elements=["call_id", "person_key"])
    )


def take(
    session: Session,
    call_id: UUID,
    person_key: str,
    which: Allowance,
    limit: int,
    *,
    lock: bool = True,
) -> int | None:
    """Use one unit of ``which``; returns how many are used now, or None when ``limit``
    were used already (nothing changes then)."""
    _ensure_row(session, call_id, person_key)
    used = _TABLE.c[which.value]
    mine = (_TABLE.c.call_id == call_id, _TABLE.c.person_key == person_key)
    if not lock:  # the negative control: read, wait, write what was read plus one
        count: int = session.execute(select(used).where(*mine)).scalar_one()
        _between_check_and_write(session)
        if count >= limit:
            return None
        session.execute(update(_TABLE).where(*mine).values({which.value: count + 1}))
        return count + 1
    row: Any = session.execute(
        update(_TABLE).where(*mine, used < limit).values({which.value: used + 1}).returning(used)
    ).first()
    return None if row is None else int(row[0])


def give_back(
    session: Session, call_id: UUID, person_keys: list[str], which: Allowance, units: int = 1
) -> None:
    """Return units of ``which`` to each of these people (never below zero)."""
    if not person_keys:
        return
    used = _TABLE.c[which.value]
    session.execute(
        update(_TABLE)
        .where(_TABLE.c.call_id == call_id, _TABLE.c.person_key.in_(person_keys), used >= units)
        .values({which.value: used - units})
    )


def used(session: Session, call_id: UUID, person_key: str, which: Allowance) -> int:
    value = session.scalar(
        select(_TABLE.c[which.value]).where(
            _TABLE.c.call_id == call_id, _TABLE.c.person_key == person_key
        )
    )
    return int(value or 0)
