"""The organiser's venue pages through HTTP: list, add, edit, validation and guards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from events.database import Database
from events.models import Community, Role, Venue
from events.services.venues import VenueInput, VenueService
from tests.factories import Factories
from tests.web.conftest import Client, Member


def canteen(**overrides: str) -> dict[str, str]:
    form = {
        "name": "La Cantine",
        "address": "12 rue des Lilas\n75020 Paris",
        "capacity": "80",
        "access_notes": "Step-free entrance, ground floor. Métro Gambetta.",
        "latitude": "48.8651",
        "longitude": "2.3984",
    }
    form.update(overrides)
    return form


@pytest.fixture
def community(organiser_member: Member) -> Community:
    return organiser_member.community


def venues(db: Database) -> list[Venue]:
    with db.session() as session:
        return list(session.scalars(select(Venue).order_by(Venue.name)))


def add_venue(db: Database, community: Community, name: str = "Le Hangar") -> Venue:
    with db.transaction() as session:
        return VenueService(session).create(community, VenueInput(name=name))


def test_the_list_is_empty_at_first(member_client: Client) -> None:
    response = member_client.get("/manage/coloc/venues/")
    assert response.status_code == 200
    assert "No venue yet" in response.text
    assert member_client.get("/manage/coloc/venues/new").status_code == 200


def test_add_a_venue(member_client: Client, db: Database, community: Community) -> None:
    response = member_client.submit("/manage/coloc/venues", canteen())
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/manage/coloc/venues"
    [venue] = venues(db)
    assert venue.community_id == community.id
    assert (venue.name, venue.capacity) == ("La Cantine", 80)
    assert venue.address == "12 rue des Lilas\n75020 Paris"
    assert (venue.latitude, venue.longitude) == (48.8651, 2.3984)

    listing = member_client.get("/manage/coloc/venues/")
    assert "Venue “La Cantine” added." in listing.text
    assert "Step-free entrance" in listing.text
    assert "https://www.openstreetmap.org/?mlat=48.8651&amp;mlon=2.3984" in listing.text


def test_edit_a_venue(member_client: Client, db: Database, community: Community) -> None:
    venue = add_venue(db, community)
    form = member_client.get(f"/manage/coloc/venues/{venue.slug}")
    assert form.status_code == 200
    assert 'value="Le Hangar"' in form.text
    assert "OpenStreetMap" not in form.text  # no position yet

    response = member_client.submit(
        f"/manage/coloc/venues/{venue.slug}", canteen(name="Le Hangar", latitude="48,85")
    )
    assert response.status_code == 303, response.text
    [stored] = venues(db)
    assert stored.latitude == 48.85 and stored.capacity == 80
    form = member_client.get(f"/manage/coloc/venues/{venue.slug}")
    assert "See this position on OpenStreetMap" in form.text
    assert "#map=18/48.85/2.3984" in form.text


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"capacity": "lots"}, "capacity", "Enter a whole number."),
        ({"capacity": "0"}, "capacity", "This number is out of the allowed range."),
        ({"longitude": ""}, "longitude", "This field is required."),
        ({"latitude": ""}, "latitude", "This field is required."),
        ({"latitude": "91"}, "latitude", "This number is out of the allowed range."),
        # "invalid_coordinate" has no message of its own yet: the generic one is shown.
        ({"longitude": "east"}, "longitude", "Enter a number in decimal degrees, like 48.8566."),
    ],
)
def test_invalid_venues_are_refused_with_messages(
    member_client: Client, db: Database, overrides: dict[str, str], field: str, message: str
) -> None:
    response = member_client.submit("/manage/coloc/venues", canteen(**overrides))
    assert response.status_code == 400
    assert f'id="f-{field}-error">{message}' in response.text
    assert venues(db) == []


def test_latitude_without_longitude_is_refused(member_client: Client, db: Database) -> None:
    response = member_client.submit("/manage/coloc/venues", canteen(longitude=""))
    assert response.status_code == 400
    assert 'id="f-longitude-error">This field is required.' in response.text
    assert 'value="48.8651"' in response.text  # what was typed is kept
    assert venues(db) == []


def test_an_invalid_edit_changes_nothing(
    member_client: Client, db: Database, community: Community
) -> None:
    venue = add_venue(db, community)
    response = member_client.submit(f"/manage/coloc/venues/{venue.slug}", canteen(name=""))
    assert response.status_code == 400
    assert 'id="f-name-error">This field is required.' in response.text
    assert venues(db)[0].name == "Le Hangar"


def test_an_empty_form_is_a_400(member_client: Client, db: Database, community: Community) -> None:
    venue = add_venue(db, community)
    assert member_client.submit("/manage/coloc/venues", {}).status_code == 400
    assert member_client.submit(f"/manage/coloc/venues/{venue.slug}", {}).status_code == 400


def test_another_communitys_venue_is_not_found(
    member_client: Client, db: Database, make: Factories
) -> None:
    theirs = make.community(slug="theirs")
    venue = add_venue(db, theirs, name="Their place")
    assert member_client.get(f"/manage/coloc/venues/{venue.slug}").status_code == 404
    response = member_client.submit(f"/manage/coloc/venues/{venue.slug}", canteen())
    assert response.status_code == 404
    assert member_client.get(f"/manage/theirs/venues/{venue.slug}").status_code == 404
    assert member_client.get("/manage/theirs/venues/").status_code == 404
    assert member_client.get("/manage/coloc/venues/nowhere").status_code == 404
    assert [v.name for v in venues(db)] == ["Their place"]
    assert "Their place" not in member_client.get("/manage/coloc/venues/").text


def test_a_door_volunteer_is_refused(
    client: Client, db: Database, make: Factories, community: Community
) -> None:
    venue = add_venue(db, community)
    client.login_as(db, make.member(community, role=Role.DOOR))
    assert client.get("/manage/coloc/venues/").status_code == 403
    assert client.get(f"/manage/coloc/venues/{venue.slug}").status_code == 403
    assert client.submit("/manage/coloc/venues", canteen()).status_code == 403
    assert [v.name for v in venues(db)] == ["Le Hangar"]


def test_a_venue_can_be_chosen_for_a_series(
    member_client: Client, db: Database, community: Community
) -> None:
    venue = add_venue(db, community)
    form = member_client.get("/manage/coloc/series/new")
    assert f'<option value="{venue.id}">Le Hangar</option>' in form.text
