"""Shared base for every model: UUIDv7 primary keys, UTC audit timestamps, one metadata."""

from __future__ import annotations

from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.mixins.uuid import uuid7

#: The one declarative base; every model's table ends up in ``Base.metadata``.
Base = UUIDv7AuditBase


def new_id() -> UUID:
    """The primary key the column default would give at flush, known before it: rows
    that reference each other can then be added together and written in one flush."""
    return uuid7()


__all__ = ["Base", "new_id"]
