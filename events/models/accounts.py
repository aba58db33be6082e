"""Organiser accounts, communities and who may do what in them."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.models.base import Base


class Role(enum.StrEnum):
    """A member's role in a community (or a door link's, for one event), from most to least
    powerful. Door volunteers and facilitators stand side by side: the door scans tickets,
    the facilitator runs the open-space board; neither may do the other's work, organisers
    and owners may do both."""

    OWNER = "owner"
    ORGANISER = "organiser"
    DOOR = "door"
    FACILITATOR = "facilitator"

    @property
    def rank(self) -> int:
        return {Role.OWNER: 3, Role.ORGANISER: 2, Role.DOOR: 1, Role.FACILITATOR: 1}[self]

    def at_least(self, other: Role) -> bool:
        if self.rank == other.rank:
            return self is other
        return self.rank > other.rank


role_type = Enum(Role, name="member_role", values_callable=lambda e: [m.value for m in e])


class User(Base):
    __tablename__ = "user_account"

    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="raise"
    )


class Community(Base):
    __tablename__ = "community"

    slug: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="community", cascade="all, delete-orphan", lazy="raise"
    )


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    community_id: Mapped[UUID] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(role_type)
    community: Mapped[Community] = relationship(back_populates="memberships", lazy="joined")
    user: Mapped[User] = relationship(back_populates="memberships", lazy="joined")


class Invitation(Base):
    """An invitation to join a community; only a hash of its token is stored."""

    __tablename__ = "invitation"

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(role_type)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    community: Mapped[Community] = relationship(lazy="joined")


class SignupRequest(Base):
    """A sign-up waiting for its address to be confirmed (events/services/signup.py): at
    most one per address, replaced by a new attempt; only a hash of the mailed link's
    token is stored, and the password only as its argon2 hash."""

    __tablename__ = "signup_request"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    #: Where to go once the account exists (an invitation, say); a local path.
    next_path: Mapped[str] = mapped_column(String(500), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
