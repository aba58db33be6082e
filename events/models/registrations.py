"""Registrations without an account, and their append-only audit log.

A registration is one *party*: the registrant plus ``guests``; it holds ``1 + guests``
places while confirmed. Only ``Event.taken`` counts places, and only the registration
service changes it (under the event's lock, see events/services/registrations.py).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import expression

from events.models.base import Base
from events.models.events import Event
from events.validation import is_placeholder_email


class RegistrationStatus(enum.StrEnum):
    #: Waiting for the registrant to click the link mailed to them (holds no place).
    PENDING_EMAIL = "pending_email"
    #: Waiting for an organiser's decision (holds no place).
    PENDING_APPROVAL = "pending_approval"
    #: Holds ``1 + guests`` places and has a ticket.
    CONFIRMED = "confirmed"
    #: In line for a place, ordered by ``waitlist_position``.
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    DECLINED = "declined"

    @property
    def is_active(self) -> bool:
        return self not in INACTIVE_STATUSES


INACTIVE_STATUSES = frozenset({RegistrationStatus.CANCELLED, RegistrationStatus.DECLINED})
#: The active-address index's condition. A query that means to use that index must say it
#: in these very words: with the statuses as bound parameters, SQLite cannot tell that the
#: index applies and scans every registration of the event instead.
ACTIVE_ONLY = "status NOT IN ('cancelled', 'declined')"

registration_status_type = Enum(
    RegistrationStatus,
    name="registration_status",
    values_callable=lambda e: [m.value for m in e],
)


class Registration(Base):
    """One party registered for one event.

    Secrets: only the SHA-256 of the manage token is stored (the token is handed back once
    to be mailed); the ticket code is stored as is because the door looks it up.
    """

    __tablename__ = "registration"
    __table_args__ = (
        # One active registration per address and event (cancelled/declined ones do not count).
        Index(
            "uq_registration_active_email",
            "event_id",
            "email",
            unique=True,
            sqlite_where=text(ACTIVE_ONLY),
            postgresql_where=text(ACTIVE_ONLY),
        ),
        # A double submit of the same form (same nonce) cannot create a second row.
        UniqueConstraint("event_id", "request_key", name="uq_registration_request_key"),
        # Waitlist positions are handed out once per event, never reused.
        UniqueConstraint("event_id", "waitlist_position", name="uq_registration_waitlist_position"),
        Index("ix_registration_event_status", "event_id", "status"),
    )

    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: Stored lower-case, so comparisons are case-insensitive on both databases.
    email: Mapped[str] = mapped_column(String(320))
    guests: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[RegistrationStatus] = mapped_column(registration_status_type)
    #: 1-based order of arrival on the event's waitlist; kept after promotion, never renumbered.
    waitlist_position: Mapped[int | None] = mapped_column(Integer, default=None)
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Set when first confirmed (see events.tickets); rotated when the ticket is reissued.
    ticket_code: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    #: The form's random nonce: the idempotency key of a double submit.
    request_key: Mapped[str | None] = mapped_column(String(64), default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    #: Until when an unconfirmed address (``pending_email``) may still be confirmed.
    hold_expires_at: Mapped[datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None
    )
    #: Answers to the event's questions, by question id (events/services/questions.py).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # -- the door (events.services.door) ---------------------------------------------
    #: Registered on the spot at the door (events.services.door.DoorService.walk_in).
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    #: People of this party checked in so far (0..people); only the door service changes it,
    #: by a conditional UPDATE under the registration's row lock.
    arrived: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    event: Mapped[Event] = relationship(lazy="raise")

    @property
    def people(self) -> int:
        """Places this party takes: the registrant plus guests."""
        return 1 + self.guests

    @property
    def shown_email(self) -> str:
        """The address to show, "" when there is none (a walk-in who gave none gets a
        stand-in address: events/validation.py, ``is_placeholder_email``)."""
        return "" if is_placeholder_email(self.email) else self.email


class RegistrationLog(Base):
    """Append-only audit trail of registration changes: ids and numbers only, no names or
    addresses, so it survives anonymisation. ``registration_id`` is deliberately not a
    foreign key: the trail outlives a deleted registration."""

    __tablename__ = "registration_log"

    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[UUID] = mapped_column(GUID, index=True)
    #: The organiser who acted, if any (None = the registrant or the system).
    actor_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RegistrationLink(Base):
    """A further private link (``/r/{token}``) of a registration, made when its links are
    mailed again ("resend my links", or registering again with the same address): only the
    token's hash is stored, so an earlier link cannot be mailed again, and it keeps working
    beside the first (``Registration.manage_token_hash``) — a re-send never breaks a link
    someone already uses. At most ``MAX_EXTRA_LINKS`` per registration (the oldest goes)."""

    __tablename__ = "registration_link"

    registration_id: Mapped[UUID] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
