"""A venue's address, access notes and map position stay private until an event there is
published, or until the organiser makes them public (security review, issue 13 item 10)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from events.database import Database
from events.models import Event, Role, Venue
from events.services.events import EventService
from events.services.venues import VenueService
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.test_public_events import add_event, add_venue

ADDRESS = "12 rue des Lilas"
ACCESS = "Code 4521, second floor, ring twice"
PRIVATE_BITS = (ADDRESS, ACCESS, "openstreetmap", "48.8651")


@pytest.fixture
def venue(make: Factories, db: Database) -> str:
    make.community(owner=make.user(), slug="coloc")
    return add_venue(
        db,
        "coloc",
        "Chez Camille",
        address=f"{ADDRESS}\n75020 Paris",
        access_notes=ACCESS,
        latitude="48.8651",
        longitude="2.3984",
    )


def public_surfaces(client: Client, venue: str, event: str | None = None) -> dict[str, str]:
    """Every public answer that could show the venue: its page and feeds, the home page,
    and the event's page and calendar file when there is one."""
    paths = [f"/venues/{venue}", f"/venues/{venue}/feed.ics", "/", f"/?venue={venue}"]
    paths += ["/feeds/all.ics", "/g/coloc", "/g/coloc/feed.ics", "/feeds/all.atom"]
    if event:
        paths += [f"/e/{event}", f"/e/{event}.ics"]
    answers = {}
    for path in paths:
        response = client.get(path)
        if path.startswith("/e/") and response.status_code == 404:
            continue  # a draft has no public page
        assert response.status_code == 200, path
        answers[path] = response.text
    return answers


def leaks(answers: dict[str, str]) -> dict[str, list[str]]:
    found = {path: [bit for bit in PRIVATE_BITS if bit in text] for path, text in answers.items()}
    return {path: bits for path, bits in found.items() if bits}


def test_a_venue_without_a_published_event_keeps_its_address_private(
    client: Client, db: Database, venue: str
) -> None:
    page = client.get(f"/venues/{venue}").text
    assert "Chez Camille" in page  # the name is public
    draft = add_event(db, "coloc", "Housewarming", venue=venue, publish=False)
    assert leaks(public_surfaces(client, venue, draft)) == {}


def test_publishing_an_event_there_makes_the_address_public(
    client: Client, db: Database, venue: str
) -> None:
    event = add_event(db, "coloc", "Housewarming", venue=venue)
    answers = public_surfaces(client, venue, event)
    assert ADDRESS in answers[f"/venues/{venue}"] and ACCESS in answers[f"/venues/{venue}"]
    assert "openstreetmap" in answers[f"/venues/{venue}"]
    assert ADDRESS in answers[f"/venues/{venue}/feed.ics"]
    assert ADDRESS in answers[f"/e/{event}"] and ADDRESS in answers[f"/e/{event}.ics"]


def test_a_cancelled_event_keeps_it_public_and_a_moved_one_does_not(
    db: Database, venue: str
) -> None:
    event = add_event(db, "coloc", "Housewarming", venue=venue, cancel="Flooded")
    with db.session() as session:
        service = VenueService(session)
        found = service.by_slug(venue)
        assert service.address_is_public(found)
    with db.transaction() as session:
        moved = session.scalar(select(Event).where(Event.slug == event))
        assert moved is not None
        moved.venue_id = None
    with db.session() as session:
        service = VenueService(session)
        assert not service.address_is_public(service.by_slug(venue))


def test_the_organiser_can_make_the_address_public_ahead_of_any_event(
    client: Client, db: Database, make: Factories, venue: str
) -> None:
    with db.session() as session:
        community = session.scalar(select(Venue).where(Venue.slug == venue)).community  # type: ignore[union-attr]
    organiser = make.member(community, role=Role.ORGANISER)
    client.login_as(db, organiser)
    form = client.get(f"/manage/coloc/venues/{venue}").text
    assert 'name="address_public"' in form and "Show the address publicly now" in form
    assert "checked" not in form.split('name="address_public"')[1].split(">")[0]
    fields = {
        "name": "Chez Camille",
        "address": f"{ADDRESS}\n75020 Paris",
        "access_notes": ACCESS,
        "latitude": "48.8651",
        "longitude": "2.3984",
    }

    saved = client.submit(f"/manage/coloc/venues/{venue}", {**fields, "address_public": "on"})

    assert saved.status_code == 303
    answers = public_surfaces(client, venue)
    assert ADDRESS in answers[f"/venues/{venue}"] and "openstreetmap" in answers[f"/venues/{venue}"]
    assert ADDRESS in answers[f"/venues/{venue}/feed.ics"]
    assert 'name="address_public" value="on"' in client.get(f"/manage/coloc/venues/{venue}").text
    # Unticked again: private again.
    assert client.submit(f"/manage/coloc/venues/{venue}", fields).status_code == 303
    assert leaks(public_surfaces(client, venue)) == {}


def test_a_draft_events_preview_is_not_a_publication(db: Database, venue: str) -> None:
    slug = add_event(db, "coloc", "Housewarming", venue=venue, publish=False)
    with db.session() as session:
        event = EventService(session).by_slug(slug, public=False)
        assert event.status.value == "draft"
        assert not VenueService(session).address_is_public(event.venue)  # type: ignore[arg-type]
