"""The open-space board of an event: rooms × time slots that participants fill on the day.

One ``Board`` per event, switched on by an organiser. ``BoardRoom`` and ``BoardSlot`` make
the grid; a slot with a ``common_label`` (a break, a plenary) is one fixed cell across all
rooms. Ticket holders post ``BoardTopic`` rows and mark other topics (``BoardMark``, one
per ticket and topic, enforced by a unique key); facilitators place topics in cells (one
topic per cell, another unique key). A placed topic is a programme item of the event
(``programme_item_id``, written through events/services/programme.py).

``Board.version`` goes up by one in every transaction that changes what the board shows:
the live views compare it to know that something changed (events/services/board_state.py).
"""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import expression

from events.models.base import Base


class TopicKind(enum.StrEnum):
    DISCUSSION = "discussion"
    DEMO = "demo"
    WORKSHOP = "workshop"
    HELP_WANTED = "help_wanted"


class SlotFreeze(enum.StrEnum):
    """A facilitator's override of the automatic freeze (N minutes before the start)."""

    AUTOMATIC = ""
    FROZEN = "frozen"
    OPEN = "open"


class Board(Base):
    __tablename__ = "board"

    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), unique=True)
    #: Participants see the board and may post and mark; off keeps everything as it is.
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=expression.true())
    #: When posting opens; None: as soon as the board is on.
    posting_opens_at: Mapped[datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None
    )
    #: How many topics one ticket may post on this board.
    topics_per_person: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    #: A slot stops moving this many minutes before it starts.
    freeze_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    #: Bumped by every transaction that changes what the board shows (the live views' marker).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class BoardRoom(Base):
    __tablename__ = "board_room"
    __table_args__ = (UniqueConstraint("board_id", "name", name="uq_board_room_name"),)

    board_id: Mapped[UUID] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    capacity: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class BoardSlot(Base):
    __tablename__ = "board_slot"

    board_id: Mapped[UUID] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    #: Set for a break or a plenary: one fixed cell across the rooms, nothing placed in it.
    common_label: Mapped[str] = mapped_column(String(80), default="", server_default="")
    freeze: Mapped[str] = mapped_column(String(8), default="", server_default="")
    #: A common slot's entry in the event's programme.
    programme_item_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("programme_item.id", ondelete="SET NULL"), default=None
    )

    @property
    def is_common(self) -> bool:
        return bool(self.common_label)


class BoardTopic(Base):
    __tablename__ = "board_topic"
    __table_args__ = (
        # One topic per cell (rows with no cell do not collide: NULLs are distinct).
        UniqueConstraint("slot_id", "room_id", name="uq_board_topic_cell"),
        Index("ix_board_topic_host", "board_id", "host_id"),
    )

    board_id: Mapped[UUID] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"), index=True)
    #: The ticket (registration) that posted it; erased with the registration.
    host_id: Mapped[UUID] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(280), default="")
    kind: Mapped[str] = mapped_column(String(16), default=TopicKind.DISCUSSION.value)
    cohost: Mapped[str] = mapped_column(String(80), default="")
    #: The host chose to show their first name (never more) on the projector.
    show_host: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    room_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("board_room.id", ondelete="SET NULL"), default=None
    )
    slot_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("board_slot.id", ondelete="SET NULL"), default=None
    )
    #: A facilitator fixed it in its cell: neither moves nor the layout suggestion move it.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    #: Waiting for the next pitch round (not placed, not offered to the suggestion).
    queued: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    #: Hidden by a facilitator (moderation); off the board and out of the programme.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    programme_item_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("programme_item.id", ondelete="SET NULL"), default=None
    )
    #: The host's notes once the session took place: text, maybe with a link.
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def is_placed(self) -> bool:
        return self.slot_id is not None and self.room_id is not None


class BoardMark(Base):
    """One ticket's mark on one topic: interested, or not for me."""

    __tablename__ = "board_mark"
    __table_args__ = (
        UniqueConstraint("topic_id", "registration_id", name="uq_board_mark_ticket"),
        Index("ix_board_mark_registration", "registration_id"),
    )

    topic_id: Mapped[UUID] = mapped_column(ForeignKey("board_topic.id", ondelete="CASCADE"))
    registration_id: Mapped[UUID] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    interested: Mapped[bool] = mapped_column(Boolean)


class BoardReport(Base):
    """One ticket's report of one topic (abuse, spam): counted once per ticket; enough
    distinct reports hide the topic (events/services/board_reports.py)."""

    __tablename__ = "board_report"
    __table_args__ = (
        UniqueConstraint("topic_id", "registration_id", name="uq_board_report_ticket"),
        Index("ix_board_report_registration", "registration_id"),
    )

    topic_id: Mapped[UUID] = mapped_column(ForeignKey("board_topic.id", ondelete="CASCADE"))
    registration_id: Mapped[UUID] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
