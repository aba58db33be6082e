"""A request's database session is closed even when the request is cancelled.

A client that hangs up (or a stream cut short) cancels the request while its session is
still open; if the cleanup were cancelled too, the connection would stay checked out inside
its transaction, holding its locks (on SQLite, the one write lock) for good.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from sqlalchemy import select

from events.database import Database
from events.models import Community
from tests.async_runner import run_async
from web.db import provide_db_session
from web.write_gate import WriteGate


def _request(db: Database, method: str) -> Any:
    gate = WriteGate(serialise=db.is_sqlite)
    return SimpleNamespace(
        method=method, scope={}, app=SimpleNamespace(state=SimpleNamespace(db=db, write_gate=gate))
    )


async def _cancelled_mid_request(db: Database, method: str) -> None:
    dependency = provide_db_session(_request(db, method))
    session = await dependency.__anext__()
    await anyio.to_thread.run_sync(lambda: session.execute(select(Community.id)).all())
    assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    with anyio.CancelScope() as scope:
        scope.cancel()  # the request is cancelled: cleanup runs under a cancelled scope
        await dependency.aclose()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_cancelled_request_still_gives_its_connection_back(db: Database, method: str) -> None:
    run_async(_cancelled_mid_request, db, method)
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_after_a_cancelled_write_another_writer_gets_in(db: Database) -> None:
    run_async(_cancelled_mid_request, db, "POST")
    with db.transaction() as session:  # would wait for the abandoned writer's lock
        session.execute(select(Community.id)).all()
