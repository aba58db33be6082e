"""Volunteers: an event's roles (welcome, door, set-up, tidy-up, or the organisers' own),
their shifts, and the people signed up for each shift.

A shift's ``taken`` counts its confirmed sign-ups; it is bounded by ``needed`` and changed
only through events/services/places.py's ``BoundedCounter`` (row lock and conditional
update), by events/services/volunteers.py. A sign-up whose address is not confirmed yet
holds no spot, as a registration with "confirm my address first" holds no place.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import expression

from events.models.base import Base


class RoleKind(enum.StrEnum):
    WELCOME = "welcome"
    #: A door shift: its confirmed volunteers get a door link valid for the shift.
    DOOR = "door"
    SETUP = "setup"
    TIDYUP = "tidyup"
    #: The organisers' own role, named by them in English and French.
    CUSTOM = "custom"


class SignupStatus(enum.StrEnum):
    #: Signed up with an address not confirmed yet: holds no spot.
    PENDING_EMAIL = "pending_email"
    #: Holds one spot of the shift.
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


role_kind_type = Enum(
    RoleKind, name="volunteer_role_kind", values_callable=lambda e: [m.value for m in e]
)
signup_status_type = Enum(
    SignupStatus, name="shift_signup_status", values_callable=lambda e: [m.value for m in e]
)
#: The active-address index's condition (see ACTIVE_ONLY in events/models/registrations.py).
ACTIVE_SIGNUP = "status != 'cancelled'"


class VolunteerRole(Base):
    """One role of an event, with its shifts."""

    __tablename__ = "volunteer_role"

    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RoleKind] = mapped_column(role_kind_type)
    #: The name shown in each language ("" for a built-in kind: its usual name is shown).
    name_en: Mapped[str] = mapped_column(String(80), default="")
    name_fr: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Door roles: the shift's door link works from this many minutes before the shift.
    door_lead_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    shifts: Mapped[list[Shift]] = relationship(
        back_populates="role",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="Shift.starts_at",
    )

    def name_in(self, locale: str, gettext: Callable[[str], str]) -> str:
        """The name in ``locale``: the organisers' own (in that language, else the other),
        else the usual name of its kind through ``gettext`` (the page's or the mail's
        catalogue: one list of names for both)."""
        own = self.name_fr if locale.startswith("fr") else self.name_en
        if own or self.name_en or self.name_fr:
            return own or self.name_en or self.name_fr
        usual = {
            RoleKind.WELCOME: gettext("Welcome desk"),
            RoleKind.DOOR: gettext("At the door"),
            RoleKind.SETUP: gettext("Set-up"),
            RoleKind.TIDYUP: gettext("Tidy-up"),
            RoleKind.CUSTOM: gettext("Volunteer"),
        }
        return usual[self.kind]


class Shift(Base):
    """A time slot of a role, needing ``needed`` people."""

    __tablename__ = "volunteer_shift"

    role_id: Mapped[UUID] = mapped_column(
        ForeignKey("volunteer_role.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    needed: Mapped[int] = mapped_column(Integer)
    #: Confirmed sign-ups; bounded by ``needed`` (events/services/places.py BoundedCounter).
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Only people checked in at least once before at this community's events may sign up.
    requires_arrival: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    #: The organiser who made the shift (recorded on the door links it grants).
    created_by: Mapped[UUID] = mapped_column(GUID)
    role: Mapped[VolunteerRole] = relationship(back_populates="shifts", lazy="joined")

    @property
    def free(self) -> int:
        return max(self.needed - self.taken, 0)


class ShiftSignup(Base):
    """One person signed up for one shift. Only the SHA-256 of the private link's token is
    stored; the address is kept (lower-case) to mail the volunteer, until anonymised."""

    __tablename__ = "shift_signup"
    __table_args__ = (
        # One active sign-up per address and shift.
        Index(
            "uq_shift_signup_active_email",
            "shift_id",
            "email",
            unique=True,
            sqlite_where=text(ACTIVE_SIGNUP),
            postgresql_where=text(ACTIVE_SIGNUP),
        ),
    )

    shift_id: Mapped[UUID] = mapped_column(
        ForeignKey("volunteer_shift.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(320), index=True)
    status: Mapped[SignupStatus] = mapped_column(signup_status_type)
    #: The ticket the volunteer signed up with, if any.
    registration_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), default=None
    )
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    #: The organiser who put the person on the shift (None: they signed up themselves).
    assigned_by: Mapped[UUID | None] = mapped_column(GUID, default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    shift: Mapped[Shift] = relationship(lazy="joined")
