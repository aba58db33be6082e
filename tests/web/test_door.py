"""The door over HTTP (web/controllers/door_*.py, web/controllers/manage_door.py): who gets
in, what the door sees (names, never e-mail addresses), the JSON scan API, and escaping."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.models import Event, OutboxMessage, Registration, Role, User
from events.services.communities import CommunityService
from events.services.door_links import DoorLinkService
from events.services.events import EventInput, EventService
from events.services.registrations import RegistrationInput, RegistrationService
from tests.factories import Factories
from tests.web.conftest import Client

XSS = "<img src=x onerror=alert(1)>"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


@dataclass
class Side:
    """One community with one event and its door people."""

    owner: User
    door: User
    event: Event
    alice: Registration
    bob: Registration
    xss: Registration


def make_side(make: Factories, db: Database, slug: str, title: str) -> Side:
    owner = make.user(email=f"owner-{slug}@example.org")
    community = make.community(owner=owner, slug=slug)
    door = make.member(community, role=Role.DOOR)
    day = (utcnow() + timedelta(days=3)).date().isoformat()
    with db.transaction() as session:
        service = EventService(session)
        event = service.create(
            CommunityService(session).by_slug(slug),
            EventInput(
                title=title,
                starts_local=f"{day}T19:00",
                ends_local=f"{day}T22:00",
                timezone="Europe/Paris",
                capacity="50",
            ),
        )
        service.publish(event)
        event.guest_allowance = 3
        registrations = RegistrationService(session)

        def register(name: str, email: str, guests: int = 0) -> Registration:
            data = RegistrationInput(name=name, email=email, guests=guests, consent="on")
            return registrations.register(event, data).registration

        alice = register(f"Alice {slug}", f"alice-{slug}@example.org", 2)
        bob = register(f"Bob {slug}", f"bob-{slug}@example.org")
        xss = register(XSS, f"xss-{slug}@example.org")
    return Side(owner=owner, door=door, event=event, alice=alice, bob=bob, xss=xss)


@pytest.fixture
def ours(make: Factories, db: Database) -> Side:
    return make_side(make, db, "ours", "Pitch night")


@pytest.fixture
def theirs(make: Factories, db: Database) -> Side:
    return make_side(make, db, "theirs", "Other night")


def post_json(client: Client, url: str, body: Any, **kwargs: Any):
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(
        url,
        content=content,
        headers={
            "content-type": "application/json",
            "accept": "application/json",
            "x-csrftoken": client.csrf_token(),
        },
        follow_redirects=False,
        **kwargs,
    )


def scan(client: Client, event: Event, scanned: str, **extra: Any):
    body = {"scanned": scanned, "nonce": uuid.uuid4().hex, "device": "door 1", **extra}
    return post_json(client, f"/door/{event.slug}/scan", body)


def new_link(db: Database, side: Side, *, expires_in: timedelta | None = None) -> tuple[Any, str]:
    with db.transaction() as session:
        event = session.get(Event, side.event.id)
        expires_at = utcnow() + expires_in if expires_in is not None else None
        return DoorLinkService(session).create(
            event, label="door 2", created_by=side.owner.id, expires_at=expires_at
        )


def no_email(text: str) -> None:
    assert not EMAIL.search(text), EMAIL.search(text)


# -- access -------------------------------------------------------------------------------
def test_a_door_member_opens_the_scanner_and_checks_in_by_json(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.door)
    page = client.get(f"/door/{ours.event.slug}")
    assert page.status_code == 200
    assert "Pitch night" in page.text
    assert 'id="door-code"' in page.text
    assert "jsQR-1.4.0.js" in page.text and "/static/js/door.js" in page.text
    assert "<script>" not in page.text  # no inline script (CSP)
    no_email(page.text)

    answer = scan(client, ours.event, f"https://elsewhere.example/t/{ours.alice.ticket_code}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verdict"] == "admitted"
    assert body["message"] == "Welcome, Alice ours — party of 3"
    assert body["tone"] == "ok" and body["party"] == 3 and body["arrived"] == 3
    no_email(answer.text)

    again = scan(client, ours.event, ours.alice.ticket_code.upper())
    assert again.json()["verdict"] == "already_checked_in"
    assert again.json()["message"].startswith("Already checked in at ")
    assert "(door 1)" in again.json()["message"]
    assert again.json()["tone"] == "warn"

    unknown = scan(client, ours.event, "not a ticket")
    assert unknown.json()["verdict"] == "unknown"
    assert unknown.json()["message"] == "Unknown ticket"


def test_a_retried_scan_with_the_same_nonce_gives_the_same_answer(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.door)
    body = {"scanned": ours.bob.ticket_code, "nonce": "retry-nonce-0001", "device": "door 3"}
    first = post_json(client, f"/door/{ours.event.slug}/scan", body).json()
    second = post_json(client, f"/door/{ours.event.slug}/scan", body).json()
    assert first["verdict"] == second["verdict"] == "admitted"
    assert first["check_in_id"] == second["check_in_id"]
    assert second["replayed"] is True
    # The counters count Bob once.
    live = client.get(f"/door/{ours.event.slug}/live")
    data = json.loads(live.text.split("data: ", 1)[1].split("\n", 1)[0])
    assert data["checked_in"] == 1


def test_partial_arrival_then_undo(client: Client, db: Database, ours: Side) -> None:
    client.login_as(db, ours.door)
    first = scan(client, ours.event, ours.alice.ticket_code, people=2).json()
    assert first["verdict"] == "admitted" and first["arrived"] == 2
    assert first["message"] == "Welcome, Alice ours — 2 of 3 in"
    undone = post_json(
        client,
        f"/door/{ours.event.slug}/undo",
        {"check_in_id": first["check_in_id"], "device": "door 1"},
    )
    assert undone.status_code == 200, undone.text
    assert undone.json()["message"] == "Check-in undone: Alice ours"
    again = scan(client, ours.event, ours.alice.ticket_code).json()
    assert again["verdict"] == "admitted" and again["arrived"] == 3


def test_anonymous_visitors_get_the_sign_in_page_and_nothing_else(
    client: Client, ours: Side
) -> None:
    slug = ours.event.slug
    page = client.get(f"/door/{slug}")
    assert page.status_code == 401
    assert "Door access" in page.text and "Alice" not in page.text
    assert 'id="door-code"' not in page.text
    for url in (f"/door/{slug}/snapshot.json", f"/door/{slug}/search?q=Al", f"/door/{slug}/live"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 401, url
        assert "Alice" not in response.text
    response = scan(client, ours.event, ours.alice.ticket_code)
    assert response.status_code == 401 and "Alice" not in response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_door_member_of_another_community_gets_nothing(
    client: Client, db: Database, ours: Side, theirs: Side
) -> None:
    client.login_as(db, theirs.door)
    slug = ours.event.slug
    page = client.get(f"/door/{slug}")
    assert page.status_code == 404
    assert "Alice" not in page.text and 'id="door-code"' not in page.text
    assert client.get(f"/door/{slug}/snapshot.json", follow_redirects=False).status_code == 404
    refused = scan(client, ours.event, ours.alice.ticket_code)
    assert refused.status_code == 404 and "Alice" not in refused.text
    # Their own event's door does not admit our tickets either.
    other = scan(client, theirs.event, ours.alice.ticket_code).json()
    assert other["verdict"] == "other_event"
    assert other["message"].startswith("Ticket for another date: ")
    assert "Alice" not in json.dumps(other)
    with db.session() as session:
        assert session.get(Registration, ours.alice.id).arrived == 0  # type: ignore[union-attr]


def test_a_door_link_opens_its_event_only(
    client: Client, db: Database, ours: Side, theirs: Side
) -> None:
    _link, token = new_link(db, ours)
    opened = client.get(f"/door/{ours.event.slug}/link/{token}", follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/door/{ours.event.slug}"
    assert token not in opened.headers["location"]
    page = client.get(f"/door/{ours.event.slug}")
    assert page.status_code == 200 and 'id="door-code"' in page.text
    assert scan(client, ours.event, ours.bob.ticket_code).json()["verdict"] == "admitted"

    # The same session on another event: that event does not exist for this link.
    slug = theirs.event.slug
    for url in (
        f"/door/{slug}",
        f"/door/{slug}/snapshot.json",
        f"/door/{slug}/search?q=Alice",
        f"/door/{slug}/live",
        f"/door/{slug}/poster",
    ):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 404, url
        # The language links carry the visitor's own query string back (?q=Alice): that
        # is what was typed, not the event's data.
        shown = re.sub(r'href="/lang/[^"]*"', "", response.text)
        assert "Alice" not in shown and "Other night" not in shown
    refused = scan(client, theirs.event, theirs.alice.ticket_code)
    assert refused.status_code == 404
    assert "Alice" not in refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    with db.session() as session:
        assert session.get(Registration, theirs.alice.id).arrived == 0  # type: ignore[union-attr]

    # Its token does not open the other event's door either.
    wrong = client.get(f"/door/{slug}/link/{token}", follow_redirects=False)
    assert wrong.status_code == 410


def test_a_revoked_link_stops_working_at_once(client: Client, db: Database, ours: Side) -> None:
    link, token = new_link(db, ours)
    client.get(f"/door/{ours.event.slug}/link/{token}")
    assert scan(client, ours.event, ours.bob.ticket_code).status_code == 200
    with db.transaction() as session:
        DoorLinkService(session).revoke(session.get(Event, ours.event.id), link.id)
    refused = scan(client, ours.event, ours.alice.ticket_code)
    assert refused.status_code == 410
    assert "Alice" not in refused.text
    # The session forgot the link: the door now asks for access.
    page = client.get(f"/door/{ours.event.slug}")
    assert page.status_code == 401 and "Door access" in page.text
    assert 'id="door-code"' not in page.text
    # Opening the link again does not bring it back.
    assert client.get(f"/door/{ours.event.slug}/link/{token}").status_code == 410
    with db.session() as session:
        assert session.get(Registration, ours.alice.id).arrived == 0  # type: ignore[union-attr]


def test_an_expired_link_is_refused(client: Client, db: Database, ours: Side) -> None:
    link, token = new_link(db, ours, expires_in=timedelta(hours=1))
    client.get(f"/door/{ours.event.slug}/link/{token}")
    assert client.get(f"/door/{ours.event.slug}").status_code == 200
    with db.transaction() as session:
        stored = session.get(type(link), link.id)
        stored.expires_at = utcnow() - timedelta(minutes=1)
    assert client.get(f"/door/{ours.event.slug}").status_code == 410
    assert scan(client, ours.event, ours.bob.ticket_code).status_code in {401, 410}
    # An unknown token gets the same answer as an expired one (no oracle).
    assert client.get(f"/door/{ours.event.slug}/link/{token}").status_code == 410
    assert client.get(f"/door/{ours.event.slug}/link/nope").status_code == 410


# -- what the door sees -------------------------------------------------------------------
def test_door_answers_never_contain_email_addresses(
    client: Client, db: Database, ours: Side
) -> None:
    _link, token = new_link(db, ours)
    client.get(f"/door/{ours.event.slug}/link/{token}")
    slug = ours.event.slug
    answers = [
        client.get(f"/door/{slug}"),
        client.get(f"/door/{slug}/snapshot.json"),
        client.get(f"/door/{slug}/search?q=example"),
        client.get(f"/door/{slug}/search?q=ali"),
        client.get(f"/door/{slug}/live"),
        client.get(f"/door/{slug}/counters"),
        client.get(f"/door/{slug}/poster"),
        scan(client, ours.event, ours.alice.ticket_code),
        scan(client, ours.event, ours.alice.ticket_code),
        post_json(client, f"/door/{slug}/inspect", {"scanned": ours.bob.ticket_code}),
    ]
    for answer in answers:
        assert answer.status_code == 200, (answer.url, answer.text[:300])
        no_email(answer.text)
    snapshot = answers[1].json()
    assert ours.alice.ticket_code not in answers[1].text
    assert {ticket["name"] for ticket in snapshot["tickets"]} >= {"Alice", "Bob"}
    assert "Alice ours" in answers[3].text


def test_search_and_check_in_by_name_without_javascript(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.door)
    slug = ours.event.slug
    found = client.get(f"/door/{slug}/search?q=alic")
    assert "Alice ours" in found.text and "party of 3" in found.text
    assert client.get(f"/door/{slug}/search?q=a").text.count("door-row") == 0
    answer = client.submit(
        f"/door/{slug}/registrations/{ours.alice.id}/check-in",
        {"people": "1", "nonce": uuid.uuid4().hex, "device": "door 4"},
    )
    assert answer.status_code == 200
    assert "Welcome, Alice ours — 1 of 3 in" in answer.text
    assert "Undo this check-in" in answer.text
    again = client.get(f"/door/{slug}/search?q=alic")
    assert "1 of 3 in" in again.text


def test_the_keyboard_form_works_without_javascript(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.door)
    answer = client.submit(
        f"/door/{ours.event.slug}/scan",
        {"scanned": f"  {ours.bob.ticket_code}  ", "nonce": uuid.uuid4().hex},
    )
    assert answer.status_code == 200
    assert "Welcome, Bob ours" in answer.text
    assert "door-result-ok" in answer.text


def test_walk_in_registers_and_checks_in(client: Client, db: Database, ours: Side) -> None:
    client.login_as(db, ours.door)
    answer = post_json(
        client,
        f"/door/{ours.event.slug}/walk-in",
        {
            "name": "Walter Walk",
            "guests": "1",
            "email": "",
            "device": "door 1",
            "nonce": "walk-0001",
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["verdict"] == "admitted"
    assert answer.json()["message"] == "Welcome, Walter Walk — party of 2"
    refused = client.submit(f"/door/{ours.event.slug}/walk-in", {"name": "", "guests": "x"})
    assert refused.status_code == 400
    assert "Enter a whole number." in refused.text


def test_a_walk_in_gets_their_ticket_on_the_door_screen(
    client: Client, db: Database, ours: Side
) -> None:
    """No e-mail needed: the door shows the new ticket's QR code, the walk-in scans it with
    their phone (their ticket page, the open-space board from it); never in the JSON."""
    client.login_as(db, ours.door)
    url = f"/door/{ours.event.slug}/walk-in"
    page = client.submit(url, {"name": "Wanda Walk", "guests": "0", "email": ""})
    assert page.status_code == 200
    answer = post_json(client, url, {"name": "Willy Walk", "guests": 0, "email": ""})
    assert answer.status_code == 200 and "ticket_code" not in answer.json()
    with db.session() as session:
        wanda = session.scalars(select(Registration).where(Registration.name == "Wanda Walk")).one()
        willy_code = session.scalars(
            select(Registration.ticket_code).where(Registration.name == "Willy Walk")
        ).one()
    assert f'src="/t/{wanda.ticket_code}/qr.svg"' in page.text
    assert willy_code is not None and willy_code not in answer.text
    assert client.get(f"/t/{wanda.ticket_code}/qr.svg").status_code == 200


def test_a_refused_walk_in_says_why_and_json_numbers_count(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.door)
    url = f"/door/{ours.event.slug}/walk-in"
    admitted = post_json(client, url, {"name": "Numbers", "guests": 2, "nonce": uuid.uuid4().hex})
    assert admitted.status_code == 200, admitted.text
    assert (admitted.json()["party"], admitted.json()["admitted_now"]) == (3, 3)
    partial = scan(client, ours.event, ours.alice.ticket_code, people=2)
    assert (partial.json()["admitted_now"], partial.json()["arrived"]) == (2, 2)

    too_many = post_json(client, url, {"name": "Big party", "guests": 9})
    assert too_many.status_code == 400
    assert too_many.json()["errors"] == {"guests": "This number is out of the allowed range."}
    with db.transaction() as session:
        event = session.get(Event, ours.event.id)
        assert event is not None
        event.capacity = event.taken
    full = post_json(client, url, {"name": "Late", "guests": 0})
    assert full.status_code == 409
    assert full.headers["content-type"].startswith("application/problem+json")
    assert full.json()["detail"].startswith("No place left for this party.")
    assert full.json()["code"] == "event_full"
    form = client.submit(url, {"name": "Late", "guests": "0"})
    assert form.status_code == 409 and "No place left for this party." in form.text


def test_a_walk_in_does_not_tell_whether_an_address_is_registered(
    client: Client, db: Database, ours: Side
) -> None:
    """A door link is handed to volunteers: the walk-in form must not be a way to test
    addresses. Registered or not, the answer is the same (only ids, times and the new
    ticket's code differ)."""
    client.login_as(db, ours.door)
    url = f"/door/{ours.event.slug}/walk-in"
    registered, stranger = "ALICE-ours@example.org", "stranger@example.org"

    def as_json(email: str) -> dict[str, Any]:
        answer = post_json(client, url, {"name": "Same Name", "guests": 1, "email": email})
        assert answer.status_code == 200, answer.text
        varying = ("registration_id", "check_in_id", "first_checked_in_at")
        return {key: value for key, value in answer.json().items() if key not in varying}

    assert as_json(registered) == as_json(stranger)

    def as_page(email: str) -> str:
        answer = client.submit(url, {"name": "Same Name", "guests": "1", "email": email})
        assert answer.status_code == 200
        # Each walk-in gets a new ticket (its QR code is shown for their phone): its code
        # differs like the ids do.
        page = re.sub(r"/t/[a-z0-9]+/qr\.svg", "/t/CODE/qr.svg", answer.text)
        uuid_pattern = r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"
        return re.sub(uuid_pattern, "ID", page)

    assert as_page(registered) == as_page(stranger.replace("stranger", "another"))
    with db.session() as session:
        alice = session.get(Registration, ours.alice.id)
        assert alice is not None and alice.arrived == 0


def test_xss_names_are_text_in_search_results_and_the_log(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.owner)
    slug = ours.event.slug
    found = client.get(f"/door/{slug}/search?q=img")
    assert XSS not in found.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in found.text
    answer = scan(client, ours.event, ours.xss.ticket_code)
    assert answer.json()["name"] == XSS  # JSON; door.js shows it with textContent
    page = client.get(f"/manage/ours/events/{slug}/door")
    assert page.status_code == 200
    assert XSS not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    html_verdict = client.submit(f"/door/{slug}/scan", {"scanned": ours.xss.ticket_code})
    assert XSS not in html_verdict.text


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2, 3]",
        b'"just a string"',
        b"",
        json.dumps({"scanned": 12}).encode(),
        json.dumps({"scanned": ["abc"]}).encode(),
        json.dumps({"scanned": "   "}).encode(),
        json.dumps({"scanned": "abc", "nonce": "bad nonce!"}).encode(),
        json.dumps({"scanned": "abc", "nonce": "short"}).encode(),
        json.dumps({"scanned": "abc", "nonce": "srv-0123456789abcdef"}).encode(),
        json.dumps({"scanned": "abc", "device": 7}).encode(),
        json.dumps({"scanned": "abc", "people": "many"}).encode(),
        json.dumps({"scanned": "abc", "people": -4}).encode(),
        json.dumps({"scanned": "abc", "people": True}).encode(),
        json.dumps({"scanned": "abc", "people": 2.5}).encode(),
        json.dumps({"scanned": "abc", "scanned_at": "yesterday"}).encode(),
        json.dumps({"scanned": "abc", "scanned_at": "0001-01-01T00:00:00+14:00"}).encode(),
        b"\xff\xfe\x00garbage",
        b"[" * 5000,
        b'{"scanned": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"scanned": "' + b"9" * 5000 + b'", "people": ' + b"9" * 5000 + b"}",
    ],
)
def test_bad_json_gets_a_json_problem(
    client: Client, db: Database, ours: Side, body: bytes
) -> None:
    client.login_as(db, ours.door)
    answer = post_json(client, f"/door/{ours.event.slug}/scan", body)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == answer.status_code


