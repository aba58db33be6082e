"""Facilitators arrange the open-space board: place topics in cells, pin them, queue them for
the next pitch round, freeze slots, hide topics, and fill open cells with a suggestion.

Rules:

- **One topic per cell** (a unique key on the cell; a second facilitator dropping a topic
  in the same cell at the same moment gets ``Conflict("cell_taken")``).
- **Common cells** (breaks, plenaries) take no topic: ``Conflict("slot_common")``.
- **Frozen slots** (events/lifecycle.py ``slot_frozen``): nothing moves into or out of
  them: ``Conflict("slot_frozen")``.
- **A pinned topic does not move**: unpin it first (``Conflict("topic_pinned")``); only a
  placed topic can be pinned.
- **A host is in one place at a time**: two topics of the same ticket never share a slot
  (``Conflict("host_busy")``).
- **Queued** topics wait for the next pitch round: off the grid, not offered to the
  suggestion, back in the pool when a facilitator takes them out of the queue.
- **Hiding** (moderation) takes the topic off the grid and out of the programme whatever
  its slot or pin; showing it again puts it back in the pool.
- **Suggest a layout** fills the open cells of the slots that are not frozen with the
  topics in the pool, by the rule of events/board_layout.py.

Every change writes the programme (events/services/board_programme.py) and bumps the
board's version.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from events.board_layout import FreeCell, LayoutTopic, suggest_layout
from events.clock import utcnow
from events.errors import Conflict
from events.lifecycle import require_slot_movable, slot_frozen
from events.models import Board, BoardMark, BoardRoom, BoardSlot, BoardTopic, Event, SlotFreeze
from events.services import boards
from events.services.board_programme import sync_programme, withdraw_from_programme
from events.services.board_topics import BoardTopics
from events.webhook_queue import queue_webhook


class BoardPlacement:
    def __init__(self, session: Session, event: Event, board: Board) -> None:
        self.session = session
        self.event = event
        self.board = board
        self.setup = boards.BoardService(session)

    def _topic(self, topic_id: UUID | str, *, hidden_too: bool = False) -> BoardTopic:
        return BoardTopics(self.session).topic(self.board, topic_id, hidden_too=hidden_too)

    def _leaving(self, topic: BoardTopic, now: datetime) -> None:
        """``topic`` may leave its cell (not pinned, its slot not frozen)."""
        if topic.pinned:
            raise Conflict("topic_pinned")
        if topic.slot_id is not None:
            require_slot_movable(self.board, self.setup.slot(self.board, topic.slot_id), now)

    def _changed(self, topic: BoardTopic) -> BoardTopic:
        self.session.flush()
        sync_programme(self.session, self.event, topic)
        boards.bump(self.session, self.board.id)
        return topic

    # -- moving ----------------------------------------------------------------------------
    def place(
        self,
        topic_id: UUID | str,
        room_id: UUID | str,
        slot_id: UUID | str,
        *,
        now: datetime | None = None,
    ) -> BoardTopic:
        """Put a topic in the cell (``room_id``, ``slot_id``); see the module rules."""
        now = now or utcnow()
        topic = self._topic(topic_id)
        room = self.setup.room(self.board, room_id)
        slot = self.setup.slot(self.board, slot_id)
        if topic.slot_id == slot.id and topic.room_id == room.id:
            return topic  # already there: a repeated drop changes nothing
        self._leaving(topic, now)
        if slot.is_common:
            raise Conflict("slot_common")
        require_slot_movable(self.board, slot, now)
        self._check_cell(topic, room, slot)
        self._put(topic, room, slot)
        return self._changed(topic)

    def _check_cell(self, topic: BoardTopic, room: BoardRoom, slot: BoardSlot) -> None:
        in_slot = self.session.scalars(
            select(BoardTopic).where(BoardTopic.slot_id == slot.id, BoardTopic.id != topic.id)
        ).all()
        if any(other.room_id == room.id for other in in_slot):
            raise Conflict("cell_taken")
        if any(other.host_id == topic.host_id for other in in_slot):
            raise Conflict("host_busy")

    def _put(self, topic: BoardTopic, room: BoardRoom, slot: BoardSlot) -> None:
        topic.room_id, topic.slot_id, topic.queued = room.id, slot.id, False
        try:
            with self.session.begin_nested():
                self.session.flush()
        except IntegrityError:
            # Another facilitator filled the cell between our check and our write.
            raise Conflict("cell_taken") from None
        # By a facilitator's drop or the suggested layout alike: the webhooks hear of it.
        queue_webhook(
            self.session,
            "board.topic_placed",
            {
                "event_id": self.event.id,
                "topic_id": topic.id,
                "room_id": room.id,
                "slot_id": slot.id,
                "starts_at": slot.starts_at,
            },
            community_id=self.event.community_id,
        )

    def unplace(self, topic_id: UUID | str, *, now: datetime | None = None) -> BoardTopic:
        """Back to the pool (off the grid, out of the programme)."""
        topic = self._topic(topic_id)
        self._leaving(topic, now or utcnow())
        topic.room_id = topic.slot_id = None
        topic.queued = False
        return self._changed(topic)

    def queue(self, topic_id: UUID | str, *, now: datetime | None = None) -> BoardTopic:
        """Off the grid, waiting for the next pitch round."""
        topic = self._topic(topic_id)
        self._leaving(topic, now or utcnow())
        topic.room_id = topic.slot_id = None
        topic.queued = True
        return self._changed(topic)

    def pin(self, topic_id: UUID | str, pinned: bool) -> BoardTopic:
        topic = self._topic(topic_id)
        if pinned and not topic.is_placed:
            raise Conflict("topic_not_placed")
        topic.pinned = pinned
        return self._changed(topic)

    def freeze(self, slot_id: UUID | str, frozen: bool) -> BoardSlot:
        """Freeze a slot now, or open a frozen one again (overriding the automatic freeze)."""
        slot = self.setup.slot(self.board, slot_id)
        slot.freeze = SlotFreeze.FROZEN if frozen else SlotFreeze.OPEN
        self.session.flush()
        boards.bump(self.session, self.board.id)
        return slot

    # -- moderation ------------------------------------------------------------------------
    def hide(self, topic_id: UUID | str, hidden: bool) -> BoardTopic:
        topic = self._topic(topic_id, hidden_too=True)
        topic.hidden = hidden
        if hidden:
            topic.room_id = topic.slot_id = None
            topic.pinned = topic.queued = False
            withdraw_from_programme(self.session, self.event, topic)
        return self._changed(topic)

    # -- the suggestion --------------------------------------------------------------------
    def suggest(self, *, now: datetime | None = None) -> list[BoardTopic]:
        """Fill the open cells of movable slots with the pool's topics (events/board_layout.py);
        returns the topics placed."""
        now = now or utcnow()
        rooms = self.setup.rooms(self.board)
        slots = self.setup.slots(self.board)
        topics = self.session.scalars(
            select(BoardTopic).where(BoardTopic.board_id == self.board.id, ~BoardTopic.hidden)
        ).all()
        interested: dict[UUID, set[UUID]] = {topic.id: set() for topic in topics}
        marks = self.session.execute(
            select(BoardMark.topic_id, BoardMark.registration_id)
            .join(BoardTopic, BoardTopic.id == BoardMark.topic_id)
            .where(BoardTopic.board_id == self.board.id, BoardMark.interested)
        )
        for topic_id, ticket in marks:
            interested.setdefault(topic_id, set()).add(ticket)
        order = {topic.id: n for n, topic in enumerate(sorted(topics, key=_posted))}

        def layout(topic: BoardTopic) -> LayoutTopic:
            return LayoutTopic(
                id=topic.id,
                host=topic.host_id,
                interested=frozenset(interested[topic.id]),
                posted=order[topic.id],
            )

        taken = {(topic.slot_id, topic.room_id) for topic in topics if topic.is_placed}
        free = [
            FreeCell(
                slot=slot.id,
                room=room.id,
                slot_order=index,
                capacity=room.capacity,
                room_position=room.position,
            )
            for index, slot in enumerate(slots)
            if not slot.is_common and not slot_frozen(self.board, slot, now)
            for room in rooms
            if (slot.id, room.id) not in taken
        ]
        waiting = [layout(t) for t in topics if not t.is_placed and not t.queued]
        placed = [(layout(t), t.slot_id) for t in topics if t.is_placed]
        by_id = {topic.id: topic for topic in topics}
        rooms_by_id = {room.id: room for room in rooms}
        slots_by_id = {slot.id: slot for slot in slots}
        moved = []
        for choice in suggest_layout(waiting, free, placed):
            topic = by_id[choice.topic]  # type: ignore[index]
            self._put(topic, rooms_by_id[choice.room], slots_by_id[choice.slot])  # type: ignore[index]
            sync_programme(self.session, self.event, topic)
            moved.append(topic)
        boards.bump(self.session, self.board.id)
        return moved


def _posted(topic: BoardTopic) -> tuple[datetime, str]:
    return (topic.created_at, str(topic.id))
