"""Reads of plain columns run on the session's connection, past the ORM.

A statement that selects columns (no entity) gains nothing from ``Session.execute``'s ORM
layer, which costs about 70–90 µs per statement on this machine (docs/performance.md,
offers board): on a page that runs several, that is a measurable part of its time.
:func:`plain_rows` runs such a statement on the session's own connection, in the same
transaction, after flushing what the session holds pending, as ``Session.execute`` would
(autoflush): a read never misses a change made earlier in its transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVarTuple

from sqlalchemy import CompoundSelect, CursorResult, Select
from sqlalchemy.orm import Session

_Columns = TypeVarTuple("_Columns")


def plain_rows(
    session: Session,
    statement: Select[*_Columns] | CompoundSelect[*_Columns],
    parameters: Mapping[str, Any] | None = None,
) -> CursorResult[*_Columns]:
    """``statement`` (columns only) on ``session``'s connection, pending changes flushed."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection().execute(statement, parameters)
