"""Reminders: queued once per registration, by the periodic job (events/jobs/reminders.py)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from events.database import Database
from events.jobs.reminders import queue_due_reminders
from events.models import Event, Registration
from tests.factories import Factories
from tests.mail.scenario import edit_event, open_event, outbox, person, register

LEAD = timedelta(hours=24)


def _reminder_setup(db: Database, make: Factories) -> tuple[Event, datetime]:
    event = open_event(db, make, capacity="1")
    register(db, event, person(1))
    register(db, event, person(2))  # waitlisted: no reminder
    with db.session() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        return loaded, loaded.starts_at - timedelta(hours=2)


def test_reminders_are_queued_once(db: Database, make: Factories) -> None:
    event, now = _reminder_setup(db, make)
    with db.transaction() as session:
        assert queue_due_reminders(session, event.starts_at - timedelta(hours=25), lead=LEAD) == 0
    for _ in range(3):
        with db.transaction() as session:
            queue_due_reminders(session, now, lead=LEAD)
    reminders = outbox(db, kind="reminder")
    assert [m.to_address for m in reminders] == ["person1@example.org"]
    assert reminders[0].dedupe_key and reminders[0].next_attempt_at == now
    assert "image/png" in [a["content_type"] for a in reminders[0].attachments]
    with db.transaction() as session:  # after the start: nothing more
        assert queue_due_reminders(session, event.starts_at + timedelta(minutes=1), lead=LEAD) == 0


def test_concurrent_schedulers_queue_each_reminder_once(db: Database, make: Factories) -> None:
    _event, now = _reminder_setup(db, make)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def schedule() -> None:
        start.wait()
        try:
            with db.transaction() as session:
                queue_due_reminders(session, now, lead=LEAD)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=schedule) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert len(outbox(db, kind="reminder")) == 1


def test_a_moved_event_is_reminded_again_and_late_registrants_are_not(
    db: Database, make: Factories
) -> None:
    event, now = _reminder_setup(db, make)
    with db.transaction() as session:
        queue_due_reminders(session, now, lead=LEAD)
    edit_event(db, event, starts_local="2030-03-08T19:00", ends_local="2030-03-08T22:00")
    with db.transaction() as session:
        moved = session.get(Event, event.id)
        assert moved is not None
        queue_due_reminders(session, moved.starts_at - timedelta(hours=2), lead=LEAD)
    assert len(outbox(db, kind="reminder")) == 2
    # Registered after the reminder time (an hour before): the confirmation is enough.
    late = open_event(db, make, starts="2030-05-01T19:00", ends="2030-05-01T22:00")
    register(db, late, person(7))
    with db.session() as session:
        loaded = session.get(Event, late.id)
        assert loaded is not None
        starts = loaded.starts_at
    with db.transaction() as session:
        reg = session.query(Registration).filter_by(event_id=late.id).one()
        reg.confirmed_at = starts - timedelta(hours=1)
    with db.transaction() as session:
        assert queue_due_reminders(session, starts - timedelta(minutes=30), lead=LEAD) == 0


def test_reminders_can_be_turned_off(db: Database, make: Factories) -> None:
    _event, now = _reminder_setup(db, make)
    with db.transaction() as session:
        assert queue_due_reminders(session, now, lead=timedelta(0)) == 0
