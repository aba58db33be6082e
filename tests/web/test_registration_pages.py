"""Registering without an account over HTTP: the form on the event page (with and without
htmx), every outcome, bad input, tickets and their QR images, the private page (guests,
cancel, data export, erase, e-mail confirmation) and the "resend my ticket" form."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.models import (
    Event,
    EventStatus,
    OutboxMessage,
    PersonalFeed,
    Registration,
    RegistrationStatus,
)
from events.services.door import DoorService
from events.services.registrations import LINKS_AGAIN_LIMIT, RegistrationService
from tests.conftest import BASE_URL
from tests.domain.test_door import scan_of
from tests.domain.test_registrations import open_event
from tests.factories import Factories
from tests.mail.scenario import render_queued_mails
from tests.qr_decoding import decode_png
from tests.web.conftest import Client
from tests.web.test_conditional import assert_revalidates

HTMX = {"HX-Request": "true"}
S = RegistrationStatus


# -- helpers ---------------------------------------------------------------------------------
def form_key(client: Client, slug: str) -> str:
    """The nonce of a freshly rendered registration form on the event page."""
    page = client.get(f"/e/{slug}")
    assert page.status_code == 200, page.text
    found = re.search(r'name="request_key" value="([^"]+)"', page.text)
    assert found is not None, "no registration form on the event page"
    return found.group(1)


def register(
    client: Client,
    event: Event,
    n: int | str = 1,
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    **fields: str,
):
    data = {
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "consent": "on",
        "request_key": key if key is not None else form_key(client, event.slug),
        **fields,
    }
    return client.submit(f"/e/{event.slug}/register", data, headers=headers or {})


def private_url(response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/r/[\w-]{32}", location), location
    return location


def rows(db: Database, event: Event) -> list[Registration]:
    with db.session() as session:
        return list(
            session.scalars(
                select(Registration)
                .where(Registration.event_id == event.id)
                .order_by(Registration.created_at)
            )
        )


def row_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Registration)) or 0


def taken(db: Database, event: Event) -> int:
    with db.session() as session:
        return session.get(Event, event.id).taken  # type: ignore[union-attr]


def change_event(db: Database, event: Event, **values: Any) -> None:
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        for name, value in values.items():
            setattr(loaded, name, value)


def end_event(db: Database, event: Event) -> None:
    ends = utcnow() - timedelta(minutes=5)
    change_event(db, event, starts_at=ends - timedelta(hours=2), ends_at=ends)


def field_error(text: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="f-{name}-error">([^<]*)</p>', text)
    assert found is not None, f"no error slot for {name}"
    return found.group(1)


def ticket_code(db: Database, registration_id: UUID) -> str:
    with db.session() as session:
        code = session.get(Registration, registration_id).ticket_code  # type: ignore[union-attr]
    assert code
    return code


def assert_private(response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    if "<html" in response.text:
        assert '<meta name="robots" content="noindex' in response.text


# -- the form on the event page ------------------------------------------------------------
def test_event_page_offers_the_form_with_a_fresh_nonce(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="40")
    text = client.get(f"/e/{event.slug}").text

    assert "40 places left." in text
    assert f'action="/e/{event.slug}/register"' in text
    assert f'hx-post="/e/{event.slug}/register"' in text
    for name in ("name", "email"):
        assert f'<label for="f-{name}">' in text
    assert 'name="consent" type="checkbox"' in text and 'href="/privacy"' in text
    assert 'name="opt_in" type="checkbox"' in text
    assert 'name="guests"' not in text  # no guests allowed: no field
    assert f'action="/e/{event.slug}/resend"' in text
    assert form_key(client, event.slug) != form_key(client, event.slug)

    change_event(db, event, guest_allowance=3)
    text = client.get(f"/e/{event.slug}").text
    assert 'name="guests" type="number"' in text and 'max="3"' in text
    assert "You may bring up to 3 guests." in text


@pytest.mark.parametrize(
    ("changes", "expected", "form"),
    [
        ({"taken": 2}, "Full — join the waiting list.", True),
        ({"taken": 2, "waitlist_enabled": False}, "This event is full.", False),
        ({"requires_approval": True}, "The organisers confirm each registration", True),
        ({"confirm_email_first": True}, "registration counts once you have clicked it", True),
        (
            {"status": EventStatus.CANCELLED},
            "Registration is closed: this event is cancelled.",
            False,
        ),
    ],
    ids=["waitlist", "full", "approval", "confirm-email", "cancelled"],
)
def test_event_page_shows_the_registration_state(
    client: Client,
    db: Database,
    make: Factories,
    changes: dict[str, Any],
    expected: str,
    form: bool,
) -> None:
    event = open_event(db, make, capacity="2")
    change_event(db, event, **changes)
    text = client.get(f"/e/{event.slug}").text
    assert expected in text
    assert ('name="request_key"' in text) is form
    if changes.get("taken") and form:
        assert ">Join the waiting list</button>" in text


def test_an_event_that_is_over_is_closed(client: Client, db: Database, make: Factories) -> None:
    event = open_event(db, make)
    end_event(db, event)
    text = client.get(f"/e/{event.slug}").text
    assert "Registration is closed: this event is over." in text
    assert 'name="request_key"' not in text


def test_the_form_also_has_its_own_page(client: Client, db: Database, make: Factories) -> None:
    event = open_event(db, make)
    response = client.get(f"/e/{event.slug}/register")
    assert response.status_code == 200
    assert 'name="request_key"' in response.text and "Flat-share meetup" in response.text


# -- outcomes ----------------------------------------------------------------------------
def test_confirmed_without_javascript_lands_on_the_private_page_with_the_ticket(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="10", guest_allowance=2)
    response = register(client, event, name="Ada Lovelace", email="ada@example.org", guests="2")
    url = private_url(response)
    assert_private(response)

    page = client.get(url)
    assert page.status_code == 200
    assert_private(page)
    assert "You have a place." in page.text and "Your ticket is for 3 people." in page.text
    [registration] = rows(db, event)
    assert registration.status is S.CONFIRMED and registration.name == "Ada Lovelace"
    code = registration.ticket_code
    assert f'<img src="/t/{code}/qr.svg"' in page.text
    assert f'href="/t/{code}"' in page.text
    assert "ada@example.org" in page.text  # "what we store about you"
    assert f'href="/e/{event.slug}.ics"' in page.text  # add to calendar
    assert taken(db, event) == 3


def test_htmx_registration_replaces_the_form_with_the_ticket(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    response = register(client, event, headers=HTMX)
    assert response.status_code == 200
    assert_private(response)
    assert response.text.lstrip().startswith('<section id="registration"')
    assert "<html" not in response.text
    assert "You are registered!" in response.text
    code = rows(db, event)[0].ticket_code
    assert f'<img src="/t/{code}/qr.svg"' in response.text
    link = re.search(r'href="(/r/[\w-]+)"', response.text)
    assert link is not None and client.get(link.group(1)).status_code == 200


def test_htmx_registration_updates_the_places_left_in_the_key_facts(
    client: Client, db: Database, make: Factories
) -> None:
    """Issue 14, item 10: the answer also carries the new "(N left)", out of band."""
    event = open_event(db, make, capacity="5")
    assert (
        '<span id="places-left" class="remaining">(5 left)</span>'
        in client.get(f"/e/{event.slug}").text
    )
    done = register(client, event, 1, headers=HTMX, guests="0")
    oob = '<span id="places-left" class="remaining" hx-swap-oob="true">(4 left)</span>'
    assert oob in done.text
    refused = register(client, event, 2, headers=HTMX, email="not an address")
    assert refused.status_code == 400
    assert '<span id="places-left" class="remaining" hx-swap-oob="true">(4 left)</span>' in (
        refused.text
    )
    # Without htmx, the full pages carry no out-of-band copy.
    assert "hx-swap-oob" not in client.get(f"/e/{event.slug}/register").text


def test_a_full_event_puts_people_on_the_waitlist_with_their_rank(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="1")
    private_url(register(client, event, 1))
    second = client.get(private_url(register(client, event, 2)))
    third = client.get(private_url(register(client, event, 3)))
    assert "You are number 1 on the waiting list." in second.text
    assert "You are number 2 on the waiting list." in third.text
    assert "order of arrival" in second.text
    assert "qr.svg" not in second.text

    htmx = register(client, event, 4, headers=HTMX)
    assert "You are number 3 on the waiting list." in htmx.text
    assert [r.status for r in rows(db, event)] == [S.CONFIRMED, *[S.WAITLISTED] * 3]


def test_approval_mode_waits_for_the_organisers(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make, requires_approval=True)
    page = client.get(private_url(register(client, event)))
    assert "The organisers confirm each registration." in page.text
    assert "qr.svg" not in page.text
    assert rows(db, event)[0].status is S.PENDING_APPROVAL
    assert "Registration received" in register(client, event, 2, headers=HTMX).text


def test_confirm_email_first_answers_the_same_whether_or_not_the_address_is_known(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make, confirm_email_first=True)
    first = register(client, event, 1)
    again = register(client, event, 1, email="PERSON1@example.org")
    stranger = register(client, event, 2)

    for response in (first, again, stranger):
        assert response.status_code == 303
        assert response.headers["location"] == f"/e/{event.slug}/registered?result=check_mail"
    page = client.get(first.headers["location"])
    assert "Check your mailbox" in page.text and "/r/" not in page.text

    known = register(client, event, 1, headers=HTMX)
    unknown = register(client, event, 3, headers=HTMX)
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert "Check your mailbox" in known.text and "/r/" not in known.text
    assert len(rows(db, event)) == 3  # person1, person2, person3: no duplicate


def test_the_same_address_in_another_case_registers_once_and_gets_its_links_again(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    first = private_url(register(client, event, email="Ada@Example.ORG"))
    again = register(client, event, email="ada@EXAMPLE.org")

    assert again.status_code == 303
    assert again.headers["location"] == f"/e/{event.slug}/registered?result=resent"
    assert "/r/" not in again.headers["location"]
    answer = client.get(again.headers["location"]).text
    assert "We have e-mailed this address what it needs" in answer
    assert "already registered" not in answer  # the page never says the address was known
    assert len(rows(db, event)) == 1
    assert client.get(first).status_code == 200  # a re-send never breaks a working link
    htmx = register(client, event, email="ADA@example.org", headers=HTMX)
    assert "We have e-mailed this address what it needs" in htmx.text and "/r/" not in htmx.text


def test_a_double_submit_with_the_same_nonce_registers_once(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    key = form_key(client, event.slug)
    first = register(client, event, key=key)
    second = register(client, event, key=key)  # the back button, or a double click

    private_url(first)
    [registration] = rows(db, event)
    code = registration.ticket_code
    assert second.status_code == 303 and second.headers["location"] == f"/t/{code}"
    third = register(client, event, key=key, headers=HTMX)
    assert "sent twice" in third.text and f"/t/{code}" in third.text
    assert len(rows(db, event)) == 1
    assert taken(db, event) == 1


def test_a_stale_form_of_a_cancelled_registration_says_so(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    key = form_key(client, event.slug)
    url = private_url(register(client, event, key=key))
    client.submit(f"{url}/cancel", {"confirm": "yes"})
    again = register(client, event, key=key)
    assert again.headers["location"] == f"/e/{event.slug}/registered?result=stale_form"
    assert "Reload the event page" in client.get(again.headers["location"]).text


def test_a_name_with_emoji_and_accents_is_welcome(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    private_url(register(client, event, name="Zoé 🎉 Ñandú"))
    assert rows(db, event)[0].name == "Zoé 🎉 Ñandú"


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "x" * 10_000}, "name", "This is too long."),
        ({"name": "Ada\r\nBcc: evil@example.org"}, "name", "characters that are not allowed"),
        ({"name": "Ada\x00"}, "name", "characters that are not allowed"),
        ({"email": ""}, "email", "This field is required."),
        ({"email": "not an address"}, "email", "Enter a valid e-mail address"),
        ({"email": "ada@example"}, "email", "Enter a valid e-mail address"),
        ({"email": "ada\x00@example.org"}, "email", "Enter a valid e-mail address"),
        ({"email": "a" * 300 + "@example.org"}, "email", "This is too long."),
        ({"consent": ""}, "consent", "Tick the box to accept the privacy notice."),
        ({"guests": "3"}, "guests", "out of the allowed range"),
        ({"guests": "-1"}, "guests", "out of the allowed range"),
        ({"guests": "🎉"}, "guests", "Enter a whole number."),
        ({"guests": "1\x00"}, "guests", "Enter a whole number."),
    ],
    ids=lambda value: repr(value)[:30] if not isinstance(value, dict) else None,
)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_stored(
    client: Client,
    db: Database,
    make: Factories,
    fields: dict[str, str],
    field: str,
    message: str,
    htmx: bool,
) -> None:
    event = open_event(db, make, guest_allowance=2)
    response = register(client, event, headers=HTMX if htmx else {}, **fields)

    assert response.status_code == 400
    assert message in field_error(response.text, field)
    assert 'aria-invalid="true"' in response.text
    assert row_count(db) == 0 and taken(db, event) == 0
    if htmx:
        assert response.text.lstrip().startswith('<section id="registration"')
        assert "<html" not in response.text
    else:
        assert response.text.lstrip().startswith("<!doctype html>")
    # The typed values stay, and the form gets a new nonce.
    if fields.get("email") and "\x00" not in fields["email"]:
        assert f'value="{fields["email"]}"' in response.text
    assert 'name="request_key" value="' in response.text


def test_an_empty_post_is_answered_with_field_errors(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    response = client.submit(f"/e/{event.slug}/register", {})
    assert response.status_code == 400
    for name in ("name", "email", "consent"):
        assert field_error(response.text, name)
    assert row_count(db) == 0


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_full_event_without_waitlist_refuses_with_409(
    client: Client, db: Database, make: Factories, htmx: bool
) -> None:
    event = open_event(db, make, capacity="1", waitlist_enabled=False)
    key = form_key(client, event.slug)
    private_url(register(client, event, 1))

    response = register(client, event, 2, key=key, headers=HTMX if htmx else {})

    assert response.status_code == 409
    assert "This event is full." in response.text
    assert len(rows(db, event)) == 1 and taken(db, event) == 1


@pytest.mark.parametrize("change", ["cancelled", "over"])
def test_a_closed_event_refuses_with_409(
    client: Client, db: Database, make: Factories, change: str
) -> None:
    event = open_event(db, make)
    key = form_key(client, event.slug)
    if change == "cancelled":
        change_event(db, event, status=EventStatus.CANCELLED)
    else:
        end_event(db, event)

    response = register(client, event, key=key)

    assert response.status_code == 409
    assert "Registration is closed" in response.text
    assert row_count(db) == 0


def test_a_draft_event_does_not_exist_publicly(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    change_event(db, event, status=EventStatus.DRAFT)
    assert register(client, event, key="k").status_code == 404
    assert row_count(db) == 0


# -- tickets -------------------------------------------------------------------------------
def test_the_ticket_page_shows_name_party_and_status_but_never_the_address(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make, guest_allowance=2)
    private_url(register(client, event, name="Ada Lovelace", email="ada@example.org", guests="1"))
    code = rows(db, event)[0].ticket_code

    page = client.get(f"/t/{code}")

    assert page.status_code == 200
    assert "Ada Lovelace" in page.text and "2 people" in page.text and "Confirmed" in page.text
    assert "ada@example.org" not in page.text and "@" not in page.text.split("<main")[1]
    assert f'<img src="/t/{code}/qr.svg"' in page.text
    assert "Flat-share meetup" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex' in page.text
    # A person or a scanner may type it in upper case.
    assert client.get(f"/t/{code.upper()}").status_code == 200


def test_a_ticket_belongs_to_its_own_event(client: Client, db: Database, make: Factories) -> None:
    first = open_event(db, make)
    second = open_event(db, make)
    change_event(db, second, title="Another evening")
    private_url(register(client, first, 1))
    private_url(register(client, second, 2))
    code_first, code_second = rows(db, first)[0].ticket_code, rows(db, second)[0].ticket_code

    assert "Flat-share meetup" in client.get(f"/t/{code_first}").text
    page = client.get(f"/t/{code_second}").text
    assert "Another evening" in page and "Person 2" in page and "Person 1" not in page


@pytest.mark.parametrize("code", ["nope", "a" * 27, "0" * 27, "x" * 500, "%00abc", "..%2F..%2Fetc"])
def test_unknown_ticket_codes_are_not_found(client: Client, code: str) -> None:
    for url in (f"/t/{code}", f"/t/{code}/qr.svg", f"/t/{code}/qr.png"):
        response = client.get(url)
        assert response.status_code in {400, 404}, url
        assert response.status_code == 404 or code == "%00abc"


def test_the_png_decodes_to_the_ticket_url_and_is_cached_privately(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    private_url(register(client, event))
    code = rows(db, event)[0].ticket_code
    client.cookies.clear()  # a phone or an e-mail client: no cookie at all

    response = client.get(f"/t/{code}/qr.png")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"  # a ticket: personal data
    assert decode_png(response.content) == f"{BASE_URL}/t/{code}"
    assert "session=" not in response.headers.get("set-cookie", "")
    assert_revalidates(client, f"/t/{code}/qr.png", response)  # a lower-case ``w/`` too


def test_the_svg_is_well_formed_with_an_opaque_background(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    private_url(register(client, event))
    code = rows(db, event)[0].ticket_code

    response = client.get(f"/t/{code}/qr.svg")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["cache-control"] == "no-store"  # a ticket: personal data
    assert response.headers["etag"] != client.get(f"/t/{code}/qr.png").headers["etag"]
    root = ET.fromstring(response.content)
    assert root.tag.endswith("svg")
    rects = [el for el in root.iter() if el.tag.endswith("rect")]
    assert any(rect.get("fill") in {"white", "#fff", "#ffffff"} for rect in rects)
    assert any(el.tag.endswith("path") for el in root.iter())


def test_only_confirmed_tickets_have_a_qr_image(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    url = private_url(register(client, event))
    code = rows(db, event)[0].ticket_code
    client.submit(f"{url}/cancel", {"confirm": "yes"})

    page = client.get(f"/t/{code}")
    assert page.status_code == 200
    assert "This ticket is not valid" in page.text and "qr.svg" not in page.text
    assert client.get(f"/t/{code}/qr.svg").status_code == 404
    assert client.get(f"/t/{code}/qr.png").status_code == 404


# -- the private page --------------------------------------------------------------------
@pytest.mark.parametrize(
    "suffix",
    ["", "/data.json", "/confirm"],
)
def test_forged_and_erased_tokens_are_not_found(
    client: Client, db: Database, make: Factories, suffix: str
) -> None:
    event = open_event(db, make)
    url = private_url(register(client, event))
    code = rows(db, event)[0].ticket_code
    client.submit(f"/e/{event.slug}/resend", {"email": "person1@example.org"})  # adds a link
    with db.transaction() as session:  # erased: no link of it works any more
        registration = session.get(Registration, rows(db, event)[0].id)
        RegistrationService(session).erase(registration)

    for token in (url.removeprefix("/r/"), "forged-token-" + "x" * 20, code, "x" * 300):
        assert client.get(f"/r/{token}{suffix}").status_code == 404, token
    for action in ("guests", "cancel", "delete", "confirm"):
        response = client.submit(f"{url}/{action}", {"confirm": "yes", "guests": "0"})
        assert response.status_code == 404, action
    assert rows(db, event)[0].status is S.CANCELLED  # by the erasure, nothing else
    assert client.get(f"/t/{url.removeprefix('/r/')}").status_code == 404


def test_changing_guests_respects_the_places_left(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="3", guest_allowance=2)
    ada = private_url(register(client, event, 1))
    bob = private_url(register(client, event, 2, guests="1"))
    assert taken(db, event) == 3
    assert re.search(r'name="guests" type="number" value="0"', client.get(ada).text)

    refused = client.submit(f"{ada}/guests", {"guests": "1"})
    assert refused.status_code == 400
    assert "not enough places left" in field_error(refused.text, "guests")
    assert 'value="1"' in refused.text
    assert_private(refused)
    assert taken(db, event) == 3

    bad = client.submit(f"{ada}/guests", {"guests": "lots"}, headers=HTMX)
    assert bad.status_code == 400 and "Enter a whole number." in field_error(bad.text, "guests")
    assert bad.text.lstrip().startswith('<article id="manage"')

    fewer = client.submit(f"{bob}/guests", {"guests": "0"})
    assert fewer.status_code == 303 and fewer.headers["location"] == bob
    assert "Your party size is saved." in client.get(bob).text
    more = client.submit(f"{ada}/guests", {"guests": "1"}, headers=HTMX)
    assert more.status_code == 200 and "Your party size is saved." in more.text
    assert "Your ticket is for 2 people." in more.text
    assert taken(db, event) == 3


def test_cancelling_asks_first_without_javascript_then_frees_the_place(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="1")
    ada = private_url(register(client, event, 1))
    bob = private_url(register(client, event, 2))

    question = client.submit(f"{ada}/cancel", {})
    assert question.status_code == 200
    assert "Cancel your registration?" in question.text
    assert 'name="confirm" value="yes"' in question.text
    assert rows(db, event)[0].status is S.CONFIRMED

    done = client.submit(f"{ada}/cancel", {"confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == ada
    page = client.get(ada)
    assert "Your registration is cancelled." in page.text
    assert "Cancel my registration" not in page.text
    assert [r.status for r in rows(db, event)] == [S.CANCELLED, S.CONFIRMED]  # bob promoted
    assert "You have a place." in client.get(bob).text

    htmx = client.submit(f"{bob}/cancel", {"confirm": "yes"}, headers=HTMX)
    assert htmx.status_code == 200 and "Your registration is cancelled." in htmx.text
    assert taken(db, event) == 0


def test_cancelling_says_what_it_does_for_each_status(
    client: Client, db: Database, make: Factories
) -> None:
    """Issue 14, item 11: a waiting party has no place to give away."""
    event = open_event(db, make, capacity="1")
    ada = private_url(register(client, event, 1))
    bob = private_url(register(client, event, 2))
    assert "Your place will go to someone else." in client.submit(f"{ada}/cancel", {}).text
    waiting = client.submit(f"{bob}/cancel", {}).text
    assert "You leave the waiting list and lose your rank in it." in waiting
    assert "someone else" not in waiting
    confirm = re.search(r'hx-confirm="([^"]*)"', client.get(bob).text)
    assert confirm is not None
    assert confirm.group(1) == (
        "Cancel your registration? You leave the waiting list and lose your rank in it."
    )


def test_the_form_sent_back_starts_with_a_summary_of_what_to_fix(
    client: Client, db: Database, make: Factories
) -> None:
    """Issue 14, item 11: like the organisers' forms, with links to each field."""
    event = open_event(db, make)
    for headers in ({}, HTMX):
        answer = register(client, event, headers=headers, name="", consent="", email="nope")
        assert answer.status_code == 400
        text = answer.text
        summary = text[text.index('<div class="form-error error-summary" role="alert">') :]
        summary = summary[: summary.index("</div>")]
        assert "Some fields need your attention" in summary
        links = re.findall(r'<li><a href="#(f-\w+)">([^<]+)</a>: ([^<]+)</li>', summary)
        assert [(target, label) for target, label, _message in links] == [
            ("f-name", "Your name"),
            ("f-email", "E-mail address"),
            ("f-consent", "Privacy notice"),
        ]
        assert links[2][2] == "Tick the box to accept the privacy notice."
        assert text.index("error-summary") < text.index('id="f-name"')
    assert "error-summary" not in client.get(f"/e/{event.slug}").text


