"""Two volunteers, one ticket: real threads scanning at once, on both databases.

Each worker runs its own write transaction, as a door request would. A test-only hook
(``door._between_check_and_write``) sleeps between the verdict and the write that lets
people in, to widen the race window.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from events.database import Database
from events.errors import Conflict
from events.models import Event
from events.services import door as door_module
from events.services.door import DoorService, ScanResult, Verdict
from tests.domain.test_door import arrived, confirmed, log_rows, scan_of, walk_in_of
from tests.domain.test_registration_concurrency import race
from tests.domain.test_registrations import load_event, open_event
from tests.factories import Factories

SCANS = 50
pytestmark = pytest.mark.usefixtures("admission_path")  # direct and general


@pytest.fixture(autouse=True)
def _wide_race_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(door_module, "_between_check_and_write", lambda _s: time.sleep(0.002))


def scan_at_once(
    db: Database, event: Event, scanned: str, nonce_of: Any, count: int = SCANS
) -> list[ScanResult | BaseException]:
    barrier = threading.Barrier(min(count, 32))

    def one(n: int) -> ScanResult:
        if n < 32:
            barrier.wait()
        with db.transaction() as session:
            return DoorService(session).check_in(
                session.get(Event, event.id),
                scan_of(scanned, nonce=nonce_of(n), device=f"door {n}"),
            )

    return race(count, one)


def test_50_scans_of_one_ticket_admit_exactly_once(db: Database, make: Factories) -> None:
    event = open_event(db, make, guest_allowance=2)
    registration = confirmed(db, event, guests=2)
    assert registration.ticket_code
    results = scan_at_once(db, event, registration.ticket_code, lambda n: f"scan-{n:04}")
    assert [r for r in results if isinstance(r, BaseException)] == []
    verdicts = [r.verdict for r in results if isinstance(r, ScanResult)]
    assert verdicts.count(Verdict.ADMITTED) == 1
    assert verdicts.count(Verdict.ALREADY_CHECKED_IN) == SCANS - 1
    admitted = [r for r in results if isinstance(r, ScanResult) and r.ok]
    assert admitted[0].admitted_now == 3
    assert arrived(db, registration) == 3
    rows = log_rows(db, event)
    assert len(rows) == SCANS
    assert sum(r.people for r in rows) == 3
    assert [r.verdict for r in rows].count("admitted") == 1


def test_50_retries_of_one_scan_write_one_row(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    registration = confirmed(db, event)
    assert registration.ticket_code
    results = scan_at_once(db, event, registration.ticket_code, lambda _n: "the-same-nonce")
    assert [r for r in results if isinstance(r, BaseException)] == []
    scans = [r for r in results if isinstance(r, ScanResult)]
    assert {(r.verdict, r.admitted_now, r.arrived) for r in scans} == {(Verdict.ADMITTED, 1, 1)}
    assert len({r.check_in_id for r in scans}) == 1
    assert sum(not r.replayed for r in scans) == 1
    assert len(log_rows(db, event)) == 1 and arrived(db, registration) == 1


def test_50_retries_of_an_unknown_scan_write_one_row(db: Database, make: Factories) -> None:
    """No registration to lock: the unique nonce alone keeps the log to one row."""
    event = open_event(db, make)
    results = scan_at_once(db, event, "forged-" + "x" * 20, lambda _n: "same-unknown")
    assert [r for r in results if isinstance(r, BaseException)] == []
    scans = [r for r in results if isinstance(r, ScanResult)]
    assert {r.verdict for r in scans} == {Verdict.UNKNOWN}
    assert len({r.check_in_id for r in scans}) == 1
    assert len(log_rows(db, event)) == 1


def test_walk_ins_racing_for_the_last_places_never_oversell(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="10")
    for n in range(7):
        confirmed(db, event, n)

    def one(n: int) -> ScanResult:
        with db.transaction() as session:
            return DoorService(session).walk_in(
                session.get(Event, event.id), walk_in_of(f"Walker {n}", nonce=f"walk-in-{n}")
            )

    results = race(20, one)
    admitted = [r for r in results if isinstance(r, ScanResult)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(admitted) == 3 and len(refused) == 17
    assert {r.code for r in refused} == {"event_full"}
    assert load_event(db, event).taken == 10


def test_a_walk_in_retried_at_once_registers_once(db: Database, make: Factories) -> None:
    event = open_event(db, make, capacity="10")

    def one(_n: int) -> ScanResult:
        with db.transaction() as session:
            return DoorService(session).walk_in(
                session.get(Event, event.id), walk_in_of("Twice", nonce="walk-in-twice")
            )

    results = race(20, one)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len({r.registration_id for r in results if isinstance(r, ScanResult)}) == 1
    assert load_event(db, event).taken == 1 and len(log_rows(db, event)) == 1
