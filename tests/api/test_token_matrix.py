"""Every organiser API route against every kind of token: without a token, with a token
lacking the route's scope, another community's token, a revoked or expired one, a token
of a member removed since — and with the right one. The routes come from the real app,
so a new route is checked the day it is added."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from litestar.routes import HTTPRoute
from sqlalchemy import delete, update

from events.clock import utcnow
from events.database import Database
from events.models import ApiToken, Membership, Role, Scope
from events.services.registrations import RegistrationInput, RegistrationService
from tests.api.conftest import bearer, make_event, make_token
from tests.factories import Factories
from tests.web.conftest import Client
from web.app import create_app
from web.auth import Access, handler_access
from web.settings import Settings

BODIES = {
    ("POST", "/events"): {
        "title": "New",
        "starts_local": "2031-01-01T19:00",
        "ends_local": "2031-01-01T21:00",
        "timezone": "Europe/Paris",
    },
    ("PATCH", "/events/{event:str}"): {"title": "Renamed"},
    ("POST", "/registrations"): {"name": "Ada", "email": "ada@example.org", "consent": True},
    ("POST", "/guests"): {"guests": 0},
    ("POST", "/check-ins"): {"nonce": "nonce-0001", "ticket": "nothing"},
}


def _api_routes() -> list[tuple[str, str, Scope]]:
    app = create_app(
        Settings(
            data_dir=Path("/tmp"),
            database_url="sqlite:////tmp/rencontres-api-matrix.db",
            secret_key="k" * 40,
            base_url="http://testserver.local",
        )
    )
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler_access(handler) is Access.API:
                for method in handler.http_methods - {"OPTIONS"}:
                    found.append((method, route.path, handler.opt["scope"]))
    return sorted(found)


ROUTES = _api_routes()


def _body(method: str, path: str) -> dict[str, object]:
    for (m, suffix), body in BODIES.items():
        if m == method and path.endswith(suffix):
            return body
    return {}


def test_the_matrix_sees_every_scope() -> None:
    assert {scope for _m, _p, scope in ROUTES} == set(Scope)
    assert len(ROUTES) >= 15


@pytest.fixture
def world(make: Factories, db: Database) -> dict[str, str]:
    owner = make.user()
    make.community(owner=owner, slug="ours")
    other = make.community(slug="theirs")
    event = make_event(db, "ours", capacity="10")
    with db.transaction() as session:
        result = RegistrationService(session).register(
            event, RegistrationInput(name="Bo", email="bo@example.org", consent="on")
        )
        registration_id = str(result.registration.id)
    values = {
        "community": "ours",
        "event": event.slug,
        "registration": registration_id,
        "check_in": "0193a1b2-9e5f-7061-8cbd-2e3f4a5b6c7d",
    }
    for scope in Scope:
        values[f"only:{scope}"] = make_token(db, owner, "ours", [scope])
        values[f"all_but:{scope}"] = make_token(db, owner, "ours", [s for s in Scope if s != scope])
    values["theirs"] = make_token(db, make.member(other, role=Role.OWNER), "theirs", list(Scope))
    values["revoked"] = make_token(db, owner, "ours", list(Scope))
    values["expired"] = make_token(db, owner, "ours", list(Scope))
    with db.transaction() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.prefix == values["revoked"][:10])
            .values(revoked_at=utcnow())
        )
        session.execute(
            update(ApiToken)
            .where(ApiToken.prefix == values["expired"][:10])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    values["owner_id"] = str(owner.id)
    return values


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)


@pytest.mark.parametrize(
    ("method", "path", "scope"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_each_route_refuses_every_wrong_token(
    client: Client, world: dict[str, str], method: str, path: str, scope: Scope
) -> None:
    url = fill(path, world)
    body = _body(method, path)

    def call(token: str | None) -> int:
        headers = bearer(token) if token else {}
        return client.request(method, url, headers=headers, json=body).status_code

    assert call(None) == 401
    assert call("rt_not-a-token") == 401
    assert call(world["revoked"]) == 401
    assert call(world["expired"]) == 401
    assert call(world[f"all_but:{scope}"]) == 403
    # Another community's token finds nothing here (as a page answers a non-member).
    assert call(world["theirs"]) == 404
    assert call(world[f"only:{scope}"]) not in {401, 403}


def test_a_token_loses_its_power_with_its_owners_membership(
    client: Client, world: dict[str, str], db: Database
) -> None:
    url = f"/api/v1/manage/ours/events/{world['event']}"
    token = world[f"only:{Scope.EVENTS_READ}"]
    assert client.get(url, headers=bearer(token)).status_code == 200
    with db.transaction() as session:
        owner = UUID(world["owner_id"])
        session.execute(delete(Membership).where(Membership.user_id == owner))
    assert client.get(url, headers=bearer(token)).status_code == 401


def test_every_member_role_has_the_scopes_its_tokens_may_hold() -> None:
    """A role without an entry made token creation fail with a KeyError (a 500) once the
    open-space board added the facilitator role."""
    from events.models import Role
    from events.services.api_tokens import SCOPES_OF_ROLE

    assert set(SCOPES_OF_ROLE) == set(Role)
