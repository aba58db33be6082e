"""The browser tests share one server per test process (tests/browser/conftest.py,
``_Server``): each test must still meet an empty database and a worker that has served
nothing, or one test's data or cached pages would leak into the next."""

from __future__ import annotations

import urllib.error
import urllib.request

from sqlalchemy import func, select

from events.database import Database
from events.models import Community
from tests.browser.conftest import LiveServer, _children, _environment_key, _Server
from tests.factories import Factories


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def communities(database_url: str) -> int:
    db = Database.from_url(database_url)
    try:
        with db.session() as session:
            return int(session.scalar(select(func.count()).select_from(Community)) or 0)
    finally:
        db.dispose()


def test_a_fresh_start_forgets_the_data_and_the_worker_of_the_test_before(
    live_server: LiveServer, _servers: dict[tuple[tuple[str, str], ...], _Server]
) -> None:
    server = _servers[_environment_key()]
    db = Database.from_url(live_server.database_url)
    Factories(db).community(slug="left-behind", name="Left behind")
    db.dispose()
    page = f"{live_server.url}/g/left-behind"
    assert status_of(page) == 200  # now kept whole by the worker (web/whole_pages.py)
    assert status_of(page) == 200
    (worker,) = _children(server.process.pid)

    server.start_afresh()

    assert communities(live_server.database_url) == 0
    assert status_of(page) == 404
    assert _children(server.process.pid) != [worker]
    assert server.alive()
