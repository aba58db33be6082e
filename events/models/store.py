"""A small expiring key-value table: web sessions and rate-limit counters live here so
that several worker processes share them without Redis."""

from __future__ import annotations

from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from events.models.base import Base


class KeyValue(Base):
    __tablename__ = "key_value"
    __table_args__ = (UniqueConstraint("namespace", "key"),)

    namespace: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), index=True)
