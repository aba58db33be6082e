"""Shared base for every model: UUIDv7 primary keys, UTC audit timestamps, one metadata."""

from __future__ import annotations

from advanced_alchemy.base import UUIDv7AuditBase

#: The one declarative base; every model's table ends up in ``Base.metadata``.
Base = UUIDv7AuditBase

__all__ = ["Base"]
