"""Participants report a topic on the open-space board; enough distinct reports hide it.

Rules:

- **Any ticket holder of the board's event** may report a visible topic, except their own
  (``Conflict("own_topic")``), while the board takes marks (events/lifecycle.py).
- **One report per ticket and topic**: one statement writes it (``INSERT ... ON CONFLICT DO
  NOTHING``), so reporting again, or at the same moment from two phones, counts once.
- **Rate limit per ticket**: :data:`REPORT_LIMIT` reports per window.
- **Auto-hide**: at :data:`HIDE_AFTER_REPORTS` distinct reports the topic is hidden, as a
  facilitator would hide it (off the grid, out of the programme, seen by facilitators
  only, who may show it again). Who reported is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict
from events.lifecycle import require_board_marking_open
from events.models import BoardReport
from events.models.base import insert_for, new_id, table_of
from events.services import boards
from events.services.board_placement import BoardPlacement
from events.services.board_topics import BoardTopics, Limit, Participant, within_limit

HIDE_AFTER_REPORTS = 3
REPORT_LIMIT = Limit(attempts=20, window=timedelta(hours=1))
_REPORT = table_of(BoardReport)


@dataclass(frozen=True)
class Reported:
    topic_id: UUID
    #: Distinct tickets that reported the topic so far.
    reports: int
    #: The topic is hidden now (by these reports, or earlier).
    hidden: bool


def report_topic(
    session: Session, who: Participant, topic_id: UUID | str, *, now: datetime | None = None
) -> Reported:
    """Report a topic from ``who``'s ticket (see the module rules)."""
    now = now or utcnow()
    topic = BoardTopics(session).topic(who.board, topic_id)
    require_board_marking_open(who.board, who.event, now)
    if topic.host_id == who.registration.id:
        raise Conflict("own_topic")
    within_limit(session, "report", who, REPORT_LIMIT)
    session.execute(
        insert_for(session)(_REPORT)
        .values(
            id=new_id(),
            topic_id=topic.id,
            registration_id=who.registration.id,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[_REPORT.c.topic_id, _REPORT.c.registration_id])
    )
    reports = session.scalar(
        select(func.count()).select_from(BoardReport).where(BoardReport.topic_id == topic.id)
    )
    if (reports or 0) >= HIDE_AFTER_REPORTS:
        BoardPlacement(session, who.event, who.board).hide(topic.id, True)
    else:
        boards.bump(session, who.board.id)  # the facilitators' view shows the count
    return Reported(topic_id=topic.id, reports=reports or 0, hidden=topic.hidden)
