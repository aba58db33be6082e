"""Reminders: queued once per registration, by the periodic job (events/jobs/reminders.py)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import select, update

from events.database import Database
from events.jobs.reminders import queue_due_reminders
from events.models import Event, OutboxMessage, Registration
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


def _starts(db: Database, event: Event) -> datetime:
    with db.session() as session:
        starts = session.scalar(select(Event.starts_at).where(Event.id == event.id))
    assert starts is not None
    return starts


def _confirmed_at(db: Database, event: Event, moment: datetime, *, email: str = "") -> None:
    """Say the event's registrations (or ``email``'s only) were confirmed at ``moment``."""
    which = Registration.email == email if email else Registration.event_id == event.id
    with db.transaction() as session:
        session.execute(update(Registration).where(which).values(confirmed_at=moment))


def _queue(db: Database, now: datetime) -> int:
    with db.transaction() as session:
        return queue_due_reminders(session, now, lead=LEAD)


def test_a_registration_is_reminded_once_even_when_its_event_moves(
    db: Database, make: Factories
) -> None:
    event, now = _reminder_setup(db, make)
    assert _queue(db, now) == 1
    edit_event(db, event, starts_local="2030-03-08T19:00", ends_local="2030-03-08T22:00")
    moved = _starts(db, event)
    assert _queue(db, moved - timedelta(hours=2)) == 0  # the "new time" mail said it
    assert len(outbox(db, kind="reminder")) == 1


def test_someone_registering_within_the_lead_is_reminded_halfway_to_the_start(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    register(db, event, person(7))
    starts = _starts(db, event)
    _confirmed_at(db, event, starts - timedelta(hours=2))  # registered two hours before
    assert _queue(db, starts - timedelta(hours=1, minutes=1)) == 0  # just had the ticket
    assert _queue(db, starts - timedelta(hours=1)) == 1
    assert _queue(db, starts - timedelta(minutes=10)) == 0  # once
    [reminder] = outbox(db, kind="reminder")
    assert reminder.to_address == "person7@example.org"
    assert reminder.subject == "Reminder: Flat-share meetup"


def test_people_whose_event_moves_within_the_lead_are_reminded(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, starts="2030-03-14T19:00", ends="2030-03-14T22:00")
    register(db, event, person(1))
    register(db, event, person(2))
    edit_event(db, event)  # a week earlier: the helper's 2030-03-07 19:00-22:00
    starts = _starts(db, event)
    now = starts - timedelta(hours=10)  # when it was moved
    _confirmed_at(db, event, starts - timedelta(days=10), email="person1@example.org")
    _confirmed_at(db, event, now - timedelta(hours=1), email="person2@example.org")
    assert _queue(db, now) == 1  # person 1: the usual moment has passed
    assert _queue(db, now + timedelta(hours=4)) == 0  # person 2 confirmed 11 h before...
    assert _queue(db, now + timedelta(hours=5)) == 1  # ...reminded halfway (5.5 h before)
    assert sorted(m.to_address for m in outbox(db, kind="reminder")) == [
        "person1@example.org",
        "person2@example.org",
    ]


def test_a_reminder_written_under_the_former_key_counts(db: Database, make: Factories) -> None:
    # Before one reminder per registration, keys named the start time too.
    _event, now = _reminder_setup(db, make)
    assert _queue(db, now) == 1
    with db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "reminder")
            .values(dedupe_key=OutboxMessage.dedupe_key + ":1899000000")
        )
    assert _queue(db, now + timedelta(minutes=1)) == 0


def test_reminders_can_be_turned_off(db: Database, make: Factories) -> None:
    _event, now = _reminder_setup(db, make)
    with db.transaction() as session:
        assert queue_due_reminders(session, now, lead=timedelta(0)) == 0
