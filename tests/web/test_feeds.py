"""The feeds over HTTP: media types, ETag / If-None-Match / If-Modified-Since, HEAD, gzip,
CORS, 404 pages, drafts kept out, and the Atom documents."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from xml.etree import ElementTree

import pytest
from icalendar import Calendar

from events.calendar import event_uid
from events.database import Database
from events.models import Event
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.venues import VenueInput, VenueService
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.test_conditional import assert_revalidates

IDENTITY = {"accept-encoding": "identity"}
ATOM = "{http://www.w3.org/2005/Atom}"


def create_event(db: Database, slug: str = "ours", *, publish: bool = True, **fields: str) -> Event:
    values = {
        "title": "Pitch night",
        "starts_local": "2031-03-06T19:00",
        "ends_local": "2031-03-06T22:00",
        "timezone": "Europe/Paris",
    }
    values.update(fields)
    with db.transaction() as session:
        service = EventService(session)
        event = service.create(CommunityService(session).by_slug(slug), EventInput(**values))
        if publish:
            service.publish(event)
    return event


def edit_event(db: Database, event: Event, **fields: str) -> None:
    with db.transaction() as session:
        stored = session.get(Event, event.id)
        values = {
            "title": stored.title,
            "starts_local": "2031-03-06T19:00",
            "ends_local": "2031-03-06T22:00",
            "timezone": stored.timezone,
            "venue_id": str(stored.venue_id or ""),
            "tags": ", ".join(tag.name for tag in stored.tags),
        }
        values.update(fields)
        EventService(session).update(stored, EventInput(**values))


def uids(body: bytes) -> set[str]:
    return {str(component["UID"]) for component in Calendar.from_ical(body).walk("VEVENT")}


@pytest.fixture
def community(make: Factories) -> None:
    make.community(slug="ours", name="Our group")


@pytest.fixture
def event(db: Database, community: None) -> Event:
    return create_event(db, description="Talks, then **drinks**.")


def test_an_ics_feed_is_a_calendar_with_caching_headers(client: Client, event: Event) -> None:
    response = client.get("/feeds/all.ics", headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == 'inline; filename="all.ics"'
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in response.headers
    assert "content-encoding" not in response.headers
    digest = hashlib.sha256(response.content).hexdigest()[:32]
    assert response.headers["etag"] == f'"{digest}"'
    assert parsedate_to_datetime(response.headers["last-modified"]).tzinfo is not None
    assert uids(response.content) == {event_uid(event)}


def test_if_none_match_answers_304_without_a_body(client: Client, event: Event) -> None:
    first = client.get("/feeds/all.ics", headers=IDENTITY)
    assert_revalidates(client, "/feeds/all.ics", first, IDENTITY)


def test_every_edit_changes_the_etag(client: Client, db: Database, event: Event) -> None:
    def etag() -> str:
        return client.get("/feeds/all.ics", headers=IDENTITY).headers["etag"]

    seen = [etag()]
    assert etag() == seen[0]
    edit_event(db, event, title="Pitch night, moved")
    seen.append(etag())
    edit_event(db, event, tags="arts")  # only a tag link: the event's columns stay the same
    seen.append(etag())
    with db.transaction() as session:
        CommunityService(session).by_slug("ours").name = "Renamed group"
    seen.append(etag())
    assert len(set(seen)) == len(seen)
    stale = client.get("/feeds/all.ics", headers={**IDENTITY, "if-none-match": seen[0]})
    assert stale.status_code == 200


def test_if_modified_since(client: Client, event: Event) -> None:
    first = client.get("/feeds/all.ics", headers=IDENTITY)
    last_modified = first.headers["last-modified"]
    earlier = format_datetime(parsedate_to_datetime(last_modified) - timedelta(days=1), True)

    def status(**headers: str) -> int:
        extra = {name.replace("_", "-"): value for name, value in headers.items()}
        return client.get("/feeds/all.ics", headers={**IDENTITY, **extra}).status_code

    assert status(if_modified_since=last_modified) == 304
    assert status(if_modified_since=earlier) == 200
    assert status(if_modified_since="not a date") == 200
    # If-None-Match wins over If-Modified-Since.
    assert status(if_modified_since=last_modified, if_none_match='"other"') == 200


def test_head_answers_the_headers_only(client: Client, event: Event) -> None:
    get = client.get("/feeds/all.ics", headers=IDENTITY)
    head = client.head("/feeds/all.ics", headers=IDENTITY)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == "text/calendar; charset=utf-8"
    conditional = client.head(
        "/feeds/all.ics", headers={**IDENTITY, "if-none-match": get.headers["etag"]}
    )
    assert conditional.status_code == 304


def test_gzip_when_accepted(client: Client, db: Database, community: None) -> None:
    for day in range(1, 8):
        create_event(db, starts_local=f"2031-03-0{day}T19:00", ends_local=f"2031-03-0{day}T21:00")
    plain = client.get("/feeds/all.ics", headers=IDENTITY)
    zipped = client.get("/feeds/all.ics", headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert zipped.content == plain.content  # httpx decompressed it
    assert int(zipped.headers["content-length"]) < len(plain.content)
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gz"'
    revalidated = client.get(
        "/feeds/all.ics",
        headers={"accept-encoding": "gzip", "if-none-match": zipped.headers["etag"]},
    )
    assert revalidated.status_code == 304
    refused = client.get("/feeds/all.ics", headers={"accept-encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers


@pytest.mark.parametrize(
    "url",
    [
        "/g/nowhere/feed.ics",
        "/g/nowhere/feed.atom",
        "/tags/nowhere/feed.ics",
        "/venues/nowhere/feed.ics",
        "/e/nowhere/event.ics",
    ],
)
def test_unknown_things_answer_the_404_page(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_scoped_feeds_and_drafts(client: Client, make: Factories, db: Database) -> None:
    make.community(slug="ours", name="Our group")
    make.community(slug="theirs", name="Their group")
    with db.transaction() as session:
        venue = VenueService(session).create(
            CommunityService(session).by_slug("ours"), VenueInput(name="Canteen")
        )
    at_canteen = create_event(db, title="At the canteen", venue_id=str(venue.id))
    tagged = create_event(db, "theirs", title="Tagged", tags="Board games")
    draft = create_event(db, title="Draft", publish=False, tags="Board games")
    expected = {
        "/feeds/all.ics": {event_uid(at_canteen), event_uid(tagged)},
        "/g/ours/feed.ics": {event_uid(at_canteen)},
        "/g/theirs/feed.ics": {event_uid(tagged)},
        "/tags/board-games/feed.ics": {event_uid(tagged)},
        f"/venues/{venue.slug}/feed.ics": {event_uid(at_canteen)},
    }
    for url, wanted in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert uids(response.content) == wanted, url
        assert event_uid(draft) not in response.text
    calendar = Calendar.from_ical(client.get("/tags/board-games/feed.ics").content)
    assert calendar.calendar_name == "Events tagged “Board games”"
    calendar = Calendar.from_ical(client.get("/g/ours/feed.ics").content)
    assert calendar.calendar_name == "Our group"
    assert str(calendar["URL"]) == "http://testserver.local/g/ours"


def test_atom_feeds(client: Client, db: Database, event: Event) -> None:
    draft = create_event(db, title="Secret draft", publish=False)
    cancelled = create_event(db, title="Called off")
    with db.transaction() as session:
        EventService(session).cancel(session.get(Event, cancelled.id), "Rain")
    for url in ("/feeds/all.atom", "/g/ours/feed.atom"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"] == "application/atom+xml"
        assert response.headers["access-control-allow-origin"] == "*"
        feed = ElementTree.fromstring(response.content)
        assert feed.tag == f"{ATOM}feed"
        assert feed.find(f"{ATOM}id").text.startswith("urn:uuid:")
        assert feed.find(f"{ATOM}updated").text.endswith("Z")
        entries = {e.find(f"{ATOM}id").text: e for e in feed.findall(f"{ATOM}entry")}
        assert set(entries) == {f"urn:uuid:{event.id}", f"urn:uuid:{cancelled.id}"}
        assert f"urn:uuid:{draft.id}" not in entries
        entry = entries[f"urn:uuid:{event.id}"]
        assert entry.find(f"{ATOM}title").text == "Pitch night"
        link = entry.find(f"{ATOM}link").attrib
        assert link["href"] == f"http://testserver.local/e/{event.slug}"
        assert "drinks" in entry.find(f"{ATOM}summary").text
        assert entries[f"urn:uuid:{cancelled.id}"].find(f"{ATOM}title").text == (
            "Cancelled: Called off"
        )
        etag = response.headers["etag"]
        assert client.get(url, headers={"if-none-match": etag}).status_code == 304


def test_one_event_as_ics(client: Client, db: Database, event: Event) -> None:
    response = client.get(f"/e/{event.slug}.ics", headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == f'inline; filename="{event.slug}.ics"'
    assert uids(response.content) == {event_uid(event)}
    etag = response.headers["etag"]
    again = client.get(f"/e/{event.slug}.ics", headers={**IDENTITY, "if-none-match": etag})
    assert again.status_code == 304
    with db.transaction() as session:
        EventService(session).cancel(session.get(Event, event.id), "")
    cancelled = client.get(f"/e/{event.slug}.ics")
    assert cancelled.status_code == 200
    (component,) = Calendar.from_ical(cancelled.content).walk("VEVENT")
    assert str(component["STATUS"]) == "CANCELLED"
    draft = create_event(db, title="Draft", publish=False)
    assert client.get(f"/e/{draft.slug}.ics").status_code == 404


def test_feeds_set_no_cookies_even_for_a_logged_in_visitor(
    client: Client, make: Factories, db: Database, event: Event
) -> None:
    client.login_as(db, make.user())
    for url in ("/feeds/all.ics", "/g/ours/feed.atom", f"/e/{event.slug}.ics"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "set-cookie" not in response.headers, url
    missing = client.get("/g/nowhere/feed.ics")
    assert missing.status_code == 404 and "set-cookie" not in missing.headers
