"""Reports and moderation of what people post without an account.

One ``ModerationCase`` per reported (or moderated) thing, whatever its kind; it holds the
visibility the thing's pages obey (``hidden``) and the organisers' decision. Reports count
once per person (their keyed hash), so three reports are three people. The rules live in
events/services/moderation.py.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import expression

from events.models.base import Base


class ModerationCase(Base):
    __tablename__ = "moderation_case"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_id", name="uq_moderation_subject"),)

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[UUID] = mapped_column(GUID)
    #: What the queue shows: the thing's title and public address, as when last reported.
    title: Mapped[str] = mapped_column(String(200), default="")
    path: Mapped[str] = mapped_column(String(300), default="")
    #: Distinct people who reported it (only ever changed by a conditional increment).
    reports: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    #: Who hid it: "reports" (automatically, at the threshold) or "organiser"; "" if shown.
    hidden_by: Mapped[str] = mapped_column(String(16), default="")
    #: The organisers' last decision: "hidden", "restored", or "" while none was taken.
    decision: Mapped[str] = mapped_column(String(16), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class ModerationReport(Base):
    __tablename__ = "moderation_report"
    __table_args__ = (UniqueConstraint("case_id", "reporter_key", name="uq_moderation_reporter"),)

    case_id: Mapped[UUID] = mapped_column(
        ForeignKey("moderation_case.id", ondelete="CASCADE"), index=True
    )
    reporter_key: Mapped[str] = mapped_column(String(64))
    #: One of events.services.moderation.REASONS.
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
