"""Attempt counters: how many times a key (a client address on the login form, an address
and an event on the "resend my links" form) tried in the current window. Counted by one
atomic statement (events/attempts.py), shared by every process on the database."""

from __future__ import annotations

from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from events.models.base import Base


class AttemptCounter(Base):
    __tablename__ = "attempt_counter"

    key: Mapped[str] = mapped_column(String(255), unique=True)
    #: Attempts since the window began, the refused ones included.
    hits: Mapped[int] = mapped_column(Integer)
    #: The window began at the first attempt and lasts until then.
    window_ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
