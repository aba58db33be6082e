"""The open-space board's set-up, by an organiser: switching it on, its settings, its rooms
and its time slots.

Rules:

- **One board per event**, made when an organiser switches it on; switching it off keeps
  every topic, mark and placement (participants no longer see it), switching it on again
  brings it back as it was.
- **Settings**: when posting opens (``"now"``: as soon as the board is on, ``"start"``: at
  the event's start, or a local date and time), how many topics one ticket may post
  (1-:data:`MAX_TOPICS_PER_PERSON`), and how many minutes before its start a slot freezes
  (0-:data:`MAX_FREEZE_MINUTES`, default 15).
- **Rooms**: a name (unique on the board) and a capacity each, typed in or taken from the
  rooms the event's programme already names (:meth:`BoardService.add_programme_rooms`).
- **Slots**: a start (a local time on the event's evening, like programme times) and a
  length; they may not overlap. A slot with a label is a common cell (a break, the opening
  plenary): nothing is placed in it and it is in the programme under that label.
- Removing a room or a slot sends the topics placed in it back to the pool and out of the
  programme (events/services/board_placement.py does that part).

Every change bumps ``Board.version`` (:func:`bump`), which the live views watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from events.errors import NotFound, ValidationFailed
from events.models import Board, BoardRoom, BoardSlot, BoardTopic, Event, ProgrammeItem
from events.models.base import table_of
from events.recurrence import localise
from events.services.board_programme import withdraw_from_programme
from events.services.programme import ProgrammeService, SessionTimes, local_time_on
from events.validation import (
    FieldErrors,
    clean_text,
    id_or_not_found,
    parse_int,
    parse_local_datetime,
)

MAX_TOPICS_PER_PERSON = 10
MAX_FREEZE_MINUTES = 180
MAX_ROOMS = 30
MAX_SLOTS = 40
MAX_ROOM_CAPACITY = 10_000
#: A slot lasts 5 minutes to 8 hours.
SLOT_MINUTES = (5, 480)
ROOM_NAME_MAX_LENGTH = 60
COMMON_LABEL_MAX_LENGTH = 80
_BOARD = table_of(Board)


def bump(session: Session, board_id: UUID) -> int:
    """One more change on the board: its live views will show it (one atomic statement, so
    concurrent changes never lose a bump). Returns the board's new version."""
    return int(
        session.execute(
            update(_BOARD)
            .where(_BOARD.c.id == board_id)
            .values(version=_BOARD.c.version + 1)
            .returning(_BOARD.c.version)
        ).scalar_one()
    )


@dataclass
class BoardSettingsInput:
    #: "now", "start", or a local date and time (``2026-12-03T19:00``).
    posting_opens: str = "now"
    posting_opens_local: str = ""
    topics_per_person: str = "2"
    freeze_minutes: str = "15"


@dataclass
class RoomInput:
    name: str = ""
    capacity: str = ""


@dataclass
class SlotInput:
    start_time: str = ""  # "19:30", on the event's local evening
    minutes: str = "45"
    common_label: str = ""  # set: a break or a plenary


