"""The session store's read (web/store.py): on a SQLite file, on the event loop itself;
in a worker thread on PostgreSQL, and whenever SQLite would make the read wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest

from events.database import Database
from events.instant_reads import ReadWouldWait
from tests.async_runner import run_async
from web.store import DatabaseStore
from web.write_batch import WriteBatcher
from web.write_gate import WriteGate


@pytest.fixture
def store(db: Database) -> DatabaseStore:
    gate = WriteGate(serialise=db.is_sqlite)
    return DatabaseStore(db, gate, WriteBatcher(db, gate), "reads")


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[Callable[..., Any]]:
    """Every function the store hands to a worker thread."""
    handed: list[Callable[..., Any]] = []
    real = anyio.to_thread.run_sync

    async def counting(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        handed.append(function)
        return await real(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return handed


def test_a_session_is_read_without_a_worker_thread_on_sqlite(
    db: Database, store: DatabaseStore, hops: list[Callable[..., Any]]
) -> None:
    run_async(store.set, "visitor", b"data", 60)
    hops.clear()
    assert run_async(store.get, "visitor") == b"data"
    assert run_async(store.get, "nobody") is None
    assert len(hops) == (0 if db.instant_reads is not None else 2)


def test_a_read_that_would_wait_goes_to_a_worker_thread(
    db: Database,
    store: DatabaseStore,
    hops: list[Callable[..., Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_async(store.set, "visitor", b"data", 60)
    if db.instant_reads is not None:

        def busy(*_args: Any) -> Any:
            raise ReadWouldWait

        monkeypatch.setattr(db.instant_reads, "scalar", busy)
    hops.clear()
    assert run_async(store.get, "visitor") == b"data"
    assert len(hops) == 1


def test_an_expired_session_is_not_read_on_either_path(db: Database, store: DatabaseStore) -> None:
    run_async(store.set, "gone", b"old", -1)
    assert run_async(store.get, "gone") is None
