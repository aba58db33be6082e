"""Reporting listings: one report per person, the reporter stops seeing it, three people
hide it from everyone, the organisers see counts (never who) and put it back or hide it."""

from __future__ import annotations

from uuid import UUID

import pytest
from sqlalchemy import select

from events.database import Database
from events.errors import Conflict, NotFound
from events.models import Event, ExchangeBoard, Registration
from events.services.exchange_reports import (
    REPORTS_TO_HIDE,
    moderate,
    report_listing,
    reported_listings,
)
from tests.domain.test_exchange import _listing_of, attendee, before, board_of, evening, seated

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
