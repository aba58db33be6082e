"""Offers & needs under simultaneous requests, with real threads, on both databases.

The cap on requests per person holds exactly however many arrive at once; the negative
control counts with "read, then write" instead of the conditional increment and MUST go
over the cap, proving the test can fail. One live request per pair holds when both sides
ask at the same moment.
"""

from __future__ import annotations

import time
from uuid import UUID

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from events.database import Database
from events.errors import Conflict
from events.models import ExchangeContact, ExchangeParticipant, Registration
from events.services import exchange_contacts
from events.services.exchange_access import enter, seat_of
from events.services.exchange_contacts import REQUESTS_PER_PERSON, request_contact
from tests.domain.test_exchange import attendee, before, flat_share_board, post
from tests.domain.test_registration_concurrency import deferred, race
from tests.factories import Factories

AUTHORS = 40


def _scene(db: Database, make: Factories) -> tuple[Registration, list[UUID], object]:
    """One seeker (already on the board) and a listing from each of 40 authors."""
    event = flat_share_board(db, make)
    now = before(event)
    seeker = attendee(db, event, "seeker")
    with db.transaction() as session:
        loaded = session.get(Registration, seeker.id)
        assert loaded is not None
        enter(session, seat_of(session, loaded, now), now, visit=False)
    listings = [
        post(db, attendee(db, event, f"author{n}"), now, text=f"Room {n}") for n in range(AUTHORS)
    ]
    return seeker, listings, now


def _ask(session: Session, seeker: Registration, listing: UUID, now: object) -> str:
    loaded = session.get(Registration, seeker.id)
    assert loaded is not None
    try:
        request_contact(session, seat_of(session, loaded, now), listing, "Hello", now)  # type: ignore[arg-type]
    except Conflict as refused:
        return refused.code
    return "sent"


def _counted(db: Database) -> tuple[int, int]:
    with db.session() as session:
        contacts = session.scalar(select(func.count()).select_from(ExchangeContact)) or 0
        sent = session.scalar(select(func.max(ExchangeParticipant.requests_sent))) or 0
    return int(contacts), int(sent)


def test_forty_simultaneous_requests_stop_exactly_at_the_cap(db: Database, make: Factories) -> None:
    seeker, listings, now = _scene(db, make)

    def one(n: int) -> str:
        with db.transaction() as session:
            return _ask(session, seeker, listings[n], now)

    results = race(AUTHORS, one)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert results.count("sent") == REQUESTS_PER_PERSON
    assert results.count("request_cap") == AUTHORS - REQUESTS_PER_PERSON
    assert _counted(db) == (REQUESTS_PER_PERSON, REQUESTS_PER_PERSON)


def test_negative_control_read_then_write_goes_over_the_cap(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race counting "read the count, then write count + 1" MUST go over the cap.
    On SQLite one writer at a time would hide it, so (as the registration control does)
    the read transaction ends before the write: the check made earlier than the write."""
    seeker, listings, now = _scene(db, make)

    def read_then_write(session: Session, participant_id: UUID, cap: int) -> bool:
        sent = session.scalar(
            select(ExchangeParticipant.requests_sent).where(
                ExchangeParticipant.id == participant_id
            )
        )
        time.sleep(0.01)
        if db.is_sqlite:
            session.commit()  # nothing written yet: only ends the read snapshot
        if (sent or 0) >= cap:
            return False
        session.execute(
            update(ExchangeParticipant)
            .where(ExchangeParticipant.id == participant_id)
            .values(requests_sent=(sent or 0) + 1)
        )
        return True

    monkeypatch.setattr(exchange_contacts, "take_request_slot", read_then_write)

    def one(n: int) -> str:
        with deferred(db) as session:
            return _ask(session, seeker, listings[n], now)

    results = race(AUTHORS, one)
    contacts, _sent = _counted(db)
    print(
        f"negative control on {db.engine.dialect.name}: "
        f"{contacts} requests, cap {REQUESTS_PER_PERSON}"
    )
    assert contacts > REQUESTS_PER_PERSON  # over the cap: without the atomic count it fails
    assert results.count("sent") > REQUESTS_PER_PERSON


def test_both_sides_asking_at_once_make_one_live_request(db: Database, make: Factories) -> None:
    event = flat_share_board(db, make)
    now = before(event)
    ada, bob = attendee(db, event, "ada"), attendee(db, event, "bob")
    ada_listing = post(db, ada, now, text="Room")
    bob_listing = post(db, bob, now, side="need", text="Seeking")

    def one(n: int) -> str:
        who, listing = (bob, ada_listing) if n % 2 else (ada, bob_listing)
        with db.transaction() as session:
            return _ask(session, who, listing, now)

    results = race(20, one)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert results.count("sent") == 1
    assert results.count("already_in_contact") == 19
    assert _counted(db)[0] == 1
