"""A session opened as a reader never writes.

``Database.session()`` without ``write=True`` is a reader: a page's GET, a feed, a check.
A write there is always a bug, and a quiet one:
- a request's read session is closed without a commit, so the write is lost;
- on SQLite, a reader that starts writing must upgrade its snapshot. If another writer
  committed since the read began, the upgrade fails at once ("database is locked"),
  whatever the busy timeout, and the page answers 503 under load. A community's secret
  made on first use inside the participant's board page did exactly that (migration 0028).

Writes belong in a writer: ``Database.transaction()``, ``session(write=True)``, or the web
layer's ``run_write``. :func:`refuse_writes_in_readers` makes every reader raise
:class:`ReaderWrote` on its first write (a flush with changes, or an ORM insert, update or
delete statement). The test suite turns it on for every test (tests/conftest.py), and,
through :data:`ASK`, in every server it starts as a process of its own (browser and
integration tests), so any read path that writes fails its tests. Production leaves it
off: there, the same bug would turn a page into an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

#: ``session.info`` key: ``False`` for a session opened as a reader.
WRITER = "rencontres.writer"
#: The environment variable that turns the rule on in a server (``1``): the test suite's.
ASK = "RENCONTRES_READERS_NEVER_WRITE"


class ReaderWrote(AssertionError):
    """A session opened as a reader tried to write."""


def mark(session: Session, *, writer: bool) -> Session:
    session.info[WRITER] = writer
    return session


def _is_reader(session: Session) -> bool:
    return session.info.get(WRITER) is False


def _refuse_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if not _is_reader(session):
        return
    changed = [
        *session.new,
        *session.deleted,
        *(item for item in session.dirty if session.is_modified(item)),
    ]
    if changed:
        names = sorted({type(item).__name__ for item in changed})
        raise ReaderWrote(f"a reader session flushed changes to {', '.join(names)}")


def _refuse_statement(state: ORMExecuteState) -> None:
    if _is_reader(state.session) and (state.is_insert or state.is_update or state.is_delete):
        raise ReaderWrote(f"a reader session ran: {state.statement}")


def refuse_writes_in_readers() -> None:
    """From now on, in this process, a reader's first write raises :class:`ReaderWrote`."""
    if not event.contains(Session, "before_flush", _refuse_flush):
        event.listen(Session, "before_flush", _refuse_flush)
        event.listen(Session, "do_orm_execute", _refuse_statement)


def refuse_writes_in_readers_if_asked(environ: Mapping[str, str]) -> None:
    """:func:`refuse_writes_in_readers` when ``environ`` asks for it (:data:`ASK`)."""
    if environ.get(ASK) == "1":
        refuse_writes_in_readers()
