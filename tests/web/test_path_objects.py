"""The objects organiser routes name in their path (web/path_objects.py) are looked up within
the caller's own community: an owner of one community who puts another community's event,
series or venue in the address of their own pages gets 404 and changes nothing, on every
such route of the real app. Public registration routes hide drafts."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlalchemy import select

from events.database import Database
from events.models import Event, EventStatus, ProgrammeItem, Registration, Series, Venue
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.test_authorisation_matrix import build_world, fill

NAMED_OBJECT = re.compile(r"\{(event|series|venue)(?::\w+)?\}")


def routes_naming_an_object(app: Litestar) -> list[tuple[str, str]]:
    """(method, path) of every organiser route whose path names an event, series or venue."""
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/manage/{community"):
            continue
        if NAMED_OBJECT.search(route.path) is None:
            continue
        for handler in route.route_handlers:
            found.update((method, route.path) for method in handler.http_methods - {"OPTIONS"})
    return sorted(found)


def snapshot(db: Database) -> dict[str, object]:
    """What a wrongly authorised request could change in the other community."""
    with db.session() as session:

        def rows(model: type, *columns: str) -> list[tuple[object, ...]]:
            found = session.scalars(select(model))
            return sorted(tuple(str(getattr(row, name)) for name in columns) for row in found)

        return {
            "events": rows(Event, "slug", "title", "status", "capacity", "updated_at"),
            "programme": rows(ProgrammeItem, "id", "title", "updated_at"),
            "series": rows(Series, "slug", "ended_on", "updated_at"),
            "venues": rows(Venue, "slug", "name", "updated_at"),
            "registrations": rows(Registration, "id", "status", "guests", "updated_at"),
        }


def test_another_communitys_objects_are_404_on_every_route_that_names_one(
    client: Client, make: Factories, db: Database, app: Litestar
) -> None:
    routes = routes_naming_an_object(app)
    named = {match for _m, path in routes for match in NAMED_OBJECT.findall(path)}
    assert named == {"event", "series", "venue"}, named  # the test sees all three kinds
    world = build_world(make, db, "other_owner")  # the objects live in "ours"
    client.login_as(db, world.users["other_owner"])  # type: ignore[arg-type]
    before = snapshot(db)
    headers = {"x-csrftoken": client.csrf_token()}
    for method, path in routes:
        # The other owner's own community, with "ours"'s objects in the rest of the path.
        url = fill(path, {**world.path_values, "community": "theirs"})
        response = client.request(method, url, headers=headers, follow_redirects=False)
        assert response.status_code == 404, (method, url, response.status_code)
    assert snapshot(db) == before


def test_the_same_routes_serve_the_callers_own_objects(
    client: Client, make: Factories, db: Database
) -> None:
    world = build_world(make, db, "owner")
    client.login_as(db, world.users["owner"])  # type: ignore[arg-type]
    values = world.path_values
    for url in (
        f"/manage/ours/events/{values['event']}",
        f"/manage/ours/events/{values['event']}/attendees",
        f"/manage/ours/events/{values['event']}/questions",
        f"/manage/ours/series/{values['series']}",
        f"/manage/ours/venues/{values['venue']}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("suffix", ["/register", "/registered?result=links", "/resend"])
def test_public_registration_pages_hide_drafts(
    client: Client, make: Factories, db: Database, suffix: str
) -> None:
    make.community(slug="ours")
    with db.transaction() as session:
        draft = EventService(session).create(
            CommunityService(session).by_slug("ours"),
            EventInput(
                title="Not yet",
                starts_local="2031-03-06T19:00",
                ends_local="2031-03-06T22:00",
                timezone="Europe/Paris",
            ),
        )
        assert draft.status is EventStatus.DRAFT
    assert client.get(f"/e/{draft.slug}{suffix}").status_code == 404
    assert client.get(f"/e/no-such-event{suffix}").status_code == 404
    with db.transaction() as session:
        EventService(session).publish(session.merge(draft))
    assert client.get(f"/e/{draft.slug}{suffix}", follow_redirects=False).status_code in {200, 303}
