"""Follows: someone without an account hears by e-mail when something they follow changes.

A follow names its subject by kind and id (a proposal, a whole call for proposals, later
an open-space topic or an offer), so one table and one unsubscribe mechanism serve every
feature (events/services/follows.py). A row exists only once the address was confirmed.
"""

from __future__ import annotations

from uuid import UUID

from advanced_alchemy.types import GUID
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from events.models.base import Base


class Follow(Base):
    __tablename__ = "follow"
    __table_args__ = (
        # One follow per person and subject, however many times they ask.
        UniqueConstraint("subject_kind", "subject_id", "person_key", name="uq_follow_person"),
        Index("ix_follow_community_email", "community_id", "email"),
    )

    community_id: Mapped[UUID] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[UUID] = mapped_column(GUID)
    #: Where the mails go (lower-case); erased with the follow.
    email: Mapped[str] = mapped_column(String(320))
    #: The follower's keyed hash in this community (events/services/identity.py).
    person_key: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8), default="en")