@pytest.mark.parametrize("scanned", ["x" * 5000, "a\u0000b", "\ud800", "https://example.org/"])
def test_text_that_cannot_be_a_ticket_is_an_unknown_ticket_not_an_error(
    client: Client, db: Database, ours: Side, scanned: str
) -> None:
    """What the camera read is a scan whatever it is (events/services/door_input.py): the
    volunteer hears "unknown ticket", and the log keeps it."""
    client.login_as(db, ours.door)
    answer = scan(client, ours.event, scanned)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["verdict"], answer.json()["message"]) == ("unknown", "Unknown ticket")


def test_a_deeply_nested_body_is_a_json_problem_even_anonymously(
    client: Client, db: Database, ours: Side
) -> None:
    """5,000 ``[`` raised a RecursionError (a 500) before the JSON reader bounded depth."""
    for url in (f"/door/{ours.event.slug}/scan", "/door/no-such-event/scan"):
        anonymous = post_json(client, url, b"[" * 5000)
        assert anonymous.status_code in {401, 404}, anonymous.text
        assert anonymous.headers["content-type"].startswith("application/problem+json")
    client.login_as(db, ours.door)
    for path in ("scan", "inspect", "undo", "walk-in", f"registrations/{ours.bob.id}/check-in"):
        answer = post_json(client, f"/door/{ours.event.slug}/{path}", b"[" * 5000)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["detail"] == "The request body nests too deeply."


