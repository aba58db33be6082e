"""The demo's open-space evening: a board half filled, made through the board's operations."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from events.database import Database
from events.demo_open_space import TOPICS, seed_open_space
from events.models import BoardMark, BoardTopic, Follow, ProgrammeItem
from events.services.board_follows import TOPIC
from events.services.board_state import board_state
from tests.factories import Factories


def test_the_demo_board_is_half_filled(db: Database, make: Factories) -> None:
    community = make.community()
    with db.transaction() as session:
        demo = seed_open_space(session, community, day=date(2030, 5, 16), participants=30)
        state = board_state(session, demo.board)
        interest = dict(
            session.execute(
                select(BoardMark.topic_id, func.count())
                .where(BoardMark.interested)
                .group_by(BoardMark.topic_id)
            ).all()
        )
        sessions = session.scalar(
            select(func.count()).where(ProgrammeItem.event_id == demo.event.id)
        )
        topics = session.scalar(select(func.count()).select_from(BoardTopic))
        followed = dict(
            session.execute(
                select(Follow.subject_id, func.count())
                .where(Follow.subject_kind == TOPIC)
                .group_by(Follow.subject_id)
            ).all()
        )
    assert len(demo.tickets) == 30 and topics == len(TOPICS) == len(demo.topic_ids)
    # Placed topics are programme sessions, and so is the break (a common cell).
    assert len(state.placed) == 4 and sessions == 4 + 1
    assert len(state.queue) == 1 and len(state.pool) == len(TOPICS) - 5
    open_cells = sum(not slot.is_common for slot in state.slots) * len(state.rooms)
    assert len(state.placed) < open_cells  # room left for the evening's pitches
    # The most wanted topic is in the biggest room.
    most_wanted = max(demo.topic_ids, key=lambda topic_id: interest.get(topic_id, 0))
    [first] = [topic for topic in state.placed if topic.id == most_wanted]
    assert state.room_of(first).name == "Grande salle"
    # Two people follow each placed topic, for its notes after the session.
    assert followed == {topic.id: 2 for topic in state.placed}
