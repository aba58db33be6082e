"""bench/statements.py (docs/scaling.md): it reads the locks from the statements right, and
on a real registration it finds the capacity update of the event row and its hold time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from events.database import Database
from events.services.registering import register_for_event
from tests.domain.test_registrations import open_event, person
from tests.factories import Factories

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from statements import hold_ms, lock_of, recording, summary

pytestmark = pytest.mark.slow


def test_locks_read_from_the_statement_text() -> None:
    locking_read = "SELECT event.taken FROM event WHERE event.id = %(row_id)s FOR UPDATE"
    assert lock_of(locking_read).rows == ("event",)
    assert lock_of("SELECT event.taken FROM event WHERE event.id = %(row_id)s").rows == ()
    upsert = (
        "INSERT INTO key_value (namespace, key, value) VALUES (%(a)s, %(b)s, %(c)s) "
        "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value"
    )
    assert lock_of(upsert).rows == ("key_value",)  # not a table called "SET"
    assert lock_of("INSERT INTO registration (id) VALUES (%(id)s)").new == ("registration",)
    assert lock_of("INSERT INTO registration (id) VALUES (%(id)s)").rows == ()
    assert summary(locking_read) == "SELECT event (FOR UPDATE)"


def test_a_registration_locks_the_event_row_until_its_commit(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="10")
    with recording(db) as traces, db.session(write=True) as session:
        register_for_event(session, event.slug, person(1))
        session.commit()
    [trace] = traces
    locks = [lock_of(statement) for _at, statement in trace.statements]
    capacity_updates = [s for _at, s in trace.statements if s.lstrip().startswith("UPDATE event")]
    assert len(capacity_updates) == 1 and "taken" in capacity_updates[0]
    assert any("event" in lock.rows for lock in locks)
    assert any("key_value" in lock.rows for lock in locks)  # the content version, at commit
    held = hold_ms(trace, "event")
    assert held is not None and held > 0
    assert hold_ms(trace, "no_such_table") is None