def test_a_huge_body_is_refused_with_a_json_problem(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.door)
    body = json.dumps({"scanned": "x" * 200_000}).encode()
    answer = post_json(client, f"/door/{ours.event.slug}/scan", body)
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_undo_of_an_unknown_check_in_is_a_json_404(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.door)
    answer = post_json(client, f"/door/{ours.event.slug}/undo", {"check_in_id": str(uuid.uuid4())})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")


# -- offline support ----------------------------------------------------------------------
def test_the_service_worker_may_control_the_door_page(client: Client, ours: Side) -> None:
    answer = client.get(f"/door/{ours.event.slug}/sw.js")
    assert answer.status_code == 200
    assert answer.headers["service-worker-allowed"] == f"/door/{ours.event.slug}"
    assert answer.headers["content-type"].startswith("text/javascript")


# -- the organiser's door page ------------------------------------------------------------
def test_organiser_creates_revokes_links_and_exports_the_log(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.owner)
    here = f"/manage/ours/events/{ours.event.slug}/door"
    assert client.get(f"/manage/ours/events/{ours.event.slug}").text.count(here) >= 1
    created = client.submit(f"{here}/links", {"label": "Door 2 — Sam", "expires_local": ""})
    assert created.status_code == 303  # and a reload cannot create a second one
    link_id = re.search(r"link=([0-9a-f-]{36})", created.headers["location"]).group(1)  # type: ignore[union-attr]
    shown = client.get(created.headers["location"])
    assert "Door 2 — Sam" in shown.text and "hand it over below" in shown.text
    match = re.search(r'value="(http://testserver\.local/door/[^"]+/link/([^"]+))"', shown.text)
    assert match, shown.text
    assert "data:image/svg+xml;base64," in shown.text
    assert f'id="door-link-{link_id}"' in shown.text
    token = match.group(2)
    # The volunteer's phone (another browser) opens it.
    with Client(app=client.app, base_url="http://testserver.local") as phone:
        assert phone.get(f"/door/{ours.event.slug}/link/{token}").status_code == 200
        assert scan(phone, ours.event, ours.alice.ticket_code).json()["verdict"] == "admitted"
    # Listed later with its label and, while it works, its address again.
    page = client.get(here)
    assert "Door 2 — Sam" in page.text and token in page.text
    assert client.submit(f"{here}/links/{link_id}/revoke").status_code == 303
    after = client.get(here).text
    assert "revoked" in after and token not in after

    assert client.submit(f"{here}/settings", {"walk_ins_over_capacity": "on"}).status_code == 303
    with db.session() as session:
        assert session.get(Event, ours.event.id).walk_ins_over_capacity is True  # type: ignore[union-attr]

    csv_file = client.get(f"{here}/log-fr.csv")
    assert csv_file.status_code == 200
    text = csv_file.content.decode("utf-8")
    assert text.startswith("\ufeff") and ";" in text.splitlines()[0]
    assert "Alice ours" in text
    no_email(text)
    assert client.get(f"{here}/log.csv").content.decode("utf-8").splitlines()[0].count(",") >= 5