class BoardService:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- reading ---------------------------------------------------------------------------
    def of(self, event: Event) -> Board | None:
        return self.session.scalar(select(Board).where(Board.event_id == event.id))

    def is_on(self, event: Event) -> bool:
        """Whether participants see the event's board (the links to it show)."""
        return bool(
            self.session.scalar(
                select(Board.enabled).where(Board.event_id == event.id, Board.enabled)
            )
        )

    def require(self, event: Event, *, enabled_only: bool = True) -> Board:
        """The event's board; ``NotFound`` when there is none (or it is off, for the views
        of participants)."""
        board = self.of(event)
        if board is None or (enabled_only and not board.enabled):
            raise NotFound()
        return board

    def rooms(self, board: Board) -> list[BoardRoom]:
        return list(
            self.session.scalars(
                select(BoardRoom)
                .where(BoardRoom.board_id == board.id)
                .order_by(BoardRoom.position, BoardRoom.name)
            )
        )

    def slots(self, board: Board) -> list[BoardSlot]:
        return list(
            self.session.scalars(
                select(BoardSlot)
                .where(BoardSlot.board_id == board.id)
                .order_by(BoardSlot.starts_at)
            )
        )

    def room(self, board: Board, room_id: UUID | str) -> BoardRoom:
        room = self.session.get(BoardRoom, id_or_not_found(room_id))
        if room is None or room.board_id != board.id:
            raise NotFound()
        return room

    def slot(self, board: Board, slot_id: UUID | str) -> BoardSlot:
        slot = self.session.get(BoardSlot, id_or_not_found(slot_id))
        if slot is None or slot.board_id != board.id:
            raise NotFound()
        return slot

    def programme_rooms(self, event: Event, board: Board) -> list[str]:
        """Rooms the event's programme names that the board does not have yet."""
        have = {room.name.casefold() for room in self.rooms(board)}
        names = self.session.scalars(
            select(ProgrammeItem.room)
            .where(ProgrammeItem.event_id == event.id, ProgrammeItem.room != "")
            .distinct()
            .order_by(ProgrammeItem.room)
        )
        return [name for name in names if name.casefold() not in have]

    # -- switching on and off --------------------------------------------------------------
    def switch_on(self, event: Event) -> Board:
        board = self.of(event)
        if board is None:
            board = Board(event_id=event.id, enabled=True, version=0)
            self.session.add(board)
        board.enabled = True
        self.session.flush()
        bump(self.session, board.id)
        return board

    def switch_off(self, event: Event) -> Board:
        board = self.require(event, enabled_only=False)
        board.enabled = False
        self.session.flush()
        bump(self.session, board.id)
        return board

    def change_settings(self, event: Event, board: Board, data: BoardSettingsInput) -> Board:
        errors = FieldErrors()
        opens: datetime | None = None
        choice = (data.posting_opens or "now").strip()
        if choice == "start":
            opens = event.starts_at
        elif choice == "at":
            local = errors.check(
                parse_local_datetime, "posting_opens_local", data.posting_opens_local
            )
            if local is not None:
                opens, _ = localise(local, event.timezone)
        elif choice != "now":
            errors.add("posting_opens", "invalid_choice")
        per_person = errors.check(
            parse_int,
            "topics_per_person",
            data.topics_per_person,
            minimum=1,
            maximum=MAX_TOPICS_PER_PERSON,
            required=True,
        )
        freeze = errors.check(
            parse_int,
            "freeze_minutes",
            data.freeze_minutes,
            minimum=0,
            maximum=MAX_FREEZE_MINUTES,
            required=True,
        )
        errors.raise_if_any()
        board.posting_opens_at = opens
        board.topics_per_person = int(per_person or 1)
        board.freeze_minutes = int(freeze or 0)
        self.session.flush()
        bump(self.session, board.id)
        return board

    # -- rooms -----------------------------------------------------------------------------
    def add_room(self, board: Board, data: RoomInput) -> BoardRoom:
        errors = FieldErrors()
        name = errors.check(clean_text, "name", data.name, max_length=ROOM_NAME_MAX_LENGTH)
        capacity = errors.check(
            parse_int,
            "capacity",
            data.capacity,
            minimum=1,
            maximum=MAX_ROOM_CAPACITY,
            required=True,
        )
        errors.raise_if_any()
        rooms = self.rooms(board)
        if len(rooms) >= MAX_ROOMS:
            raise ValidationFailed({"name": "too_many"})
        if any(room.name.casefold() == name.casefold() for room in rooms):
            raise ValidationFailed({"name": "room_exists"})
        room = BoardRoom(board_id=board.id, name=name, capacity=capacity, position=len(rooms))
        self.session.add(room)
        self.session.flush()
        bump(self.session, board.id)
        return room

    def add_programme_rooms(self, event: Event, board: Board, capacity: str) -> list[BoardRoom]:
        """Every room the programme names and the board lacks, with one capacity."""
        return [
            self.add_room(board, RoomInput(name=name, capacity=capacity))
            for name in self.programme_rooms(event, board)
        ]

    def remove_room(self, event: Event, board: Board, room_id: UUID | str) -> None:
        room = self.room(board, room_id)
        self._release(event, board, BoardTopic.room_id == room.id)
        self.session.delete(room)
        self.session.flush()
        for position, kept in enumerate(self.rooms(board)):
            kept.position = position
        bump(self.session, board.id)

    # -- slots -----------------------------------------------------------------------------
    def add_slot(self, event: Event, board: Board, data: SlotInput) -> BoardSlot:
        errors = FieldErrors()
        starts = errors.check(local_time_on, event, "start_time", data.start_time)
        if starts is None and "start_time" not in errors.errors:
            errors.add("start_time", "required")
        minutes = errors.check(
            parse_int,
            "minutes",
            data.minutes,
            minimum=SLOT_MINUTES[0],
            maximum=SLOT_MINUTES[1],
            required=True,
        )
        label = errors.check(
            clean_text,
            "common_label",
            data.common_label,
            max_length=COMMON_LABEL_MAX_LENGTH,
            required=False,
        )
        errors.raise_if_any()
        assert starts is not None and minutes is not None
        ends = starts + timedelta(minutes=minutes)
        slots = self.slots(board)
        if len(slots) >= MAX_SLOTS:
            raise ValidationFailed({"start_time": "too_many"})
        if any(other.starts_at < ends and starts < other.ends_at for other in slots):
            raise ValidationFailed({"start_time": "slot_overlaps"})
        slot = BoardSlot(
            board_id=board.id, starts_at=starts, ends_at=ends, common_label=label or ""
        )
        self.session.add(slot)
        self.session.flush()
        if slot.is_common:
            item = ProgrammeService(self.session).add_session(
                event, SessionTimes(title=slot.common_label, starts_at=starts, ends_at=ends)
            )
            slot.programme_item_id = item.id
            self.session.flush()
        bump(self.session, board.id)
        return slot

    def remove_slot(self, event: Event, board: Board, slot_id: UUID | str) -> None:
        slot = self.slot(board, slot_id)
        self._release(event, board, BoardTopic.slot_id == slot.id)
        if slot.programme_item_id is not None:
            ProgrammeService(self.session).remove(event, slot.programme_item_id)
        self.session.delete(slot)
        self.session.flush()
        bump(self.session, board.id)

    def _release(self, event: Event, board: Board, where: ColumnElement[bool]) -> None:
        """Topics placed where a room or slot goes: back to the pool, out of the programme."""
        topics = self.session.scalars(
            select(BoardTopic).where(BoardTopic.board_id == board.id, where)
        )
        for topic in topics:
            withdraw_from_programme(self.session, event, topic)
            topic.room_id = topic.slot_id = None
            topic.pinned = False
        self.session.flush()

    def topic_count(self, board: Board) -> int:
        return int(
            self.session.scalar(
                select(func.count()).select_from(BoardTopic).where(BoardTopic.board_id == board.id)
            )
            or 0
        )


def posting_opens_choice(board: Board, event: Event) -> str:
    """The settings form's choice for ``board.posting_opens_at``."""
    if board.posting_opens_at is None:
        return "now"
    return "start" if board.posting_opens_at == event.starts_at else "at"
