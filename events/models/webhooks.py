"""Signed webhooks: a community's endpoints and the outbox of deliveries.

A delivery row is written in the same transaction as the change it reports
(events/webhook_queue.py), so nothing acknowledged is lost and a rolled-back change sends
nothing; the delivery job (events/jobs/webhooks.py) posts it with retries.
"""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import expression

from events.models.accounts import Community
from events.models.base import Base


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoint"

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    #: The signing key (``whsec_`` + base64 of 24 random bytes): needed in clear to sign,
    #: shown to the organiser once, never again.
    secret: Mapped[str] = mapped_column(String(80))
    #: Subscribed event types between commas (``,registration.created,checkin.created,``),
    #: so one ``LIKE`` finds the subscribers of a type on both databases.
    event_types: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=expression.true())
    #: When deliveries started failing without a success since (None: healthy).
    failing_since: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    community: Mapped[Community] = relationship(lazy="joined")

    @property
    def types(self) -> list[str]:
        return [name for name in self.event_types.split(",") if name]


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    #: Gave up (the retries ran out, or the endpoint was disabled).
    FAILED = "failed"


delivery_status_type = Enum(
    DeliveryStatus, name="webhook_delivery_status", values_callable=lambda e: [m.value for m in e]
)


class WebhookDelivery(Base):
    """One message to one endpoint. Its id is the ``webhook-id`` (``msg_`` + hex): every
    retry sends the same id and body, so receivers deduplicate by it."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    endpoint_id: Mapped[UUID] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(40))
    #: The JSON body exactly as signed and sent (fixed when queued).
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        delivery_status_type, default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    #: The last answer's HTTP status (None: no answer: refused, timeout, no connection).
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    @property
    def message_id(self) -> str:
        return f"msg_{self.id.hex}"
