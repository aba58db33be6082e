"""What one person may still do in a call: their support budget and their proposals.

One ``CallAllowance`` row per person and call counts what they used. Taking a unit is
one conditional statement, ``INSERT ... ON CONFLICT DO UPDATE SET used = used + 1 WHERE
used < limit RETURNING used`` (the first unit creates the row): on PostgreSQL concurrent
requests of the same person queue on the row's lock and each sees the value the previous
one wrote; on SQLite writers are serialised. So 50 simultaneous
supports of one person with a budget of 5 give exactly 5, never 6 (the same guarantee as
``Event.taken``, events/services/places.py).

``lock=False`` is the TEST-ONLY negative control: it reads the count, lets the test widen
the race (``_between_check_and_write``), then writes the value it read plus one, as
naive code would; the race tests show it goes beyond the limit.
"""

from __future__ import annotations

import enum
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import CallAllowance
from events.models.base import insert_for, table_of

_TABLE = table_of(CallAllowance)


class Allowance(enum.StrEnum):
    SUPPORTS = "supports_used"
    PROPOSALS = "proposals_used"


def _between_check_and_write(session: Session) -> None:
    """Test hook of the negative control (see the module docstring); does nothing."""


def _ensure_row(session: Session, call_id: UUID, person_key: str) -> None:
    """The person's row (the negative control reads it before writing)."""
    session.execute(
        insert_for(session)(CallAllowance)
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
    if limit <= 0:
        return None  # not even a first unit: the row's insert below would give one
    used = _TABLE.c[which.value]
    mine = (_TABLE.c.call_id == call_id, _TABLE.c.person_key == person_key)
    if not lock:  # the negative control: read, wait, write what was read plus one
        _ensure_row(session, call_id, person_key)
        count: int = session.execute(select(used).where(*mine)).scalar_one()
        _between_check_and_write(session)
        if count >= limit:
            return None
        session.execute(update(_TABLE).where(*mine).values({which.value: count + 1}))
        return count + 1
    statement = _taking(session.get_bind().dialect.name, which)
    values = {"call_id": call_id, "person_key": person_key, "limit": limit, "now": utcnow()}
    row: Any = session.execute(statement, values).first()
    return None if row is None else int(row[0])


@lru_cache(maxsize=8)  # one per database dialect and allowance
def _taking(dialect: str, which: Allowance) -> Any:
    """One statement, in the write lock of every support: the row is created with its
    first unit, or its count raised while under the limit (no row back when it is
    reached). Built once, with bound parameters."""
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    used = _TABLE.c[which.value]
    first = {"supports_used": 0, "proposals_used": 0, which.value: 1}
    new = insert(_TABLE).values(
        call_id=bindparam("call_id"), person_key=bindparam("person_key"), **first
    )
    return new.on_conflict_do_update(
        index_elements=["call_id", "person_key"],
        set_={
            which.value: used + 1,
            "updated_at": bindparam("now", type_=_TABLE.c.updated_at.type),
        },
        where=used < bindparam("limit", type_=Integer),
    ).returning(used)


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
