"""Placed topics are sessions of the event's programme, written through
events/services/programme.py (no table of sessions of its own).

A topic placed in a cell (and not hidden) has one programme item: its title, its slot's
times, its room, its host's first name when they chose to show it and its co-host, its
summary and, once written, its notes. Moving the topic reschedules the item (the event's
revision, the feeds' SEQUENCE, goes up); taking it off the grid removes the item.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from events.models import BoardRoom, BoardSlot, BoardTopic, Event, Registration
from events.services.programme import ProgrammeService, SessionTimes


def first_name(name: str | None) -> str:
    """The first word of a name: all the projector and the programme ever show of a host,
    and only when they chose it."""
    parts = (name or "").split()
    return parts[0][:40] if parts else ""


def _speakers(session: Session, topic: BoardTopic) -> str:
    names = []
    if topic.show_host:
        host = session.get(Registration, topic.host_id)
        if host is not None and first_name(host.name):
            names.append(first_name(host.name))
    if topic.cohost:
        names.append(topic.cohost)
    return ", ".join(names)


def _description(topic: BoardTopic) -> str:
    return "\n\n".join(part for part in (topic.summary, topic.notes) if part)


def sync_programme(session: Session, event: Event, topic: BoardTopic) -> None:
    """Make the event's programme say what the board says about ``topic``."""
    slot = session.get(BoardSlot, topic.slot_id) if topic.slot_id is not None else None
    room = session.get(BoardRoom, topic.room_id) if topic.room_id is not None else None
    if slot is None or room is None or topic.hidden:
        withdraw_from_programme(session, event, topic)
        return
    times = SessionTimes(
        title=topic.title,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        room=room.name,
        speakers=_speakers(session, topic),
        description=_description(topic),
    )
    programme = ProgrammeService(session)
    if topic.programme_item_id is not None:
        programme.reschedule(event, topic.programme_item_id, times)
    else:
        topic.programme_item_id = programme.add_session(event, times).id
        session.flush()


def withdraw_from_programme(session: Session, event: Event, topic: BoardTopic) -> None:
    """Take ``topic``'s session out of the programme (if it has one)."""
    if topic.programme_item_id is None:
        return
    item_id, topic.programme_item_id = topic.programme_item_id, None
    session.flush()
    ProgrammeService(session).remove(event, item_id)
