"""Never oversell, never double-free: real threads racing on one event, on both databases.

Each worker runs its own transaction, as a web worker would. A test-only hook
(``places._between_check_and_write``) sleeps between the capacity check and the write
to widen the race window. The negative control switches the lock off
(``RegistrationService(session, lock=False)``) and must oversell, proving the test can fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from events.database import Database
from events.models import Event, Registration, RegistrationStatus
from events.reader_sessions import WRITER
from events.services import places as places_module
from events.services.registrations import Outcome, RegistrationService
from tests.domain.test_registrations import load_event, open_event, person, register
from tests.factories import Factories

S = RegistrationStatus
WORKERS = 32
PLACES = 100
PEOPLE = 300


@contextmanager
def deferred(db: Database) -> Iterator[Session]:
    """A transaction that does NOT start as a writer (plain ``BEGIN`` on SQLite): on
    purpose, so it is not held to a reader's rule (events/reader_sessions.py)."""
    session = db.session()
    del session.info[WRITER]
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(0..count-1)`` on a pool of real threads; results or raised exceptions."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(work, n) for n in range(count)]
        return [future.exception() or future.result() for future in futures]


def rows(db: Database, event: Event) -> list[Registration]:
    with db.session() as session:
        return list(session.scalars(select(Registration).where(Registration.event_id == event.id)))


def test_300_people_racing_for_100_places_never_oversell(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = open_event(db, make, capacity=str(PLACES))
    monkeypatch.setattr(places_module, "_between_check_and_write", lambda _s: time.sleep(0.002))

    def one(n: int) -> Outcome:
        with db.transaction() as session:
            service = RegistrationService(session)
            return service.register(session.get(Event, event.id), person(n)).outcome

    results = race(PEOPLE, one)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert results.count(Outcome.CONFIRMED) == PLACES
    assert results.count(Outcome.WAITLISTED) == PEOPLE - PLACES
    registrations = rows(db, event)
    confirmed = [r for r in registrations if r.status is S.CONFIRMED]
    waiting = [r for r in registrations if r.status is S.WAITLISTED]
    assert len(registrations) == PEOPLE
    assert len(confirmed) == PLACES and all(r.ticket_code for r in confirmed)
    assert sorted(r.waitlist_position for r in waiting) == list(range(1, PEOPLE - PLACES + 1))
    assert load_event(db, event).taken == PLACES


def test_negative_control_without_the_lock_oversells(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race with the lock switched off MUST oversell: the test above can fail.

    PostgreSQL (READ COMMITTED): every worker reads ``taken``, sleeps, writes
    ``taken = read + 1``; lost updates let far more than 100 people in.
    SQLite: one SQLite transaction is serialisable — a reader whose snapshot went stale
    gets SQLITE_BUSY ("database is locked") when it tries to write, it cannot oversell. So
    the control reproduces the other classic form of the bug, the check made in an earlier
    transaction than the write (a separate request, or pysqlite's legacy autocommit reads):
    the hook ends the read transaction before the write.
    """
    event = open_event(db, make, capacity=str(PLACES))

    def check_then_write_later(session: Session) -> None:
        time.sleep(0.01)
        if db.is_sqlite:
            session.commit()  # nothing written yet: only ends the read snapshot

    monkeypatch.setattr(places_module, "_between_check_and_write", check_then_write_later)

    def one(n: int) -> Outcome:
        with deferred(db) as session:
            service = RegistrationService(session, lock=False)
            return service.register(session.get(Event, event.id), person(n)).outcome

    results = race(PEOPLE, one)
    confirmed = [r for r in rows(db, event) if r.status is S.CONFIRMED]
    print(
        f"negative control on {db.engine.dialect.name}: {len(confirmed)} confirmed for "
        f"{PLACES} places, taken={load_event(db, event).taken}, "
        f"errors={sum(isinstance(r, BaseException) for r in results)}"
    )
    assert len(confirmed) > PLACES  # oversold: without the lock the guarantee is gone


def test_the_same_address_racing_registers_once(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="10")

    def one(n: int) -> Outcome:
        with db.transaction() as session:
            service = RegistrationService(session)
            data = person("same", email="Same@Example.org", request_key=f"nonce-{n % 3}")
            return service.register(session.get(Event, event.id), data).outcome

    results = race(40, one)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert results.count(Outcome.CONFIRMED) == 1
    assert set(results) == {Outcome.CONFIRMED, Outcome.REPLAYED, Outcome.DUPLICATE_RESENT}
    assert len(rows(db, event)) == 1 and load_event(db, event).taken == 1


def test_two_simultaneous_cancellations_promote_exactly_two_parties(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = open_event(db, make, capacity="10")
    confirmed = [register(db, event, person(n)).registration for n in range(10)]
    waiting = [register(db, event, person(n)).registration for n in range(10, 16)]
    monkeypatch.setattr(places_module, "_between_check_and_write", lambda _s: time.sleep(0.01))
    promoted_ids: list[Any] = []
    for round_ in range(3):
        pair = confirmed[2 * round_ : 2 * round_ + 2]
        barrier = threading.Barrier(2)

        def cancel(n: int, pair: list[Registration] = pair, barrier: Any = barrier) -> list[Any]:
            barrier.wait()
            with db.transaction() as session:
                registration = session.get(Registration, pair[n].id)
                return [r.id for r in RegistrationService(session).cancel(registration)]

        first, second = race(2, cancel)
        assert len(first) == len(second) == 1 and first != second
        promoted_ids += first + second
        assert load_event(db, event).taken == 10
    assert sorted(promoted_ids) == sorted(r.id for r in waiting[:6])
    by_id = {r.id: r for r in rows(db, event)}
    assert [by_id[r.id].status for r in waiting] == [S.CONFIRMED] * 6


def test_a_double_cancellation_frees_the_places_once(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = open_event(db, make, capacity="3", guest_allowance=2)
    party = register(db, event, person("party", guests=2)).registration
    waiting = [register(db, event, person(n)).registration for n in range(4)]
    monkeypatch.setattr(places_module, "_between_check_and_write", lambda _s: time.sleep(0.01))
    barrier = threading.Barrier(2)

    def cancel(_n: int) -> list[Any]:
        barrier.wait()
        with db.transaction() as session:
            registration = session.get(Registration, party.id)
            return [r.id for r in RegistrationService(session).cancel(registration)]

    results = race(2, cancel)
    assert sorted(len(r) for r in results) == [0, 3]  # one cancel did it, the other nothing
    assert load_event(db, event).taken == 3
    by_id = {r.id: r for r in rows(db, event)}
    assert by_id[party.id].status is S.CANCELLED
    assert [by_id[r.id].status for r in waiting] == [S.CONFIRMED] * 3 + [S.WAITLISTED]
