"""The door: the append-only check-in log and the door links volunteers open without an account.

How many people of a party are in lives on ``Registration.arrived`` (changed only by
events.services.door under the registration's row lock); ``CheckIn`` is the log of every
scan, admitted or refused, that the counters, the report and the export read.
"""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import expression

from events.models.accounts import Role, role_type
from events.models.base import Base
from events.models.events import Event


class CheckInAction(enum.StrEnum):
    #: A ticket scanned (camera, keyboard wedge) or a person checked in from the search.
    SCAN = "scan"
    #: Registered and checked in at once at the door.
    WALK_IN = "walk_in"
    #: Takes back the admission ``undoes_id``.
    UNDO = "undo"


class CheckIn(Base):
    """One scan at the door, whatever its verdict: never updated, never deleted.

    ``created_at`` is when the server recorded it; ``scanned_at`` when it really happened
    (an offline device syncs its queue later). ``registration_id`` is set for this event's
    registrations only; a ticket of another event leaves ``other_event_id`` instead, so this
    event's log never points at another event's registrant.
    """

    __tablename__ = "check_in"
    __table_args__ = (
        # A retried request (same client nonce) cannot write a second row.
        UniqueConstraint("event_id", "nonce", name="uq_check_in_nonce"),
        # The arrival curve; with the unique key above it also serves "rows of this event".
        Index("ix_check_in_event_scanned_at", "event_id", "scanned_at"),
    )

    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    registration_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True, default=None
    )
    other_event_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    nonce: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    #: A ``Verdict`` value, or "undone" for an undo row.
    verdict: Mapped[str] = mapped_column(String(24))
    #: People admitted by this scan (taken back, for an undo row); 0 when refused.
    people: Mapped[int] = mapped_column(Integer, default=0)
    #: People of the party in after this scan: replays answer exactly what was answered.
    arrived: Mapped[int] = mapped_column(Integer, default=0)
    #: The label the volunteer gave the phone ("door 1"); it may be renamed at any time.
    device: Mapped[str] = mapped_column(String(60), default="")
    #: A random key the phone keeps for itself: the same phone under another label is the
    #: same device (None: a plain form, or a phone from before keys).
    device_key: Mapped[str | None] = mapped_column(String(64), default=None)
    #: The member at the door (None when a door link was used).
    actor_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    door_link_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    #: An offline scan of a party another device had already let in: shown to organisers.
    conflict: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    scanned_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    #: The admission this row takes back; unique, so an admission is undone at most once.
    undoes_id: Mapped[UUID | None] = mapped_column(GUID, unique=True, default=None)


class DoorLink(Base):
    """A revocable, time-boxed link to one event for a volunteer without an account: its
    door (``role`` door) or its open-space board (``role`` facilitator).

    Only the SHA-256 of the token is stored: the token is shown (or mailed) once, when
    created. It works from ``valid_from`` (None: at once) until ``expires_at``. A link
    granted by a door shift (events/services/volunteers.py) names its sign-up.
    """

    __tablename__ = "door_link"

    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[UUID] = mapped_column(GUID)
    valid_from: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    shift_signup_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("shift_signup.id", ondelete="SET NULL"), index=True, default=None
    )
    #: What the link opens: ``Role.DOOR`` or ``Role.FACILITATOR``.
    role: Mapped[Role] = mapped_column(role_type, default=Role.DOOR, server_default="door")
    event: Mapped[Event] = relationship(lazy="joined")