def test_a_door_member_cannot_open_the_organiser_door_page(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.door)
    assert client.get(f"/manage/ours/events/{ours.event.slug}/door").status_code == 403


def test_undoing_twice_is_a_json_conflict(client: Client, db: Database, ours: Side) -> None:
    client.login_as(db, ours.door)
    first = scan(client, ours.event, ours.bob.ticket_code).json()
    url = f"/door/{ours.event.slug}/undo"
    assert post_json(client, url, {"check_in_id": first["check_in_id"]}).status_code == 200
    again = post_json(client, url, {"check_in_id": first["check_in_id"]})
    assert again.status_code == 409
    assert again.json()["detail"] == "This check-in was already undone."
    assert again.json()["code"] == "already_undone"


def test_link_form_errors_and_stale_revokes(client: Client, db: Database, ours: Side) -> None:
    client.login_as(db, ours.owner)
    here = f"/manage/ours/events/{ours.event.slug}/door"
    past = client.submit(f"{here}/links", {"label": "late", "expires_local": "2001-01-01T10:00"})
    assert past.status_code == 400 and "Choose a time in the future." in past.text
    bad = client.submit(f"{here}/links", {"label": "", "expires_local": "soon"})
    assert bad.status_code == 400
    stale = client.submit(f"{here}/links/{uuid.uuid4()}/revoke")
    assert stale.status_code == 303
    assert "does not exist" in client.get(here).text


