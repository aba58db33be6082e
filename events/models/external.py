"""External calendars a community mirrors: subscriptions to iCalendar URLs, and one-off
uploaded files. Their events are ordinary ``Event`` rows marked with ``external_uid``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import expression

from events.models.accounts import Community
from events.models.base import Base


class ExternalCalendar(Base):
    """Where a community's imported events come from.

    ``url`` is None for an uploaded file: imported once, never fetched again. The
    ``last_*`` columns describe the latest attempt, successful or not, for the organisers.
    """

    __tablename__ = "external_calendar"
    __table_args__ = (UniqueConstraint("community_id", "url"),)

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str | None] = mapped_column(String(2000), default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=expression.true())
    #: Validators of the last successful fetch, sent back as If-None-Match/If-Modified-Since.
    etag: Mapped[str] = mapped_column(String(500), default="", server_default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="", server_default="")
    last_fetched_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    #: "ok", "not_modified", or an error code (events.fetch / events.imports).
    last_status: Mapped[str] = mapped_column(String(32), default="", server_default="")
    #: The technical detail of the last error ("HTTP 404 Not Found"), as the server said it.
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: What the last import had to guess: ``[[code, {params}], ...]`` (events.imports.Note).
    last_notes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    event_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    community: Mapped[Community] = relationship(lazy="joined")

    @property
    def is_upload(self) -> bool:
        return self.url is None
