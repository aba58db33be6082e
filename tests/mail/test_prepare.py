"""Mails are queued with what to say and rendered by the worker, outside the write lock."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from events.database import Database
from events.jobs.worker import BackgroundWorker
from events.mail.notify import outbox_committed
from events.mail.prepare import prepare_outbox
from events.mail.sender import MailSender
from events.models import Event, OutboxMessage, OutboxStatus, PersonalFeed, Registration
from events.services.registrations import RegistrationService
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.mail.conftest import SmtpServer
from tests.mail.scenario import MAIL, open_event, person


def _register(db: Database, event: Event, n: int = 1) -> Registration:
    """Register without rendering (what a request does: the worker renders later)."""
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        return RegistrationService(session).register(loaded, person(n)).registration


def _rows(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def _feeds(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(PersonalFeed)) or 0


def test_a_registration_queues_an_unrendered_mail_that_is_never_sent_as_is(
    db: Database, make: Factories, sender: MailSender, smtp_server: SmtpServer
) -> None:
    _register(db, open_event(db, make))
    [row] = _rows(db)
    assert row.render_spec is not None and row.subject == "" and row.text_body == ""
    assert _feeds(db) == 0  # the personal feed link is made with the mail

    assert sender.run_once().claimed == 0  # nothing to send before it is rendered
    assert prepare_outbox(db, MAIL) == 1
    [row] = _rows(db)
    assert row.render_spec is None and row.subject == "Your place at Flat-share meetup"
    assert f"{BASE_URL}/me/" in row.text_body and _feeds(db) == 1
    assert sender.run_once().sent == 1
    assert smtp_server.inbox.only()["Subject"] == "Your place at Flat-share meetup"


def test_storing_rendered_mails_wakes_the_worker_to_send_them(
    db: Database, make: Factories
) -> None:
    # Another thread of the process (or a test) may render what the worker then sends:
    # the worker must not wait for its next poll to send it.
    _register(db, open_event(db, make))
    outbox_committed.clear()
    assert prepare_outbox(db, MAIL) == 1
    assert outbox_committed.is_set()
    outbox_committed.clear()
    assert prepare_outbox(db, MAIL) == 0
    assert not outbox_committed.is_set()  # nothing rendered: nothing to wake for


def test_the_mail_tells_what_happened_even_if_the_registration_changed_since(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    registration = _register(db, event)
    with db.transaction() as session:  # cancelled before the worker ran
        loaded = session.get(Registration, registration.id)
        assert loaded is not None
        RegistrationService(session).cancel(loaded)
    prepare_outbox(db, MAIL)
    confirmation, cancellation = _rows(db)
    assert confirmation.subject == "Your place at Flat-share meetup"
    assert registration.ticket_code and registration.ticket_code in confirmation.text_body
    assert cancellation.subject == "Your registration for Flat-share meetup is cancelled"


def test_a_mail_erased_before_it_was_rendered_leaves_nothing(db: Database, make: Factories) -> None:
    registration = _register(db, open_event(db, make))
    with db.transaction() as session:
        loaded = session.get(Registration, registration.id)
        assert loaded is not None
        RegistrationService(session).erase(loaded)
    assert prepare_outbox(db, MAIL) == 0
    assert _rows(db) == [] and _feeds(db) == 0


def test_a_mail_whose_event_is_gone_fails_with_the_reason_and_the_rest_goes_on(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    _register(db, event, 1)
    with db.transaction() as session:  # as if the event had been deleted meanwhile
        session.execute(OutboxMessage.__table__.update().values(event_id=None))
    _register(db, event, 2)
    assert prepare_outbox(db, MAIL) == 2
    failed, rendered = _rows(db)
    assert failed.status is OutboxStatus.FAILED and "event was deleted" in failed.last_error
    assert failed.render_spec is not None  # never sent without a body
    assert rendered.status is OutboxStatus.PENDING and rendered.subject.startswith("Your place")


def test_two_workers_rendering_at_once_write_each_mail_once(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    for n in range(20):
        _register(db, event, n)
    written: list[int] = []
    start = threading.Barrier(2)

    def work() -> None:
        start.wait()
        written.append(prepare_outbox(db, MAIL))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(written) == 20
    assert all(row.render_spec is None and row.subject for row in _rows(db))
    assert _feeds(db) == 20  # one feed link per mail that shows one


def test_the_worker_renders_even_without_smtp(db: Database, make: Factories) -> None:
    _register(db, open_event(db, make))
    BackgroundWorker(db, mail=MAIL, smtp=None).tick()
    [row] = _rows(db)
    assert row.subject.startswith("Your place") and row.status is OutboxStatus.PENDING
