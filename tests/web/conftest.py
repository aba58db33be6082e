"""HTTP-level fixtures: the app built by ``create_app`` and a client that speaks CSRF."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from events.clock import utcnow
from events.database import Database
from events.models import Community, KeyValue, Role, User
from tests.conftest import BASE_URL
from tests.factories import DEFAULT_PASSWORD, Factories
from web.app import create_app
from web.auth import SESSION_USER_KEY
from web.csrf import binding_of, token_for
from web.settings import Settings
from web.unsafe_switches import UnsafeSwitches


def login_session(db: Database, user: User) -> str:
    """A logged-in session for ``user``, written directly (skipping the deliberately slow
    password check): the value of the ``session`` cookie."""
    session_id = secrets.token_hex(32)
    data = {
        SESSION_USER_KEY: str(user.id),
        "user_name": user.display_name,
        "_renewed": time.time(),
    }
    with db.transaction() as session:
        session.add(
            KeyValue(
                namespace="rencontres.session",
                key=session_id,
                value=json.dumps(data).encode(),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    return session_id


class Client(TestClient):  # type: ignore[type-arg]
    """A test client with form posts that carry the CSRF token, and a login helper."""

    def csrf_token(self) -> str:
        """The token this browser's pages carry (bound to its session, else to its visitor
        cookie, which the first page sets: web/csrf.py)."""
        if binding_of(dict(self.cookies)) is None:
            self.get("/login")
        binding = binding_of(dict(self.cookies))
        assert binding is not None, "the server set no visitor cookie"
        return token_for(self.app.state.settings.secret_key, binding)  # type: ignore[attr-defined]

    def submit(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        data = {"_csrf_token": self.csrf_token(), **(data or {})}
        kwargs.setdefault("follow_redirects", False)
        return self.post(url, data=data, **kwargs)

    def login_as(self, db: Database, user: User) -> None:
        """Log in without the (deliberately slow) password check: write the session row."""
        self.cookies.set("session", login_session(db, user), domain="testserver.local")

    def login(self, user: User, password: str = DEFAULT_PASSWORD) -> httpx.Response:
        response = self.submit("/login", {"email": user.email, "password": password})
        assert response.status_code == 303, response.text
        return response


#: The apps this test process built, by what they were built from: building one takes
#: 0.5-1 s (Litestar registers ~650 handlers), which was most of a web test's time. Each
#: test starts it anew through its client, and a start lets go of what the last one held
#: (web/app.py, ``on_startup``); its database was emptied (tests/conftest.py).
_APPS: dict[Hashable, Litestar] = {}
APPS_KEPT = 4


@pytest.fixture
def app(settings: Settings, db: Database) -> Litestar:
    key = (settings, UnsafeSwitches.from_env(), id(db))
    built = _APPS.get(key)
    if built is None or built.state.db is not db:
        if len(_APPS) >= APPS_KEPT:
            _APPS.clear()
        built = _APPS[key] = create_app(settings, db)
    return built


@pytest.fixture
def client(app: Litestar) -> Iterator[Client]:
    with Client(app=app, base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def other_client(app: Litestar) -> Iterator[Client]:
    """A second browser, for tests that need two visitors at once."""
    with Client(app=app, base_url=BASE_URL) as test_client:
        yield test_client


@dataclass
class Organiser:
    """A browser logged in as the owner of ``community``."""

    client: Client
    community: Community

    @property
    def base(self) -> str:
        """The community's events in the organiser area."""
        return f"/manage/{self.community.slug}/events"


@pytest.fixture
def organiser(client: Client, make: Factories, db: Database) -> Organiser:
    """The owner of the community "coloc", logged in on ``client``."""
    owner = make.user()
    community = make.community(owner=owner, slug="coloc")
    client.login_as(db, owner)
    return Organiser(client, community)


@dataclass
class Member:
    """An organiser *member* of the community "coloc" (not its owner)."""

    user: User
    community: Community


@pytest.fixture
def organiser_member(make: Factories) -> Member:
    """An organiser member of "coloc", not logged in (see ``member_client``)."""
    user = make.user(name="Olga")
    community = make.community(slug="coloc", name="La Coloc")
    make.member(community, role=Role.ORGANISER, user=user)
    return Member(user, community)


@pytest.fixture
def member_client(client: Client, db: Database, organiser_member: Member) -> Client:
    """A browser logged in as the organiser member of "coloc"."""
    client.login_as(db, organiser_member.user)
    return client


@pytest.fixture
def coloc_organiser(organiser: Organiser) -> Client:
    """A browser logged in as the owner of the community "coloc"."""
    return organiser.client
