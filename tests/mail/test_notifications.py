"""Which mail each change queues, to whom, with which links: the services cannot forget one."""

from __future__ import annotations

import base64
import re

import pytest

from events.clock import utcnow
from events.database import Database
from events.mail.outbox import forget_registrations
from events.models import Event, OutboxStatus, Registration, RegistrationStatus
from events.services.events import EventService
from events.services.personal_feeds import personal_calendar
from events.services.registrations import Outcome, RegistrationService
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.mail.scenario import (
    act,
    edit_event,
    kinds_by_address,
    open_event,
    outbox,
    person,
    register,
)

S = RegistrationStatus


def links_in(text: str) -> list[str]:
    return re.findall(rf"{re.escape(BASE_URL)}/\S+", text)


# -- registration outcomes ---------------------------------------------------------------
def test_a_confirmed_registration_mails_its_ticket_and_private_link(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    result = register(db, event, person(1))
    [mail] = outbox(db)
    assert (mail.kind, mail.to_address) == ("confirmed", "person1@example.org")
    assert (mail.community_id, mail.event_id) == (event.community_id, event.id)
    assert mail.registration_id == result.registration.id
    assert f"{BASE_URL}/t/{result.registration.ticket_code}" in mail.text_body
    assert f"{BASE_URL}/r/{result.manage_token}" in mail.text_body
    assert [a["content_type"] for a in mail.attachments] == ["image/png", "text/calendar"]
    assert mail.status is OutboxStatus.PENDING and mail.attempts == 0
    # ... and a personal calendar feed of everything this address registered for.
    [feed] = [link for link in links_in(mail.text_body) if link.startswith(f"{BASE_URL}/me/")]
    assert feed in mail.html_body
    with db.session() as session:
        mine = personal_calendar(session, feed.split("/")[-2], now=utcnow())
        assert [e.id for e in mine.events] == [event.id]


def test_confirm_email_first_mails_a_confirmation_link_then_the_ticket(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make, confirm_email_first=True)
    result = register(db, event, person(1))
    assert result.outcome is Outcome.PENDING_EMAIL
    [mail] = outbox(db)
    assert mail.kind == "confirm_email" and mail.attachments == []
    confirm = f"{BASE_URL}/r/{result.manage_token}/confirm"
    assert confirm in mail.text_body and f'href="{confirm}"' in mail.html_body
    assert "/t/" not in mail.text_body  # no place, no ticket yet

    with db.transaction() as session:
        RegistrationService(session).confirm_email(result.manage_token or "")
    confirmed = outbox(db)[-1]
    assert confirmed.kind == "confirmed"
    assert f"{BASE_URL}/r/{result.manage_token}" in confirmed.text_body
    with db.transaction() as session:  # a second click changes nothing, mails nothing
        RegistrationService(session).confirm_email(result.manage_token or "")
    assert len(outbox(db)) == 2


def test_registering_again_mails_new_links_and_a_double_submit_mails_nothing(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    first = register(db, event, person(1, request_key="form-1"))
    replay = register(db, event, person(1, request_key="form-1"))
    assert replay.outcome is Outcome.REPLAYED
    assert len(outbox(db)) == 1
    again = register(db, event, person(1))
    assert again.outcome is Outcome.DUPLICATE_RESENT
    links = outbox(db)[-1]
    assert links.kind == "links"
    assert f"/r/{again.manage_token}" in links.text_body
    assert f"/r/{first.manage_token}" not in links.text_body
    assert f"/t/{first.registration.ticket_code}" in links.text_body


def test_resend_links_mails_only_known_addresses(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    register(db, event, person(1))
    with db.transaction() as session:
        service = RegistrationService(session)
        loaded = session.get(Event, event.id)
        assert loaded is not None
        assert service.resend_links(loaded, "nobody@example.org") is None
        resent = service.resend_links(loaded, "PERSON1@example.org")
    assert resent is not None
    assert kinds_by_address(db) == {"person1@example.org": ["confirmed", "links"]}
    assert f"/r/{resent.manage_token}" in outbox(db)[-1].text_body


def test_waitlist_then_promotion_mails_the_right_people(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="1")
    first = register(db, event, person(1))
    second = register(db, event, person(2))
    assert second.outcome is Outcome.WAITLISTED
    waiting = outbox(db)[-1]
    assert waiting.kind == "waitlisted" and "number 1 in line" in waiting.text_body
    assert waiting.attachments == []

    act(db, first.registration.id, "cancel")

    assert kinds_by_address(db) == {
        "person1@example.org": ["confirmed", "cancelled"],
        "person2@example.org": ["waitlisted", "promoted"],
    }
    promoted = outbox(db)[-1]
    with db.session() as session:
        code = session.get(Registration, second.registration.id).ticket_code  # type: ignore[union-attr]
    assert f"/t/{code}" in promoted.text_body
    assert "/r/" not in promoted.text_body  # the token is unknown here: the page is offered
    assert f"{BASE_URL}/e/{event.slug}/resend" in promoted.text_body
    assert [a["content_type"] for a in promoted.attachments] == ["image/png", "text/calendar"]
    act(db, first.registration.id, "cancel")  # a second cancel mails nothing
    assert len(outbox(db)) == 4


def test_approval_decisions_are_mailed(db: Database, make: Factories) -> None:
    event = open_event(db, make, requires_approval=True)
    accepted = register(db, event, person(1))
    refused = register(db, event, person(2))
    assert accepted.outcome is Outcome.PENDING_APPROVAL
    act(db, accepted.registration.id, "approve")
    act(db, refused.registration.id, "decline")
    assert kinds_by_address(db) == {
        "person1@example.org": ["pending_approval", "approved"],
        "person2@example.org": ["pending_approval", "declined"],
    }
    approved = outbox(db, kind="approved")[0]
    assert approved.subject.startswith("Approved: your place")
    assert "image/png" in [a["content_type"] for a in approved.attachments]


def test_an_unconfirmed_address_is_not_mailed_when_declined(db: Database, make: Factories) -> None:
    event = open_event(db, make, confirm_email_first=True)
    result = register(db, event, person(1))
    act(db, result.registration.id, "decline")
    assert [m.kind for m in outbox(db)] == ["confirm_email"]


def test_a_reissued_ticket_is_mailed(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    result = register(db, event, person(1))
    code = act(db, result.registration.id, "reissue_ticket")
    mail = outbox(db)[-1]
    assert mail.kind == "ticket" and f"/t/{code}" in mail.text_body
    assert f"/t/{result.registration.ticket_code}" not in mail.text_body


# -- event changes -----------------------------------------------------------------------
def _audience(db: Database, make: Factories) -> Event:
    """Confirmed 1, waitlisted 2, cancelled 3 (capacity 1)."""
    event = open_event(db, make, capacity="1")
    register(db, event, person(1))
    register(db, event, person(2))
    third = register(db, event, person(3))
    act(db, third.registration.id, "cancel")
    return event


def test_a_new_time_is_mailed_to_the_confirmed_and_the_waiting(
    db: Database, make: Factories
) -> None:
    event = _audience(db, make)
    edit_event(db, event, title="Renamed meetup", capacity="1")  # not a move
    assert outbox(db, kind="event_changed") == []

    edit_event(db, event, starts_local="2030-03-07T20:00", ends_local="2030-03-07T23:00")

    changed = outbox(db, kind="event_changed")
    assert sorted(m.to_address for m in changed) == [
        "person1@example.org",
        "person2@example.org",
    ]
    text = changed[0].text_body
    assert "New time: Thursday 7 March 2030, 20:00–23:00" in text
    assert "Before: Thursday 7 March 2030, 19:00–22:00" in text
    assert "New place" not in text
    assert [a["content_type"] for a in changed[0].attachments] == ["text/calendar"]


def test_a_new_place_is_mailed(db: Database, make: Factories) -> None:
    event = _audience(db, make)
    edit_event(db, event, venue_id="", online_url="https://meet.example.org/room")
    changed = outbox(db, kind="event_changed")
    assert len(changed) == 2
    assert "New place: https://meet.example.org/room" in changed[0].text_body
    assert "Before: The Canteen" in changed[0].text_body
    assert "New time" not in changed[0].text_body


def test_a_cancelled_event_is_mailed_with_the_reason(db: Database, make: Factories) -> None:
    event = _audience(db, make)
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        EventService(session).cancel(loaded, "The canteen is flooded.\nSorry!")
        EventService(session).cancel(loaded, "twice")  # idempotent: mails once
    cancelled = outbox(db, kind="event_cancelled")
    assert sorted(m.to_address for m in cancelled) == [
        "person1@example.org",
        "person2@example.org",
    ]
    assert "The canteen is flooded.\nSorry!" in cancelled[0].text_body
    assert "The canteen is flooded.<br>Sorry!" in cancelled[0].html_body
    assert cancelled[0].subject == "Cancelled: Flat-share meetup"


@pytest.mark.parametrize("locale", ["fr", "fr-CA", "de", ""])
def test_mails_use_a_supported_language(db: Database, make: Factories, locale: str) -> None:
    event = open_event(db, make)
    register(db, event, person(1, locale=locale))
    [mail] = outbox(db)
    french = locale.startswith("fr")
    assert ("jeudi 7 mars 2030" in mail.text_body) is french
    assert ("Thursday 7 March 2030" in mail.text_body) is not french
    assert f'<html lang="{"fr" if french else "en"}">' in mail.html_body


def test_an_erased_registration_leaves_no_mail_behind(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    gone = register(db, event, person(1))
    register(db, event, person(2))
    with db.transaction() as session:
        assert forget_registrations(session, [gone.registration.id]) == 1
    assert [m.to_address for m in outbox(db)] == ["person2@example.org"]


def test_the_ticket_mails_calendar_names_the_events_tags(db: Database, make: Factories) -> None:
    """Mail preparation loads events without their tags (events/mail/prepare.py); the
    calendar attachment, which lists them, still reads them."""
    event = open_event(db, make, tags="jardinage, vélo")
    register(db, event, person(1))
    [mail] = outbox(db)
    [ics] = [a for a in mail.attachments if a["content_type"] == "text/calendar"]
    assert "CATEGORIES:jardinage,vélo" in base64.b64decode(ics["data"]).decode()
