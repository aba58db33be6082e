"""Personal access tokens of the organiser API: one community, a set of scopes, an
optional expiry. Only the SHA-256 of a token is stored (it is shown once, when made)."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from events.models.accounts import Community, User
from events.models.base import Base


class Scope(enum.StrEnum):
    """What a token may do; each organiser API endpoint needs exactly one."""

    EVENTS_READ = "events:read"
    EVENTS_WRITE = "events:write"
    ATTENDEES_READ = "attendees:read"
    ATTENDEES_WRITE = "attendees:write"
    CHECK_IN = "checkin"


class ApiToken(Base):
    __tablename__ = "api_token"

    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    #: SHA-256 of the whole token (events/tokens.py): what a request is looked up by.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, shown in the list so its owner can tell them apart.
    prefix: Mapped[str] = mapped_column(String(16))
    #: ``Scope`` values.
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    #: Updated at most once a minute (events/services/api_tokens.py), never per request.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    community: Mapped[Community] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")

    @property
    def scope_set(self) -> frozenset[Scope]:
        known = {scope.value for scope in Scope}
        return frozenset(Scope(value) for value in self.scopes if value in known)