def test_the_ticket_page_offers_to_send_the_private_link_again(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    private_url(register(client, event))
    code = rows(db, event)[0].ticket_code
    ticket = client.get(f"/t/{code}").text
    assert f'<a href="/e/{event.slug}/resend">Lost it? E-mail me my links again</a>' in ticket
    assert client.get(f"/e/{event.slug}/resend").status_code == 200


def test_the_page_offers_hx_confirm_for_destructive_actions(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    url = private_url(register(client, event))
    render_queued_mails(db)  # the confirmation mail carries a calendar link
    page = client.get(url).text
    # cancel, delete my data, stop my calendar links
    assert page.count("hx-confirm=") == 3
    assert page.count("""hx-vals='{"confirm": "yes"}'""") == 3


def test_no_changes_once_the_event_is_over(client: Client, db: Database, make: Factories) -> None:
    event = open_event(db, make, guest_allowance=2)
    url = private_url(register(client, event))
    end_event(db, event)
    page = client.get(url).text
    assert "Cancel my registration" not in page and 'name="guests"' not in page
    assert client.submit(f"{url}/cancel", {"confirm": "yes"}).status_code == 409
    assert client.submit(f"{url}/guests", {"guests": "1"}).status_code == 409
    assert rows(db, event)[0].status is S.CONFIRMED and taken(db, event) == 1


def test_data_json_lists_what_is_stored(client: Client, db: Database, make: Factories) -> None:
    event = open_event(db, make, guest_allowance=1)
    url = private_url(
        register(client, event, name="Ada", email="ada@example.org", guests="1", opt_in="on")
    )

    response = client.get(f"{url}/data.json")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    assert_private(response)
    data = json.loads(response.content)
    code = rows(db, event)[0].ticket_code
    assert data["registration"] | {"registered_at": None, "consent_given_at": None} == {
        "name": "Ada",
        "email": "ada@example.org",
        "guests": 1,
        "status": "confirmed",
        "waitlist_position": None,
        "language": "en",
        "hear_about_next_events": True,
        "registered_at_the_door": False,
        "people_arrived": 0,
        "registered_at": None,
        "consent_given_at": None,
        "confirmed_at": data["registration"]["confirmed_at"],
        "cancelled_at": None,
        "ticket": f"{BASE_URL}/t/{code}",
    }
    assert data["registration"]["consent_given_at"]
    assert data["event"]["url"] == f"{BASE_URL}/e/{event.slug}"
    assert data["retention"]["personal_data_anonymised_days_after_event"] == 90
    assert url.removeprefix("/r/") not in response.text  # the token is not in the file
    assert data["arrivals"] == []


def test_data_json_shows_the_arrival_at_the_door(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make, guest_allowance=1)
    url = private_url(register(client, event, name="Ada", guests="1"))
    [row] = rows(db, event)
    with db.transaction() as session:  # one of the party arrives, scanned at the door
        loaded = session.get(Event, event.id)
        assert loaded is not None and row.ticket_code
        DoorService(session).check_in(loaded, scan_of(row.ticket_code, device="Door 2", people=1))

    data = json.loads(client.get(f"{url}/data.json").content)

    [arrival] = data["arrivals"]
    assert (arrival["verdict"], arrival["people"], arrival["undone"]) == ("admitted", 1, False)
    assert arrival["scanned_at"] and "Door 2" not in json.dumps(data)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_delete_my_data_cancels_then_erases(
    client: Client, db: Database, make: Factories, htmx: bool
) -> None:
    event = open_event(db, make, capacity="1")
    url = private_url(register(client, event, 1, name="Ada", email="ada@example.org"))
    private_url(register(client, event, 2))
    code = rows(db, event)[0].ticket_code

    question = client.submit(f"{url}/delete", {})
    assert question.status_code == 200 and "Delete your data?" in question.text
    assert rows(db, event)[0].name == "Ada"

    done = client.submit(f"{url}/delete", {"confirm": "yes"}, headers=HTMX if htmx else {})
    target = f"/e/{event.slug}/registered?result=erased"
    if htmx:
        assert done.status_code == 200 and done.headers["hx-redirect"] == target
    else:
        assert done.status_code == 303 and done.headers["location"] == target
    assert "Your data is deleted" in client.get(target).text
    erased, promoted = rows(db, event)
    # The address is replaced by a random hex one (which may hold "ada" by chance).
    assert erased.name == "Anonymised" and erased.email.endswith("@anonymised.invalid")
    assert "example.org" not in erased.email
    assert erased.status is S.CANCELLED
    assert promoted.status is S.CONFIRMED
    assert client.get(url).status_code == 404
    assert client.get(f"/t/{code}").status_code == 404


def mailed_token(db: Database, event: Event, *, hold_expired: bool = False) -> str:
    """The manage token of the event's only registration (the one the mail would carry)."""
    with db.transaction() as session:
        registration = session.scalars(select(Registration)).one()
        if hold_expired:
            registration.hold_expires_at = utcnow() - timedelta(minutes=1)
        loaded = session.get(Event, event.id)
        assert loaded is not None
        result = RegistrationService(session).resend_links(loaded, registration.email)
        assert result is not None and result.manage_token
        return result.manage_token


def test_confirming_the_address_needs_a_post(client: Client, db: Database, make: Factories) -> None:
    event = open_event(db, make, confirm_email_first=True)
    register(client, event)
    token = mailed_token(db, event)

    page = client.get(f"/r/{token}/confirm")
    assert page.status_code == 200 and ">Confirm my registration</button>" in page.text
    assert_private(page)
    assert rows(db, event)[0].status is S.PENDING_EMAIL  # a GET (a mail scanner) changes nothing
    assert "Please confirm your e-mail address" in client.get(f"/r/{token}").text

    done = client.submit(f"/r/{token}/confirm", {})
    assert done.status_code == 303 and done.headers["location"] == f"/r/{token}"
    assert "Your address is confirmed: you have a place." in client.get(f"/r/{token}").text
    assert rows(db, event)[0].status is S.CONFIRMED and taken(db, event) == 1
    assert "already confirmed" in client.get(f"/r/{token}/confirm").text
    assert client.submit(f"/r/{token}/confirm", {}).status_code == 303  # a second click


def test_an_expired_hold_says_so(client: Client, db: Database, make: Factories) -> None:
    event = open_event(db, make, confirm_email_first=True)
    register(client, event)
    token = mailed_token(db, event, hold_expired=True)

    page = client.get(f"/r/{token}/confirm")
    assert "This link has expired" in page.text
    refused = client.submit(f"/r/{token}/confirm", {})
    assert refused.status_code == 409 and "This link has expired" in refused.text
    assert rows(db, event)[0].status is S.PENDING_EMAIL and taken(db, event) == 0


# -- resending the links -------------------------------------------------------------------
def test_resend_answers_the_same_for_known_and_unknown_addresses(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    private_url(register(client, event, email="ada@example.org"))

    known = client.submit(f"/e/{event.slug}/resend", {"email": "ADA@example.org"})
    unknown = client.submit(f"/e/{event.slug}/resend", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    message = "If this address is registered, we have e-mailed the links again."
    assert message in client.get(known.headers["location"]).text

    known = client.submit(f"/e/{event.slug}/resend", {"email": "ada@example.org"}, headers=HTMX)
    unknown = client.submit(f"/e/{event.slug}/resend", {"email": "bob@example.org"}, headers=HTMX)
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text and message in known.text

    bad = client.submit(f"/e/{event.slug}/resend", {"email": "nope"}, headers=HTMX)
    assert bad.status_code == 400
    assert "valid e-mail address" in field_error(bad.text, "resend-email")
    assert client.get(f"/e/{event.slug}/resend").status_code == 200


def test_resend_is_rate_limited_per_address_and_event(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    other = open_event(db, make)
    for n in range(5):
        response = client.submit(f"/e/{event.slug}/resend", {"email": f"p{n}@example.org"})
        assert response.status_code == 303

    blocked = client.submit(f"/e/{event.slug}/resend", {"email": "p9@example.org"})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text and blocked.headers["retry-after"]
    htmx = client.submit(f"/e/{event.slug}/resend", {"email": "p9@example.org"}, headers=HTMX)
    assert htmx.status_code == 429 and "Too many attempts" in htmx.text
    assert "<html" not in htmx.text
    # Another event is counted apart.
    assert client.submit(f"/e/{other.slug}/resend", {"email": "p@example.org"}).status_code == 303


# -- small pages -----------------------------------------------------------------------------
def test_the_privacy_notice_says_what_why_how_long(client: Client) -> None:
    page = client.get("/privacy")
    assert page.status_code == 200
    for words in ("What we store", "Why", "erased 90 days after the event", "JSON", "deletes"):
        assert words in page.text


def test_an_unknown_result_goes_back_to_the_event(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    response = client.get(f"/e/{event.slug}/registered?result=<script>", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/e/{event.slug}"


def test_the_private_page_stops_the_personal_calendar_links(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    url = private_url(register(client, event))
    render_queued_mails(db)  # as the worker does: the confirmation mail is written
    page = client.get(url).text
    assert "1 personal calendar link" in page  # from the confirmation mail
    question = client.submit(f"{url}/feeds/revoke", {})
    assert question.status_code == 200 and "Stop your calendar links?" in question.text
    assert f'action="{url}/feeds/revoke"' in question.text
    done = client.submit(f"{url}/feeds/revoke", {"confirm": "yes"})
    assert done.status_code == 303
    assert "Your calendar links are stopped." in client.get(url).text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(PersonalFeed)) == 0


def test_the_cached_event_page_gives_each_visitor_a_fresh_nonce_and_their_csrf_field(
    client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    keys = {form_key(client, event.slug) for _ in range(3)}
    assert len(keys) == 3 and "rencontres-request-key-mark" not in keys
    page = client.get(f"/e/{event.slug}").text
    assert f'name="_csrf_token" value="{client.csrf_token()}"' in page
    assert "rencontres:csrf-input" not in page


def test_posting_someones_address_again_and_again_is_harmless(
    client: Client, db: Database, make: Factories
) -> None:
    """The attack of the security review: the form posted 13 times with a registered
    address sent 13 mails, broke the person's private link each time, said the address was
    registered and added a feed link each time."""
    event = open_event(db, make)
    first = private_url(register(client, event, email="ada@example.org"))
    answers = [register(client, event, email="ada@example.org") for _ in range(13)]
    assert {(a.status_code, a.headers["location"]) for a in answers} == {
        (303, f"/e/{event.slug}/registered?result=resent")
    }
    assert client.get(first).status_code == 200
    with db.session() as session:
        mails = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.to_address == "ada@example.org")
        )
    assert mails == 1 + LINKS_AGAIN_LIMIT  # the confirmation, then the limited re-sends
    render_queued_mails(db)
    with db.session() as session:
        feed_links = session.scalar(select(func.count()).select_from(PersonalFeed))
    assert feed_links is not None and feed_links <= 1 + LINKS_AGAIN_LIMIT
