"""Reporting listings: one report per person, the reporter stops seeing it, three people
hide it from everyone, the organisers see counts (never who) and put it back or hide it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlalchemy.event import listen, remove

from events.database import Database
from events.errors import Conflict, NotFound
from events.models import Event, ExchangeBoard, ExchangeListing, ExchangeReport, Registration
from events.services import exchange_reports
from events.services.exchange_access import seat_of
from events.services.exchange_reports import (
    REPORTS_TO_HIDE,
    moderate,
    report_listing,
    reported_listings,
)
from tests.domain.test_exchange import (
    _listing_of,
    attendee,
    before,
    board_of,
    count,
    evening,
    seated,
)
from tests.domain.test_registration_concurrency import race

__all__ = ["evening"]  # the fixture, used by name


def report(db: Database, registration: Registration, listing_id: UUID, event: Event) -> bool:
    with seated(db, registration, before(event)) as (session, seat):
        return report_listing(session, seat, listing_id, before(event))


def queue(db: Database) -> list[tuple[str, int, bool]]:
    with db.session() as session:
        board = session.scalar(select(ExchangeBoard))
        assert board is not None
        return [(r.text, r.reports, r.hidden) for r in reported_listings(session, board)]


def test_three_people_hide_a_listing_from_everyone(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    room = _listing_of(db, ada)
    others = [attendee(db, event, f"reporter{n}") for n in range(REPORTS_TO_HIDE)]
    assert not report(db, bob, room, event)
    with pytest.raises(NotFound):
        report(db, bob, room, event)  # gone for the reporter: a second report cannot happen
    assert "Room in Belleville" not in board_of(db, bob, before(event))  # the reporter
    assert "Room in Belleville" in board_of(db, others[0], before(event))
    assert queue(db) == [("Room in Belleville", 1, False)]
    assert not report(db, others[0], room, event)
    assert report(db, others[1], room, event)  # the third person: hidden
    assert "Room in Belleville" not in board_of(db, others[2], before(event))
    with pytest.raises(NotFound):
        report(db, others[2], room, event)  # no longer visible: nothing to report
    assert queue(db) == [("Room in Belleville", 3, True)]


def test_the_organisers_put_a_listing_back_or_hide_it(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    room = _listing_of(db, ada)
    carol = attendee(db, event, "carol")
    for reporter in (bob, carol, attendee(db, event, "dan")):
        report(db, reporter, room, event)
    with db.transaction() as session:
        board = session.scalar(select(ExchangeBoard))
        assert board is not None
        moderate(session, board, room, hide=False)
        with pytest.raises(NotFound):
            moderate(session, board, "not-an-id", hide=True)
    assert queue(db) == []
    assert "Room in Belleville" in board_of(db, bob, before(event))  # reports forgotten
    with db.transaction() as session:
        board = session.scalar(select(ExchangeBoard))
        assert board is not None
        moderate(session, board, room, hide=True)
    assert "Room in Belleville" not in board_of(db, carol, before(event))
    assert queue(db) == [("Room in Belleville", 0, True)]


def test_one_cannot_report_ones_own_listing(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, _bob = evening
    with pytest.raises(Conflict) as refused:
        report(db, ada, _listing_of(db, ada), event)
    assert refused.value.code == "own_listing"


# -- simultaneous reports ----------------------------------------------------------------
@contextmanager
def updates_held(db: Database, prefix: str, parties: int) -> Iterator[list[str]]:
    """Hold every statement starting with ``prefix`` until ``parties`` of them are
    waiting, and each, once run, until all have run: the transactions then run it with
    none of them committed, whatever the order the threads are scheduled in."""
    before_it, after_it = (threading.Barrier(parties, timeout=20) for _ in range(2))
    held: list[str] = []

    def hold(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith(prefix):
            held.append(statement)
            before_it.wait()

    def release(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith(prefix):
            after_it.wait()

    listen(db.engine, "before_cursor_execute", hold)
    listen(db.engine, "after_cursor_execute", release)
    try:
        yield held
    finally:
        remove(db.engine, "before_cursor_execute", hold)
        remove(db.engine, "after_cursor_execute", release)


def _race_reports(db: Database, event: Event, room: UUID) -> list[object]:
    reporters = [attendee(db, event, f"racer{n}") for n in range(REPORTS_TO_HIDE)]

    def one(n: int) -> object:
        with db.transaction() as session:
            loaded = session.get(Registration, reporters[n].id)
            assert loaded is not None
            seat = seat_of(session, loaded, before(event))
            return report_listing(session, seat, room, before(event))

    results = race(REPORTS_TO_HIDE, one)
    assert [r for r in results if isinstance(r, BaseException)] == []
    return results


def _hidden(db: Database, room: UUID) -> bool:
    with db.session() as session:
        return bool(
            session.scalar(select(ExchangeListing.hidden).where(ExchangeListing.id == room))
        )


def test_simultaneous_reports_hide_a_listing_exactly_once(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, _bob = evening
    room = _listing_of(db, ada)
    results = _race_reports(db, event, room)
    assert results.count(True) == 1
    assert count(db, ExchangeReport) == REPORTS_TO_HIDE and _hidden(db, room)


def test_negative_control_without_the_lock_postgresql_leaves_it_visible(
    db: Database,
    evening: tuple[Event, Registration, Registration],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Why the listing's row is locked: without it, three reports whose conditional
    ``UPDATE`` runs before any of them committed each count only their own, and the
    listing stays visible. (SQLite has one writer: the reports cannot overlap there.)"""
    if db.is_sqlite:
        pytest.skip("SQLite runs one writer at a time: the reports cannot overlap")
    event, ada, _bob = evening
    room = _listing_of(db, ada)
    monkeypatch.setattr(exchange_reports, "lock_row", lambda *_args: None)
    with updates_held(db, "UPDATE exchange_listing SET hidden", REPORTS_TO_HIDE) as held:
        results = _race_reports(db, event, room)
    assert len(held) == REPORTS_TO_HIDE  # each UPDATE waited for the three reports
    assert results.count(True) == 0
    assert count(db, ExchangeReport) == REPORTS_TO_HIDE and not _hidden(db, room)
