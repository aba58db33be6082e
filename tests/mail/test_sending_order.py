"""Transactional mail before bulk mail, a few SMTP connections at once, and a worker that
waits quietly while its database is away (events/mail/sender.py, events/jobs/worker.py)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from events.clock import utcnow
from events.database import Database
from events.jobs.worker import BackgroundWorker
from events.mail.sender import MailSender
from events.models import Base, Event
from events.services.registrations import RegistrationService
from tests.factories import Factories
from tests.mail.conftest import SmtpServer
from tests.mail.scenario import MAIL, edit_event, open_event, person, register

BACKLOG = 40


def _backlog_of_event_changes(db: Database, make: Factories, smtp: SmtpServer) -> Event:
    """An event with :data:`BACKLOG` attendees whose confirmations went out, then moved:
    one "new time" mail each, rendered and waiting."""
    event = open_event(db, make)
    for n in range(BACKLOG):
        register(db, event, person(n))
    sender = MailSender(db, smtp.config)
    sender.run_until_idle()
    # A connection the loaded test server dropped leaves its mails for a retry a little
    # later: a pass an hour ahead sends them, so the backlog below starts from all sent.
    later = utcnow() + timedelta(hours=1)
    while sender.run_once(later).claimed:
        pass
    assert {tuple(envelope.rcpt_tos) for envelope in smtp.inbox.envelopes} == {
        (f"person{n}@example.org",) for n in range(BACKLOG)
    }
    smtp.inbox.envelopes.clear()
    edit_event(db, event, starts_local="2030-03-08T19:00", ends_local="2030-03-08T22:00")
    return event


def _subjects(smtp: SmtpServer) -> list[str]:
    return [message["Subject"] for message in smtp.inbox.messages]


def _worker(db: Database, smtp: SmtpServer, connections: int) -> BackgroundWorker:
    return BackgroundWorker(db, mail=MAIL, smtp=replace(smtp.config, connections=connections))


def test_a_confirmation_goes_out_before_a_backlog_of_bulk_mails(
    db: Database, make: Factories, smtp_server: SmtpServer
) -> None:
    event = _backlog_of_event_changes(db, make, smtp_server)
    with db.transaction() as session:  # queued last, not rendered yet
        RegistrationService(session).register(session.get(Event, event.id), person("late"))

    _worker(db, smtp_server, connections=1).tick()

    subjects = _subjects(smtp_server)
    assert len(subjects) == BACKLOG + 1
    assert subjects[0] == "Your place at Flat-share meetup"  # rendered and sent first
    assert set(subjects[1:]) == {"New time or place: Flat-share meetup"}


def test_a_confirmation_queued_while_the_backlog_is_sent_waits_for_one_batch(
    db: Database, make: Factories, smtp_server: SmtpServer
) -> None:
    event = _backlog_of_event_changes(db, make, smtp_server)
    worker = _worker(db, smtp_server, connections=2)
    assert worker.sender is not None
    batch = worker.sender.batch_size
    registered = threading.Event()

    def register_during_the_backlog(count: int) -> None:
        if count == 3:  # the first batch is being sent
            register(db, event, person("late"))  # (rendered at once by the helper)
            registered.set()

    smtp_server.inbox.on_message = register_during_the_backlog
    worker.tick()

    assert registered.is_set()
    subjects = _subjects(smtp_server)
    assert len(subjects) == BACKLOG + 1
    position = subjects.index("Your place at Flat-share meetup") + 1
    assert 4 * batch <= BACKLOG  # a real backlog: several batches
    # In the batch after the one in flight (its first mail, but the other connection may
    # deliver a bulk mail or two while the ticket's QR code is drawn).
    assert batch < position <= 2 * batch


@pytest.mark.parametrize("connections", [1, 3])
def test_a_batch_is_sent_over_the_configured_connections_at_once_and_no_more(
    db: Database, make: Factories, smtp_server: SmtpServer, connections: int
) -> None:
    event = open_event(db, make)
    for n in range(4 * connections):
        register(db, event, person(n))
    smtp_server.inbox.together = connections  # each waits until all are being received

    report = MailSender(db, replace(smtp_server.config, connections=connections)).run_until_idle()

    assert report.sent == len(smtp_server.inbox.envelopes) == 4 * connections
    assert smtp_server.inbox.most_at_once == connections
    assert smtp_server.inbox.sessions == connections  # one connection each, kept for the batch


def test_an_unreachable_database_is_logged_in_one_line_and_retried_less_and_less_often(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The database file cannot be opened (a folder stands where it should be), then can.
    path = tmp_path / "away" / "rencontres.db"
    path.mkdir(parents=True)
    db = Database.from_url(f"sqlite:///{path}")
    worker = BackgroundWorker(
        db, mail=MAIL, smtp=None, interval=0.05, first_backoff=0.01, max_backoff=0.04
    )
    rounds = threading.Semaphore(0)

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("database unreachable, attempt"):
                rounds.release()

    counter = Count()
    logging.getLogger("rencontres.worker").addHandler(counter)
    try:
        with caplog.at_level(logging.DEBUG, logger="rencontres"):
            worker.start()
            for _ in range(8):
                assert rounds.acquire(timeout=30)
            path.rmdir()
            Base.metadata.create_all(db.engine)  # the database is back
            deadline = time.monotonic() + 30
            while not any("reachable again" in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, "the worker never noticed"
                time.sleep(0.05)
            worker.stop()
    finally:
        logging.getLogger("rencontres.worker").removeHandler(counter)
        db.dispose()

    ours = [r for r in caplog.records if r.name.startswith("rencontres")]
    assert [r for r in ours if r.exc_info] == []  # no traceback at all
    warnings = [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("database unreachable (")
    assert "\n" not in warnings[0]
    waits = [
        r.getMessage().rsplit(" ", 2)[-2]
        for r in ours
        if r.getMessage().startswith("database unreachable, attempt")
    ]
    assert waits[:5] == ["0.01", "0.02", "0.04", "0.04", "0.04"]  # doubling, capped
    back = [r.getMessage() for r in ours if "reachable again" in r.getMessage()]
    assert len(back) == 1 and back[0].startswith(f"database reachable again after {len(waits)}")
