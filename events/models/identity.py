"""Identity without accounts: each community's secret, and addresses waiting to be confirmed.

A person is known to a community by a *keyed hash* of their confirmed e-mail address (an
HMAC with the community's own secret, events/services/identity.py): where only "one person
counts once" matters (supports, reports, follows), the key is stored and never the
address, and no other community can link the keys. ``AddressConfirmation`` is a double
opt-in in progress: the action someone asked for, kept until the address holder clicks
the link mailed to them.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Connection, ForeignKey, LargeBinary, String, event, insert
from sqlalchemy.orm import Mapped, mapped_column

from events.models.accounts import Community
from events.models.base import Base

#: The length of a community's secret.
SECRET_BYTES = 32


class CommunitySecret(Base):
    """The key of a community's keyed hashes and signed links (32 random bytes), made with
    the community and never shown; deleting it would make every stored key meaningless."""

    __tablename__ = "community_secret"

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), unique=True
    )
    secret: Mapped[bytes] = mapped_column(LargeBinary(64))


class AddressConfirmation(Base):
    """An action waiting for its address to be confirmed (double opt-in): ``purpose`` names
    the feature that asked and ``payload`` what it needs to finish the action once the
    link is clicked. Only the SHA-256 of the link's token is stored."""

    __tablename__ = "address_confirmation"

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Lower-case, like every stored address.
    email: Mapped[str] = mapped_column(String(320), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


def _made_with_its_secret(_mapper: Any, connection: Connection, community: Community) -> None:
    """A community is made with its secret, in the transaction that makes it, so reading
    the secret later never writes. Made on first use instead, it was written by whichever
    page read it first, inside that page's read transaction: on SQLite, a read that turns
    into a write fails at once ("database is locked", a 503) if another process wrote
    since it began. Communities made before are given theirs by migration 0028."""
    connection.execute(
        insert(CommunitySecret).values(
            community_id=community.id, secret=secrets.token_bytes(SECRET_BYTES)
        )
    )


event.listen(Community, "after_insert", _made_with_its_secret)
