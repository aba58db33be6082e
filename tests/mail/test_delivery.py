"""Mail reaches a real SMTP server (aiosmtpd): content, attachments, outages, races, headers."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import BytesIO

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations
from icalendar import Calendar

from events.calendar import FeedScope, calendar_feed, event_uid, feed_events
from events.clock import utcnow
from events.database import Database
from events.errors import ValidationFailed
from events.mail import i18n, prepare, render
from events.mail.notify import MailKind, enqueue, queue_registration_mail
from events.mail.sender import MAX_ATTEMPTS, MailSender, SendReport, retry_delay
from events.models import Event, OutboxStatus, Registration
from events.services.registrations import Outcome, RegistrationService
from events.tickets import ticket_url
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.mail.conftest import SmtpServer
from tests.mail.scenario import (
    body,
    calendar_attachment,
    inline_image,
    open_event,
    outbox,
    person,
    register,
    render_queued_mails,
)
from tests.qr_decoding import decode_png


@pytest.fixture
def french(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small French catalogue (the real translations are done separately)."""
    catalog = Catalog(locale="fr")
    catalog.add("Your place at %(title)s", "Votre place pour %(title)s")
    catalog.add("Hello %(name)s,", "Bonjour %(name)s,")
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    fake = Translations(fp=buffer)
    real = i18n.translations

    def translations(locale: str):  # type: ignore[no-untyped-def]
        return fake if locale == "fr" else real(locale)

    monkeypatch.setattr(prepare, "translations", translations)
    monkeypatch.setattr(render, "translations", translations)
    render.environment.cache_clear()
    yield
    render.environment.cache_clear()


def test_the_confirmation_arrives_with_a_scannable_ticket_and_a_calendar_file(
    db: Database,
    make: Factories,
    sender: MailSender,
    smtp_server: SmtpServer,
    french: None,
) -> None:
    event = open_event(db, make)
    result = register(db, event, person(1, locale="fr"))
    code = result.registration.ticket_code
    assert result.outcome is Outcome.CONFIRMED and code

    report = sender.run_once()

    assert report.sent == 1
    envelope = smtp_server.inbox.envelopes[0]
    assert envelope.rcpt_tos == ["person1@example.org"]
    message = smtp_server.inbox.only()
    assert message["Subject"] == "Votre place pour Flat-share meetup"
    assert message["To"] == "person1@example.org"
    assert message["From"] == "Rencontres <noreply@testserver.local>"
    assert message["Message-ID"] == f"<{outbox(db)[0].id}@testserver.local>"
    assert message.get_content_type() == "multipart/mixed"
    text, html = body(message, "plain"), body(message, "html")
    assert text.startswith("Bonjour Person 1,")
    assert "jeudi 7 mars 2030, 19:00–22:00" in text  # the date in the registrant's language
    ticket = ticket_url(BASE_URL, code)
    assert ticket in text and f"{BASE_URL}/r/{result.manage_token}" in text
    # The inline QR code the HTML shows decodes (OpenCV) to the ticket URL.
    content_id, png = inline_image(message)
    assert f'src="cid:{content_id}"' in html
    assert decode_png(png) == ticket
    # The calendar file parses, and its UID is the one the feeds use.
    calendar = calendar_attachment(message)
    [vevent] = calendar.events
    assert str(vevent["UID"]) == event_uid(event)
    with db.session() as session:
        feed = calendar_feed(
            feed_events(session, FeedScope(community_id=event.community_id), now=utcnow()),
            name="feed",
            description="",
            base_url=BASE_URL,
            url=BASE_URL,
        )
    assert [str(e["UID"]) for e in Calendar.from_ical(feed).events] == [str(vevent["UID"])]
    assert vevent["LOCATION"] == "The Canteen, 12 rue des Lilas, Paris"
    [row] = outbox(db)
    assert (row.status, row.attempts, row.claimed_until) == (OutboxStatus.SENT, 1, None)
    assert row.sent_at is not None


