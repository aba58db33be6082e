"""Personal calendar feeds: one unguessable link per confirmation mail, listing everything
an e-mail address registered for. Only the SHA-256 of each token is stored."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from events.models.base import Base
from events.tokens import hash_token


class PersonalFeed(Base):
    __tablename__ = "personal_feed"

    #: Lower-case, as registrations store it.
    email: Mapped[str] = mapped_column(String(320), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)

    @classmethod
    def for_token(cls, email: str, token: str) -> PersonalFeed:
        """The row that makes ``token`` open the personal feed of ``email`` (stored hashed,
        the address lower-cased as registrations store it)."""
        return cls(email=email.lower(), token_hash=hash_token(token))