def test_no_attendance_rate_or_no_shows_before_the_event_starts(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.owner)
    here = f"/manage/ours/events/{ours.event.slug}/door"
    before = client.get(here).text
    assert "has not started yet" in before
    assert "No-shows" not in before and "Attendance rate" not in before
    scanner = client.get(f"/door/{ours.event.slug}").text
    assert "No-shows" not in scanner and "Attendance rate" not in scanner and " %" not in scanner
    with db.transaction() as session:  # the event is under way
        event = session.get(Event, ours.event.id)
        assert event is not None
        event.starts_at, event.ends_at = (
            utcnow() - timedelta(hours=1),
            utcnow() + timedelta(hours=2),
        )
    during = client.get(here).text
    assert "has not started yet" not in during
    assert "No-shows" in during and "Attendance rate" in during and "0 %" in during


def test_the_scanner_page_for_a_door_link_on_another_day(
    client: Client, db: Database, ours: Side
) -> None:
    _link, token = new_link(db, ours)
    client.get(f"/door/{ours.event.slug}/link/{token}")
    page = client.get(f"/door/{ours.event.slug}").text
    # The event is in three days: said at once, and the plain form asks before scanning.
    assert "This event is not today: it is on " in page
    assert re.search(r'<input type="checkbox" id="door-day-ok" name="day_ok" required>', page)
    assert 'data-timezone="Europe/Paris"' in page and "data-days=" in page
    # A door link's holder is not offered to log in; the code field does not grab the focus.
    assert 'href="/login"' not in page and "autofocus" not in page
    results = client.get(f"/door/{ours.event.slug}/search?q=bob").text
    assert re.search(r'Check in<span class="visually-hidden"> Bob ours</span></button>', results)
    with db.transaction() as session:  # tonight, in Paris
        event = session.get(Event, ours.event.id)
        assert event is not None
        event.starts_at, event.ends_at = (
            utcnow() - timedelta(hours=1),
            utcnow() + timedelta(hours=1),
        )
    today = client.get(f"/door/{ours.event.slug}").text
    assert 'id="door-not-today" class="flash flash-error door-not-today" hidden' in today
    assert 'name="day_ok"' not in today


def test_a_door_link_is_sent_by_e_mail_from_the_list(
    client: Client, db: Database, ours: Side
) -> None:
    client.login_as(db, ours.owner)
    here = f"/manage/ours/events/{ours.event.slug}/door"
    created = client.submit(f"{here}/links", {"label": "Sam", "expires_local": ""})
    link_id = re.search(r"link=([0-9a-f-]{36})", created.headers["location"]).group(1)  # type: ignore[union-attr]
    refused = client.submit(f"{here}/links/{link_id}/send", {"email": "sam at home"})
    assert refused.status_code == 400
    assert 'id="f-send-' in refused.text and "Enter a valid e-mail address" in refused.text
    assert 'value="sam at home"' in refused.text
    sent = client.submit(f"{here}/links/{link_id}/send", {"email": "sam@example.org"})
    assert sent.status_code == 303
    assert "Door link sent to sam@example.org." in client.get(sent.headers["location"]).text
    with db.session() as session:
        [mail] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "door_link"))
        assert mail.to_address == "sam@example.org"
        assert f"http://testserver.local/door/{ours.event.slug}/link/" in mail.text_body
