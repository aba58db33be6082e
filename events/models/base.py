"""Shared base for every model: UUIDv7 primary keys, UTC audit timestamps, one metadata."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.mixins import uuid as _uuid_mixin
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

#: The one declarative base; every model's table ends up in ``Base.metadata``.
Base = UUIDv7AuditBase


def new_id() -> UUID:
    """The primary key the column default would give at flush, known before it: rows
    that reference each other can then be added together and written in one flush."""
    # The same UUIDv7 maker as the column default (advanced-alchemy picks the library).
    made: UUID = _uuid_mixin.uuid7()  # type: ignore[attr-defined]
    return made


def table_of(model: type[Base]) -> Table:
    """The table of ``model``, typed as the ``Table`` it is (SQLAlchemy types it as any
    ``FromClause``), for the Core statements of the hot paths."""
    return cast(Table, model.__table__)


def insert_for(session: Session) -> Any:
    """The ``INSERT`` of the session's database, the one with ``ON CONFLICT`` (SQLite's or
    PostgreSQL's, the two the project runs on)."""
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert


__all__ = ["Base", "insert_for", "new_id", "table_of"]
