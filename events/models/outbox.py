"""The e-mail outbox: every mail is written in the same transaction as the change that
causes it, then sent by a background sender with retries (events/mail/sender.py), so an
acknowledged registration's mail survives a crash or an SMTP outage."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from events.models.base import Base


class OutboxStatus(enum.StrEnum):
    #: Waiting to be sent (or to be retried at ``next_attempt_at``).
    PENDING = "pending"
    SENT = "sent"
    #: Gave up after the last retry; an organiser can see it and send it again.
    FAILED = "failed"


outbox_status_type = Enum(
    OutboxStatus, name="outbox_status", values_callable=lambda e: [m.value for m in e]
)


class OutboxMessage(Base):
    """One e-mail. A mail to a registrant is queued with ``render_spec`` (what to say: the
    kind, the registration as it was, the one-time links) and empty bodies; the mail worker
    renders it within a second or so (events/mail/prepare.py), sets the subject, bodies and
    attachments and clears ``render_spec``. From then on the row is final: what is sent,
    and sent again after a failure, is exactly what was rendered.

    ``attachments`` is a list of ``{"filename", "content_type", "data" (base64),
    "content_id" (set for inline images)}``.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Scope for the organiser's outbox page; mails of deleted events stay (as sent history).
    community_id: Mapped[UUID | None] = mapped_column(
        GUID, ForeignKey("community.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[UUID | None] = mapped_column(
        GUID, ForeignKey("event.id", ondelete="SET NULL"), index=True
    )
    registration_id: Mapped[UUID | None] = mapped_column(GUID, index=True)
    #: Makes scheduled mails (reminders) idempotent: one row per key, ever.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(outbox_status_type, default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    #: Set while a sender works on the row, so two senders never send it twice.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    #: Set until the worker has rendered the mail (see the class docstring); never sent
    #: while set. Holds the plain private-link token until then, like the body after.
    render_spec: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None
    )
    #: One-click unsubscribe (RFC 8058) of a mail to a follower: the sender writes it as
    #: ``List-Unsubscribe`` with ``List-Unsubscribe-Post`` (events/mail/message.py).
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500), default=None)
