"""What an open-space board shows, read in one go: for the projector, the phones and the
facilitators, and for the live stream that keeps them current.

:func:`board_state` reads the board at one version (rooms, slots, visible topics with their
interest counts); :meth:`BoardState.at` adds what depends on the clock (the slot happening
now, the next one, the frozen ones). Nothing here is personal: a host appears by first name
only, and only when they chose it; who marked what is never part of the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from events.lifecycle import slot_frozen
from events.models import (
    Board,
    BoardMark,
    BoardReport,
    BoardRoom,
    BoardSlot,
    BoardTopic,
    Registration,
)
from events.services.board_programme import first_name


@dataclass(frozen=True)
class TopicView:
    id: UUID
    title: str
    summary: str
    kind: str
    #: The host's first name when they chose to show it, else "".
    host: str
    cohost: str
    interested: int
    not_for_me: int
    room_id: UUID | None
    slot_id: UUID | None
    pinned: bool
    queued: bool
    hidden: bool
    notes: str
    posted_at: datetime
    #: Distinct tickets that reported it (facilitators see it; three hide it).
    reports: int = 0

    @property
    def placed(self) -> bool:
        return self.room_id is not None and self.slot_id is not None


@dataclass(frozen=True)
class Moment:
    """The clock's part of a board: the slot on now, the next one, the frozen ones."""

    now: UUID | None
    next: UUID | None
    frozen: frozenset[UUID]


@dataclass(frozen=True)
class BoardState:
    board_id: UUID
    version: int
    enabled: bool
    freeze_minutes: int
    posting_opens_at: datetime | None
    topics_per_person: int
    rooms: tuple[BoardRoom, ...]
    slots: tuple[BoardSlot, ...]
    #: Visible topics (hidden ones too with ``hidden_too``), oldest first.
    topics: tuple[TopicView, ...]

    def cell(self, slot_id: UUID, room_id: UUID) -> TopicView | None:
        return self._cells.get((slot_id, room_id))

    @property
    def _cells(self) -> dict[tuple[UUID, UUID], TopicView]:
        cells = self.__dict__.get("_cell_map")
        if cells is None:
            cells = {(t.slot_id, t.room_id): t for t in self.topics if t.placed and not t.hidden}
            object.__setattr__(self, "_cell_map", cells)
        found: dict[tuple[UUID, UUID], TopicView] = cells
        return found

    @property
    def pool(self) -> list[TopicView]:
        """Waiting to be placed (most interest first)."""
        waiting = [t for t in self.topics if not t.placed and not t.queued and not t.hidden]
        return sorted(waiting, key=lambda t: (-t.interested, t.posted_at))

    @property
    def queue(self) -> list[TopicView]:
        """Waiting for the next pitch round (oldest first)."""
        return [t for t in self.topics if t.queued and not t.hidden]

    @property
    def placed(self) -> list[TopicView]:
        """On the grid, by time then room."""
        slot_order = {slot.id: n for n, slot in enumerate(self.slots)}
        room_order = {room.id: n for n, room in enumerate(self.rooms)}
        on_grid = [t for t in self.topics if t.placed and not t.hidden]
        return sorted(on_grid, key=lambda t: (slot_order[t.slot_id], room_order[t.room_id]))  # type: ignore[index]

    @property
    def listing(self) -> list[TopicView]:
        """Every visible topic: the grid's by time, then the pool, then the queue."""
        return [*self.placed, *self.pool, *self.queue]

    def in_slot(self, slot_id: UUID) -> list[TopicView]:
        return [t for t in self.placed if t.slot_id == slot_id]

    @property
    def hidden(self) -> list[TopicView]:
        return [t for t in self.topics if t.hidden]

    def slot_of(self, topic: TopicView) -> BoardSlot | None:
        return next((s for s in self.slots if s.id == topic.slot_id), None)

    def room_of(self, topic: TopicView) -> BoardRoom | None:
        return next((r for r in self.rooms if r.id == topic.room_id), None)

    def at(self, now: datetime) -> Moment:
        current = next((s.id for s in self.slots if s.starts_at <= now < s.ends_at), None)
        upcoming = next((s.id for s in self.slots if s.starts_at > now), None)
        board = Board(freeze_minutes=self.freeze_minutes)  # what slot_frozen reads of it
        frozen = frozenset(s.id for s in self.slots if slot_frozen(board, s, now))
        return Moment(now=current, next=upcoming, frozen=frozen)


def board_version(session: Session, board_id: UUID) -> int | None:
    """The board's change marker (None once the board is gone): one narrow read."""
    return session.scalar(select(Board.version).where(Board.id == board_id))


def board_state(session: Session, board: Board, *, hidden_too: bool = False) -> BoardState:
    """Everything the board shows, as of now (see the module docstring)."""
    # The version first: a change committed while the rest is read shows as a newer
    # version on the next look, never as data older than its version.
    version = board_version(session, board.id) or 0
    rooms = session.scalars(
        select(BoardRoom)
        .where(BoardRoom.board_id == board.id)
        .order_by(BoardRoom.position, BoardRoom.name)
    ).all()
    slots = session.scalars(
        select(BoardSlot).where(BoardSlot.board_id == board.id).order_by(BoardSlot.starts_at)
    ).all()
    counts = (
        select(
            BoardMark.topic_id.label("topic_id"),
            func.sum(case((BoardMark.interested, 1), else_=0)).label("interested"),
            func.sum(case((BoardMark.interested, 0), else_=1)).label("not_for_me"),
        )
        .join(BoardTopic, BoardTopic.id == BoardMark.topic_id)
        .where(BoardTopic.board_id == board.id)
        .group_by(BoardMark.topic_id)
        .subquery()
    )
    reports = (
        select(BoardReport.topic_id.label("topic_id"), func.count().label("reports"))
        .join(BoardTopic, BoardTopic.id == BoardReport.topic_id)
        .where(BoardTopic.board_id == board.id)
        .group_by(BoardReport.topic_id)
        .subquery()
    )
    query = (
        select(
            BoardTopic,
            Registration.name,
            counts.c.interested,
            counts.c.not_for_me,
            reports.c.reports,
        )
        .join(Registration, Registration.id == BoardTopic.host_id)
        .outerjoin(counts, counts.c.topic_id == BoardTopic.id)
        .outerjoin(reports, reports.c.topic_id == BoardTopic.id)
        .where(BoardTopic.board_id == board.id)
        .order_by(BoardTopic.created_at, BoardTopic.id)
    )
    if not hidden_too:
        query = query.where(~BoardTopic.hidden)
    topics = tuple(
        TopicView(
            id=topic.id,
            title=topic.title,
            summary=topic.summary,
            kind=topic.kind,
            host=first_name(name) if topic.show_host else "",
            cohost=topic.cohost,
            interested=int(interested or 0),
            not_for_me=int(not_for_me or 0),
            room_id=topic.room_id,
            slot_id=topic.slot_id,
            pinned=topic.pinned,
            queued=topic.queued,
            hidden=topic.hidden,
            notes=topic.notes,
            posted_at=topic.created_at,
            reports=int(reported or 0),
        )
        for topic, name, interested, not_for_me, reported in session.execute(query)
    )
    for row in (*rooms, *slots):
        session.expunge(row)  # kept by caches beyond this session: plain values from here
    return BoardState(
        board_id=board.id,
        version=version,
        enabled=board.enabled,
        freeze_minutes=board.freeze_minutes,
        posting_opens_at=board.posting_opens_at,
        topics_per_person=board.topics_per_person,
        rooms=tuple(rooms),
        slots=tuple(slots),
        topics=topics,
    )