def test_with_the_smtp_server_down_the_registration_succeeds_and_the_mail_waits(
    db: Database, make: Factories, smtp_down: SmtpServer
) -> None:
    event = open_event(db, make)
    sender = MailSender(db, smtp_down.config)
    result = register(db, event, person(1))
    now = utcnow()

    report = sender.run_once(now)

    assert (report.sent, report.retried) == (0, 1)
    with db.session() as session:
        assert session.get(Registration, result.registration.id) is not None
    [row] = outbox(db)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1
    assert row.next_attempt_at == now + retry_delay(1) and row.next_attempt_at > now
    assert "Connection" in row.last_error and row.claimed_until is None

    smtp_down.start()  # the server is back
    try:
        assert sender.run_once(now).claimed == 0  # not due yet: no hammering
        later = now + timedelta(seconds=31)
        assert sender.run_once(later).sent == 1
        # Running again, or another sender, sends nothing more: exactly once.
        assert sender.run_once(later + timedelta(hours=2)).claimed == 0
        assert MailSender(db, smtp_down.config).run_once(later).claimed == 0
        assert len(smtp_down.inbox.messages) == 1
    finally:
        smtp_down.stop()
    [row] = outbox(db)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 2, "")


def test_two_senders_racing_send_every_mail_exactly_once(
    db: Database, make: Factories, smtp_server: SmtpServer
) -> None:
    event = open_event(db, make)
    for n in range(24):
        register(db, event, person(n))
    senders = [MailSender(db, smtp_server.config, batch_size=4) for _ in range(3)]
    start = threading.Barrier(len(senders))
    failures: list[BaseException] = []
    reports: list[SendReport] = []

    def drain(sender: MailSender) -> None:
        start.wait()
        try:
            for _ in range(10):
                reports.append(sender.run_once())
        except BaseException as error:  # reported below, a thread must not swallow it
            failures.append(error)

    threads = [threading.Thread(target=drain, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    # A connection the test server dropped (a loaded machine) leaves its mails for a retry
    # half a minute later: one more sender, an hour ahead, sends what is left, if anything.
    later = utcnow() + timedelta(hours=1)
    while (report := MailSender(db, smtp_server.config, batch_size=24).run_once(later)).claimed:
        reports.append(report)
    messages = smtp_server.inbox.messages
    assert len({m["Message-ID"] for m in messages}) == 24
    # Each mail once, unless a sender saw an attempt fail (SMTP cannot tell "accepted, then
    # the reply was lost" from "not accepted": a retry may deliver it twice) or held its
    # claim past its expiry (the sender records that as "lost"): no race between live
    # claims made a sender send another's.
    rows = outbox(db)
    second_chances = sum(r.attempts - 1 for r in rows) + sum(r.lost for r in reports)
    assert 24 <= len(messages) <= 24 + second_chances
    assert sorted(set(m["To"] for m in messages)) == sorted(
        f"person{n}@example.org" for n in range(24)
    )
    assert {r.status for r in rows} == {OutboxStatus.SENT}


def test_claims_never_overlap(db: Database, make: Factories, smtp_server: SmtpServer) -> None:
    event = open_event(db, make)
    for n in range(5):
        register(db, event, person(n))
    now = utcnow()
    first = MailSender(db, smtp_server.config, batch_size=3)
    second = MailSender(db, smtp_server.config, batch_size=10)
    _, mine = first.claim(now)
    _, theirs = second.claim(now)
    assert len(mine) == 3 and len(theirs) == 2
    assert not {m.id for m in mine} & {m.id for m in theirs}
    # Once a claim expires (a sender died), the rows are due again.
    _, again = second.claim(now + timedelta(minutes=11))
    assert len(again) == 5


def test_a_message_is_retried_with_backoff_then_marked_failed(
    db: Database, make: Factories, smtp_down: SmtpServer
) -> None:
    event = open_event(db, make)
    register(db, event, person(1))
    sender = MailSender(db, smtp_down.config)
    now = utcnow()
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert sender.run_once(now).claimed == 1
        [row] = outbox(db)
        assert row.attempts == attempt
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(waits[:-1]) == timedelta(hours=1)
    [row] = outbox(db)
    assert row.status is OutboxStatus.FAILED and row.last_error
    assert sender.run_once(now + timedelta(days=1)).claimed == 0  # given up


def test_a_permanent_refusal_fails_at_once(
    db: Database, make: Factories, sender: MailSender, smtp_server: SmtpServer
) -> None:
    smtp_server.inbox.refuse["person1@example.org"] = "550 5.1.1 No such user"
    event = open_event(db, make)
    register(db, event, person(1))
    register(db, event, person(2))

    report = sender.run_once()

    assert (report.sent, report.failed, report.retried) == (1, 1, 0)
    failed = outbox(db, to_address="person1@example.org")[0]
    assert failed.status is OutboxStatus.FAILED and "550" in failed.last_error
    assert outbox(db, to_address="person2@example.org")[0].status is OutboxStatus.SENT


def test_a_line_break_in_a_name_or_a_title_never_adds_a_header(
    db: Database, make: Factories, sender: MailSender, smtp_server: SmtpServer
) -> None:
    event = open_event(db, make)
    # The service refuses control characters in names...
    with pytest.raises(ValidationFailed) as refused:
        register(db, event, person(9, name="Eve\r\nBcc: victim@example.org"))
    assert refused.value.errors == {"name": "invalid_characters"}
    # ...and values written some other way still cannot add a header.
    result = register(db, event, person(1))
    with db.transaction() as session:
        registration = session.get(Registration, result.registration.id)
        loaded = session.get(Event, event.id)
        assert registration is not None and loaded is not None
        registration.name = "Eve\r\nBcc: victim@example.org"
        loaded.title = "Party\r\nBcc: victim@example.org\r\nX-Evil: 1"
        queue_registration_mail(session, loaded, registration, MailKind.LINKS)
        enqueue(
            session,
            kind="links",
            to_address="person2@example.org\r\nBcc: victim@example.org",
            subject="Hi\nBcc: victim@example.org",
            text_body="Hello",
            community_id=loaded.community_id,
        )
    render_queued_mails(db)

    report = sender.run_until_idle()

    assert (report.sent, report.failed) == (2, 1)  # the bad address is refused, not sent
    assert all(e.rcpt_tos == ["person1@example.org"] for e in smtp_server.inbox.envelopes)
    for envelope in smtp_server.inbox.envelopes:
        head = envelope.original_content.split(b"\r\n\r\n", 1)[0]  # type: ignore[union-attr]
        names = [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n") if line[:1] != b" "]
        assert b"bcc" not in names and b"x-evil" not in names
    [links] = [m for m in smtp_server.inbox.messages if m["Subject"].startswith("Your links")]
    assert links["Subject"] == "Your links for Party Bcc: victim@example.org X-Evil: 1"
    assert "Hello Eve\nBcc: victim@example.org," in body(links, "plain")
    [bad] = outbox(db, status=OutboxStatus.FAILED)
    assert "ValueError" in bad.last_error or "Header" in bad.last_error


def test_unicode_names_and_titles_arrive_intact(
    db: Database, make: Factories, sender: MailSender, smtp_server: SmtpServer
) -> None:
    event = open_event(db, make, title="Café des langues — 多语言")
    register(db, event, person(1, name="Zoë Ñúñez 李小龙"))
    sender.run_once()
    message = smtp_server.inbox.only()
    assert message["Subject"] == "Your place at Café des langues — 多语言"
    assert "Hello Zoë Ñúñez 李小龙," in body(message, "plain")
    assert "Zoë Ñúñez 李小龙" in body(message, "html")


def test_the_html_body_escapes_what_people_typed(
    db: Database, make: Factories, sender: MailSender, smtp_server: SmtpServer
) -> None:
    event = open_event(db, make, title="<b>Bold</b> night")
    register(db, event, person(1, name="<script>alert(1)</script>"))
    sender.run_once()
    message = smtp_server.inbox.only()
    html, text = body(message, "html"), body(message, "plain")
    assert "<script>" not in html and "<b>Bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; night" in html
    assert "Hello <script>alert(1)</script>," in text  # plain text is not HTML


def test_a_rolled_back_change_mails_nothing(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    with pytest.raises(RuntimeError), db.transaction() as session:
        RegistrationService(session).register(session.get(Event, event.id), person(1))
        assert len(outbox(db)) == 0  # not visible before the commit either
        raise RuntimeError("the request failed after registering")
    assert outbox(db) == []
