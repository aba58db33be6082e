"""The direct admission (events/services/door_admission.py): one statement on
PostgreSQL, two on SQLite.

Every door test of test_door.py and test_door_concurrency.py runs with it and without it;
these check what is particular to it: its statements, nothing written unless it admits, a
retry committed while it waited (PostgreSQL: SQLite has one writer at a time), a batch's
earlier objects.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select, text

from events.clock import utcnow
from events.database import Database
from events.models import CheckIn, Community, Event, Registration, WebhookDelivery
from events.services import door as door_module
from events.services.door import DoorService, Verdict
from events.services.webhooks import WebhookService
from tests.conftest import TEST_DATABASE_URL
from tests.domain.test_door import arrival_of, arrived, confirmed, log_rows, nonce, scan, scan_of
from tests.domain.test_registrations import act, open_event
from tests.factories import Factories
from tests.sql_statements import counting_statements

ADMITTED = Verdict.ADMITTED
on_postgresql_only = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="PostgreSQL's row lock: SQLite has one writer at a time"
)


@pytest.fixture
def event(db: Database, make: Factories) -> Event:
    return open_event(db, make, capacity="20", guest_allowance=3)


def direct(session: Any, event: Event, code: str, scan_nonce: str) -> Any:
    now = utcnow()
    return door_module._DIRECT.admit(
        session,
        event_id=event.id,
        community_id=event.community_id,
        code=code,
        registration_id=None,
        nonce=scan_nonce,
        people=None,
        device="door",
        device_key=None,
        scanned_at=now,
        now=now,
        offline=False,
        actor_id=None,
        door_link_id=None,
    )


def test_an_admission_is_one_statement_or_two(db: Database, event: Event) -> None:
    alice = confirmed(db, event, "alice", guests=2)
    bob = confirmed(db, event, "bob", guests=1)
    with db.transaction() as session:
        here = session.get(Event, event.id)
        assert here is not None
        service = DoorService(session)
        ticket, someone = scan_of(alice.ticket_code, device="d"), arrival_of(device="d")
        with counting_statements(db) as run:
            by_ticket = service.check_in(here, ticket)
            by_name = service.check_in_registration(here, bob.id, someone)
    if db.is_sqlite:
        # The log row from the registration, then ``arrived``; the community's endpoints
        # are read once per transaction (none here, so no delivery row).
        assert [sql.split()[0] for sql in run] == ["INSERT", "UPDATE", "SELECT", "INSERT", "UPDATE"]
        assert "FROM registration" in run[0] and "FROM registration" in run[3]
        assert run[1].startswith("UPDATE registration") and "webhook_endpoint" in run[2]
    else:
        # Each admission is one statement: whether the community has webhooks for
        # check-ins is asked inside it (none here, so nothing else runs).
        assert len(run) == 2, run
        assert all("webhook_endpoint" in sql for sql in run), run
    assert (by_ticket.verdict, by_ticket.admitted_now, by_ticket.arrived) == (ADMITTED, 3, 3)
    assert (by_name.verdict, by_name.admitted_now, by_name.arrived) == (ADMITTED, 2, 2)
    assert by_ticket.first_device == "d" and by_ticket.first_checked_in_at is not None
    assert arrived(db, alice) == 3 and arrived(db, bob) == 2
    rows = {row.id: row for row in log_rows(db, event)}
    assert rows[by_ticket.check_in_id].people == 3  # type: ignore[index]
    assert rows[by_name.check_in_id].registration_id == bob.id  # type: ignore[index]


def test_it_writes_nothing_unless_it_admits(db: Database, make: Factories, event: Event) -> None:
    cancelled = confirmed(db, event, "cancelled")
    act(db, cancelled.id, "cancel")
    inside = confirmed(db, event, "inside")
    scan(db, event, inside.ticket_code, nonce="first-scan")
    other = open_event(db, make)
    elsewhere = confirmed(db, other, "elsewhere")
    partly = confirmed(db, event, "partly", guests=1)
    scan(db, event, partly.ticket_code, nonce="seen-nonce", people=1)
    before = len(log_rows(db, event))
    cases = [
        (cancelled.ticket_code, nonce()),
        (inside.ticket_code, nonce()),
        (elsewhere.ticket_code, nonce()),
        ("no-such-ticket-code-at-all", nonce()),
        (confirmed(db, event, "fresh").ticket_code, "seen-nonce"),
    ]
    for code, scan_nonce in cases:
        with db.transaction() as session:
            assert direct(session, event, code or "", scan_nonce) is None, code
    assert len(log_rows(db, event)) == before
    assert arrived(db, inside) == 1 and arrived(db, elsewhere) == 0 and arrived(db, partly) == 1


@on_postgresql_only
def test_a_retry_committed_while_it_waited_is_answered_from_its_row(
    db: Database, event: Event
) -> None:
    """The first request holds the lock and commits once the retry waits for it: the
    retry's statement began before that commit and does not see its log row; the unique
    nonce stops its insert, and the general path answers with the stored row."""
    party = confirmed(db, event, "party", guests=2)
    first = db.transaction()
    session = first.__enter__()
    here = session.get(Event, event.id)
    assert here is not None
    original = DoorService(session).check_in(
        here, scan_of(party.ticket_code, nonce="retried-scan", device="d", people=1)
    )
    answers: list[Any] = []

    def retry() -> None:
        answers.append(scan(db, event, party.ticket_code, nonce="retried-scan", people=1))

    worker = threading.Thread(target=retry)
    worker.start()
    try:
        wait_for_a_lock_wait(db)
    finally:
        first.__exit__(None, None, None)
        worker.join(10)
    (answer,) = answers
    assert answer.replayed and answer.check_in_id == original.check_in_id
    assert (answer.verdict, answer.admitted_now, answer.arrived) == (Verdict.ADMITTED, 1, 1)
    assert arrived(db, party) == 1 and len(log_rows(db, event)) == 1


def wait_for_a_lock_wait(db: Database) -> None:
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    deadline = time.monotonic() + 10
    with db.engine.connect() as connection:
        while connection.execute(query).scalar_one() == 0:
            assert time.monotonic() < deadline, "the retry never waited for the lock"
            time.sleep(0.01)
            connection.rollback()


def test_a_registration_the_batch_holds_stays_in_step(db: Database, event: Event) -> None:
    party = confirmed(db, event, "party", guests=2)
    with db.transaction() as session:
        held = session.get(Registration, party.id)
        assert held is not None and held.arrived == 0
        here = session.get(Event, event.id)
        assert here is not None
        DoorService(session).check_in(here, scan_of(party.ticket_code, device="d", people=2))
        assert held.arrived == 2
        again = DoorService(session).check_in(here, scan_of(party.ticket_code, device="e"))
        assert (again.admitted_now, again.arrived, again.first_device) == (1, 3, "d")
    with db.session() as session:
        devices = session.scalars(select(CheckIn.device).order_by(CheckIn.created_at)).all()
    assert devices == ["d", "e"]


def test_a_subscribed_endpoint_still_gets_its_delivery(
    db: Database, make: Factories, event: Event
) -> None:
    """The look-up folded into the admission decides right both ways: an endpoint for
    check-ins gets a delivery (its ids looked up, the row inserted), one for other types,
    or a disabled one, makes the admission its own statements and queues nothing."""
    other_types = endpoint(db, event, ["event.published", "registration.created"])
    disabled = endpoint(db, event, ["checkin.created"], enabled=False)
    first = confirmed(db, event, "first")
    with db.transaction() as session:
        here = session.get(Event, event.id)
        assert here is not None
        with counting_statements(db) as run:
            DoorService(session).check_in(here, scan_of(first.ticket_code, device="d"))
    # SQLite: the log row, ``arrived``, then the endpoints read in the same transaction.
    assert len(run) == (3 if db.is_sqlite else 1), run
    assert deliveries(db) == {other_types: 1}  # the registration.created of "first"
    listening = endpoint(db, event, ["checkin.created"])
    second = confirmed(db, event, "second")
    with db.transaction() as session:
        here = session.get(Event, event.id)
        assert here is not None
        with counting_statements(db) as run:
            DoorService(session).check_in(here, scan_of(second.ticket_code, device="d"))
    # The admission, the endpoints' ids, the delivery row.
    assert len(run) == (4 if db.is_sqlite else 3), run
    assert deliveries(db) == {other_types: 2, listening: 1}
    assert disabled not in deliveries(db)


def endpoint(db: Database, event: Event, types: list[str], *, enabled: bool = True) -> UUID:
    with db.transaction() as session:
        community = session.get(Community, event.community_id)
        assert community is not None
        added = WebhookService(session).add(
            community, url="https://hooks.example.org/in", event_types=types, allow_private=False
        )
        added.endpoint.enabled = enabled
        return added.endpoint.id


def deliveries(db: Database) -> dict[UUID, int]:
    with db.session() as session:
        rows = session.execute(
            select(WebhookDelivery.endpoint_id, func.count()).group_by(WebhookDelivery.endpoint_id)
        )
        return {endpoint_id: count for endpoint_id, count in rows}
