"""The request's database session.

Reads (GET, HEAD, OPTIONS) get a plain session. Writes get a session whose transaction
begins as a writer (``BEGIN IMMEDIATE`` on SQLite) after passing the process's write
gate, and commit *before* the response is sent: an acknowledged write is on disk.
Any exception rolls the whole request back, so a refused request changes nothing.

Handlers that do heavy work first (web/heavy_work.py) take no request session and write
through :func:`run_write` afterwards: the gate is held for the write only.

The session is always closed, even when the request is cancelled (a client that hangs up,
a stream cut short): the end of the request runs shielded from cancellation, since a
connection left open inside its transaction would keep its locks (on SQLite, the
database's one write lock) until the process dies.

Closing a session that has nothing left to commit waits on nothing on SQLite (the
driver ends a read, or a finished transaction, in memory), so it runs right on the event
loop: a hop to a worker thread and back cost more CPU than the close itself (about 0.2 ms
each, a fiftieth of an offers board page; docs/performance.md). On PostgreSQL the close
sends a ROLLBACK over the network: a worker thread does it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from functools import partial
from typing import TypeVar

import anyio.to_thread
from litestar import Request
from sqlalchemy.orm import Session

from events.database import Database
from web.rendering import ROLLBACK_FLAG
from web.write_gate import WriteGate

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")


async def _uncancellable(step: Callable[[], object]) -> None:
    """Run ``step`` in a worker thread even if the request is being cancelled."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(step)


async def _close(db: Database, session: Session) -> None:
    """Close ``session``, whose transaction ended or only read (see the module docstring)."""
    if db.is_sqlite:
        session.close()
    else:
        await _uncancellable(session.close)


async def provide_db_session(request: Request) -> AsyncGenerator[Session, None]:
    db: Database = request.app.state.db
    if request.method in SAFE_METHODS:
        session = db.session()
        try:
            yield session
        finally:
            await _close(db, session)
        return
    gate: WriteGate = request.app.state.write_gate
    async with gate:
        session = await anyio.to_thread.run_sync(partial(db.session, write=True))
        try:
            yield session
            # A page answered with an error status (a form re-rendered with its errors)
            # must not keep anything the request may have written before failing.
            if request.scope.get(ROLLBACK_FLAG):
                await _uncancellable(session.rollback)
            else:
                await _uncancellable(session.commit)
        except BaseException:
            await _uncancellable(session.rollback)
            raise
        finally:
            await _close(db, session)


async def run_write(request: Request, unit: Callable[[Session], T]) -> T:
    """``unit(session)`` in a write transaction of its own, behind the process's write
    gate, committed before this returns (rolled back if ``unit`` raises). Keep ``unit``
    short: everything slow belongs before it."""
    db: Database = request.app.state.db
    gate: WriteGate = request.app.state.write_gate
    return await gate.run_sync(partial(_in_transaction, db, unit))


def _in_transaction(db: Database, unit: Callable[[Session], T]) -> T:
    with db.transaction() as session:
        return unit(session)
