"""Counting the SQL statements a piece of code sends (hot paths promise how many)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event as sa_event

from events.database import Database


@contextmanager
def counting_statements(db: Database) -> Iterator[list[str]]:
    """The statements sent through ``db``'s engine while inside the block."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)
