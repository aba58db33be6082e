"""Every answer that shows personal data is sent with ``Cache-Control: no-store``, by one
mechanism: the route's declaration, read by the security middleware (security review,
issue 13 item 10)."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from events.database import Database
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.test_authorisation_matrix import build_world, fill
from web.auth import shows_personal_data

#: The pages the review named: they must be among those that declare personal data.
NAMED = {
    "/manage/{community:str}/events/{event:str}/attendees",
    "/manage/{community:str}/events/{event:str}/attendees.csv",
    "/manage/{community:str}/outbox",
    "/manage/{community:str}/outbox/{item_id:uuid}",
    "/door/{event:str}",
    "/door/{event:str}/search",
    "/r/{token:str}",
    "/r/{token:str}/confirm",
    "/t/{code:str}",
    "/t/{code:str}/qr.png",
    "/me/{token:str}/feed.ics",
}


def get_routes(app: Litestar) -> dict[str, bool]:
    """Path of every GET route → whether it declares personal data."""
    found: dict[str, bool] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if "GET" in handler.http_methods:
                    found[route.path] = shows_personal_data(handler)
    return found


def test_the_pages_the_review_named_declare_personal_data(app: Litestar) -> None:
    routes = get_routes(app)
    assert {path: routes.get(path) for path in NAMED} == dict.fromkeys(NAMED, True)
    assert routes["/"] is routes["/e/{event:str}"] is routes["/feeds/all.ics"] is False


@pytest.mark.parametrize("role", ["owner", "anonymous"])
def test_every_answer_with_personal_data_is_never_stored(
    app: Litestar, client: Client, make: Factories, db: Database, role: str
) -> None:
    world = build_world(make, db, role)
    if role == "owner":
        client.login_as(db, world.users["owner"])  # type: ignore[arg-type]
    checked = 0
    for path, personal in get_routes(app).items():
        if path.startswith(("/static", "/schema")):
            continue
        response = client.get(fill(path, world.path_values), follow_redirects=False)
        cache_control = response.headers.get("cache-control", "")
        if personal:
            assert cache_control == "no-store", (path, response.status_code, cache_control)
            checked += 1
        else:
            assert "no-store" not in cache_control, path
    assert checked >= 30


def test_a_wrong_token_is_not_stored_either(client: Client) -> None:
    for path in ("/r/not-a-token", "/t/not-a-code", "/me/not-a-token/feed.ics"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["cache-control"] == "no-store"
