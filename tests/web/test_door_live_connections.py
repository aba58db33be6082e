"""The door's live stream holds no database connection while it streams: a stream lasts
minutes, and a connection held that long per door device would empty the pool (40 per
process). Litestar closes a request's dependencies (its session) when the handler
returns, before the stream is sent, and each poll of the stream opens and closes a
session of its own (web/controllers/door_live.py); this checks that it stays so.

Over real HTTP (uvicorn in a thread), with the stream's polling slowed so that no poll is
under way while the pool is looked at; the probe is checked first (a session of the
test's own shows as one connection out)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from sqlalchemy import text

from events.database import Database
from tests.factories import Factories
from tests.web.live_server import live_server, visitor
from tests.web.test_door import Side, make_side
from web.controllers import door_live


@pytest.fixture
def ours(make: Factories, db: Database) -> Side:
    return make_side(make, db, "ours", "Pitch night")


@pytest.fixture
def served(app: Litestar) -> Iterator[str]:
    with live_server(app) as base_url:
        yield base_url


def connections_out_while_streaming(served: str, db: Database, ours: Side) -> int:
    """Connections checked out of the app's pool once the stream sent its first event."""
    client = visitor(served, db, ours.door)
    try:
        with client.stream(
            "GET", f"/door/{ours.event.slug}/live", headers={"accept": "text/event-stream"}
        ) as stream:
            assert stream.status_code == 200
            first = next(stream.iter_lines())
            assert first.startswith("retry:")  # the first event is on its way: streaming
            return db.engine.pool.checkedout()  # type: ignore[attr-defined, no-any-return]
    finally:
        client.close()


def test_the_probe_counts_a_connection_held_by_a_session(db: Database) -> None:
    with db.session() as session:
        session.execute(text("SELECT 1"))
        assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_live_stream_holds_no_connection_while_it_streams(
    served: str, db: Database, ours: Side, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(door_live, "LIVE_POLL_SECONDS", 60.0)
    assert connections_out_while_streaming(served, db, ours) == 0
