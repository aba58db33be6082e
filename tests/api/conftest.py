"""Fixtures of the API tests: the HTTP client of tests/web, events made through the
services, and personal access tokens made through theirs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from litestar import Litestar

from events.clock import utcnow
from events.database import Database
from events.models import Community, Event, Role, Scope, User
from events.services.api_tokens import ApiTokenService
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.web.conftest import Client, app, client  # noqa: F401 - fixtures reused here

EVENT = {
    "title": "Pitch night",
    "starts_local": "2030-03-07T19:00",
    "ends_local": "2030-03-07T22:00",
    "timezone": "Europe/Paris",
    "capacity": "3",
}


def make_event(db: Database, community_slug: str, *, publish: bool = True, **fields: str) -> Event:
    with db.transaction() as session:
        community = CommunityService(session).by_slug(community_slug)
        service = EventService(session)
        event = service.create(community, EventInput(**{**EVENT, **fields}))
        if publish:
            service.publish(event)
        return event


def make_token(
    db: Database,
    user: User,
    community_slug: str,
    scopes: list[Scope] | list[str],
    *,
    expires_on: str = "",
) -> str:
    with db.transaction() as session:
        stored = session.get(User, user.id)
        assert stored is not None
        issued = ApiTokenService(session).create(
            stored,
            community_slug,
            name="test",
            scopes=[str(scope) for scope in scopes],
            expires_on=expires_on,
            now=utcnow(),
        )
        return issued.plain


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Organiser:
    user: User
    community: Community
    token: str  # every scope


@pytest.fixture
def organiser(make: Factories, db: Database) -> Organiser:
    user = make.user()
    community = make.community(owner=user, slug="coloc")
    return Organiser(user, community, make_token(db, user, "coloc", list(Scope)))


@pytest.fixture
def api(app: Litestar) -> Iterator[Client]:  # noqa: F811
    with Client(app=app, base_url=BASE_URL) as test_client:
        yield test_client


__all__ = ["Role", "timedelta"]
