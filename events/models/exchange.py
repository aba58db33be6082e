"""Offers & needs: one event's (or series') board where attendees find each other.

- ``ExchangeBoard``: switched on by the organisers for an event or a whole series, with
  its categories (``room``: "room offered / room sought", with area, budget, move-in date,
  languages...), whether it is public, and how long listings outlive the event.
- ``ExchangeParticipant``: a person on one board, known by the keyed hash of their
  address (one row per person, whichever registration of the series they came from), with
  the pseudonym and the contact details they choose to share with their matches.
- ``ExchangeListing``: an offer or a need in one category, with its structured fields.
- ``ExchangeContact``: "I'm interested", relayed to the listing's author, who accepts or
  declines: the double opt-in (events/services/exchange_contacts.py).
- ``ExchangeBlock``: someone a participant never wants to hear from again.
- ``ExchangeReport``: someone reported a listing (one report per person and listing).
- ``ExchangeMessageReport``: the recipient of a relayed message reported its sender (one
  report per person and sender); enough of them suspend the sender on the board
  (events/services/exchange_reports.py).

Every row goes with the registration its participant came from (``ON DELETE CASCADE``
from the participant), and is deleted when that registration is erased or anonymised
(events/services/exchange_privacy.py).
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import expression

from events.models.base import Base


class Side(enum.StrEnum):
    OFFER = "offer"
    NEED = "need"

    @property
    def other(self) -> Side:
        return Side.NEED if self is Side.OFFER else Side.OFFER


class ContactState(enum.StrEnum):
    #: Sent, waiting for the author's answer.
    PENDING = "pending"
    #: Both said yes: each sees what the other shares.
    ACCEPTED = "accepted"
    #: The author said no (the requester is never told so outright).
    DECLINED = "declined"
    #: The requester took it back before an answer.
    WITHDRAWN = "withdrawn"
    #: One of the two blocked the other: the match (or the request) is over.
    ENDED = "ended"


#: States in which a pair of people already has a conversation going: one at a time.
LIVE_CONTACT = "state IN ('pending', 'accepted')"


class ExchangeBoard(Base):
    """The offers & needs of one event, or of every occurrence of one series."""

    __tablename__ = "exchange_board"

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), unique=True, default=None
    )
    series_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), unique=True, default=None
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=expression.true())
    #: Listings readable by anyone (contact still needs a ticket); else ticket holders only.
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    #: Listings disappear this many days after the event they were posted for.
    expire_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    #: The categories, in order (events/services/exchange_categories.py).
    categories: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )


class ExchangeParticipant(Base):
    __tablename__ = "exchange_participant"
    __table_args__ = (UniqueConstraint("board_id", "person_key", name="uq_exchange_person"),)

    board_id: Mapped[UUID] = mapped_column(ForeignKey("exchange_board.id", ondelete="CASCADE"))
    #: The registration they act through now (the latest one they opened the board from).
    registration_id: Mapped[UUID] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    #: Their keyed hash in the community (events/services/identity.py): one person, one row.
    person_key: Mapped[str] = mapped_column(String(64))
    #: A first name or a pseudonym ("" = shown as "Someone").
    display_name: Mapped[str] = mapped_column(String(60), default="")
    # What a match sees once both said yes; nothing of it before.
    share_email: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    phone: Mapped[str] = mapped_column(String(40), default="")
    meet_note: Mapped[str] = mapped_column(String(200), default="")
    #: Whether a mail tells them of each request they receive (one click stops it).
    notify: Mapped[bool] = mapped_column(Boolean, default=True, server_default=expression.true())
    #: The secret of the "stop these mails" link in those mails, made with the row (so a
    #: request never writes the author's row: two people asking each other at once would
    #: lock each other's rows in opposite orders).
    unsubscribe_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=lambda: secrets.token_urlsafe(24)
    )
    #: Requests sent on this board (only ever raised by a conditional increment: the cap).
    requests_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Listings posted after this moment are marked "new" for them: the start of their
    #: previous visit (events/services/exchange_access.py).
    seen_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    #: When their current visit began.
    visited_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    #: Suspended by moderation (their messages reported by enough people, or the
    #: organisers): their listings are hidden from the others and they cannot write to
    #: anyone. Read it through events/services/exchange_suspension.py, never directly.
    suspended: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )


class ExchangeListing(Base):
    __tablename__ = "exchange_listing"
    __table_args__ = (Index("ix_exchange_listing_board", "board_id", "category", "expires_at"),)

    board_id: Mapped[UUID] = mapped_column(ForeignKey("exchange_board.id", ondelete="CASCADE"))
    participant_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_participant.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    #: The category's fields, by field id (events/services/exchange_categories.py).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    #: Hidden by moderation: reported by enough people, or by the organisers, until they
    #: put it back (events/services/exchange_reports.py).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class ExchangeContact(Base):
    """A contact request: the relayed message and the author's answer."""

    __tablename__ = "exchange_contact"
    __table_args__ = (
        # One live request or match per pair of people, whoever asked (the database holds
        # it when two requests race).
        Index(
            "uq_exchange_contact_live_pair",
            "pair_key",
            unique=True,
            sqlite_where=text(LIVE_CONTACT),
            postgresql_where=text(LIVE_CONTACT),
        ),
    )

    board_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_board.id", ondelete="CASCADE"), index=True
    )
    listing_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("exchange_listing.id", ondelete="SET NULL"), index=True, default=None
    )
    requester_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_participant.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_participant.id", ondelete="CASCADE"), index=True
    )
    #: Both participants' ids, the smaller first: the same for a pair whoever asks.
    pair_key: Mapped[str] = mapped_column(String(65))
    #: What the listing said when asked (it may be edited or deleted later).
    about: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(12), default=ContactState.PENDING.value)
    answered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class ExchangeBlock(Base):
    __tablename__ = "exchange_block"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id", name="uq_exchange_block"),)

    board_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_board.id", ondelete="CASCADE"), index=True
    )
    blocker_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_participant.id", ondelete="CASCADE")
    )
    blocked_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_participant.id", ondelete="CASCADE"), index=True
    )


class ExchangeReport(Base):
    __tablename__ = "exchange_report"
    __table_args__ = (UniqueConstraint("listing_id", "reporter_id", name="uq_exchange_report"),)

    board_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_board.id", ondelete="CASCADE"), index=True
    )
    listing_id: Mapped[UUID] = mapped_column(ForeignKey("exchange_listing.id", ondelete="CASCADE"))
    reporter_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_participant.id", ondelete="CASCADE"), index=True
    )


class ExchangeMessageReport(Base):
    """The recipient (``reporter_id``) of a relayed message reported its sender: one
    report per person and sender, whatever the number of messages."""

    __tablename__ = "exchange_message_report"
    __table_args__ = (
        UniqueConstraint("sender_id", "reporter_id", name="uq_exchange_message_report"),
    )

    board_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_board.id", ondelete="CASCADE"), index=True
    )
    #: The message reported (it goes when either side is erased; the report stays).
    contact_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("exchange_contact.id", ondelete="SET NULL"), default=None
    )
    sender_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_participant.id", ondelete="CASCADE")
    )
    reporter_id: Mapped[UUID] = mapped_column(
        ForeignKey("exchange_participant.id", ondelete="CASCADE"), index=True
    )
    #: One of events/services/moderation.py's ``REASONS``.
    reason: Mapped[str] = mapped_column(String(20), default="")
