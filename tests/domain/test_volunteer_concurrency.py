"""A shift never gets more people than it needs: real threads racing on one shift, on both
databases, with the same test-only hook as the registrations
(``places._between_check_and_write``) widening the race window. The negative control
switches the lock off (``VolunteerService(session, lock=False)``) and must overfill the
shift, proving the test can fail.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from events.database import Database
from events.errors import Conflict
from events.models import Registration, Shift, ShiftSignup, SignupStatus
from events.services import places as places_module
from events.services.volunteers import VolunteerService
from tests.domain.test_registration_concurrency import deferred, race
from tests.domain.test_volunteers import door_shift, load, ticket
from tests.factories import Factories

NEEDED = 5
PEOPLE = 40


def confirmed_signups(db: Database, shift: Shift) -> list[ShiftSignup]:
    with db.session() as session:
        return list(
            session.scalars(
                select(ShiftSignup).where(
                    ShiftSignup.shift_id == shift.id,
                    ShiftSignup.status == SignupStatus.CONFIRMED,
                )
            )
        )


def test_40_people_racing_for_5_spots_never_overfill(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, shift = door_shift(db, make, needed=str(NEEDED))
    tickets = [ticket(db, event, n) for n in range(PEOPLE)]
    monkeypatch.setattr(places_module, "_between_check_and_write", lambda _s: time.sleep(0.002))

    def one(n: int) -> str:
        with db.transaction() as session:
            try:
                VolunteerService(session).sign_up_with_ticket(
                    session.get(Shift, shift.id), session.get(Registration, tickets[n].id)
                )
            except Conflict as refused:
                return refused.code or ""
            return "confirmed"

    results = race(PEOPLE, one)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert results.count("confirmed") == NEEDED
    assert results.count("shift_full") == PEOPLE - NEEDED
    assert len(confirmed_signups(db, shift)) == NEEDED
    assert load(db, Shift, shift.id).taken == NEEDED


def test_negative_control_without_the_lock_overfills(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race with the lock switched off MUST overfill (see the registrations'
    negative control for why SQLite needs the read to end before the write)."""
    event, shift = door_shift(db, make, needed=str(NEEDED))
    tickets = [ticket(db, event, n) for n in range(PEOPLE)]

    def check_then_write_later(session: Session) -> None:
        time.sleep(0.01)
        if db.is_sqlite:
            session.commit()  # nothing written yet: only ends the read snapshot

    monkeypatch.setattr(places_module, "_between_check_and_write", check_then_write_later)

    def one(n: int) -> str:
        with deferred(db) as session:
            try:
                VolunteerService(session, lock=False).sign_up_with_ticket(
                    session.get(Shift, shift.id), session.get(Registration, tickets[n].id)
                )
            except Conflict as refused:
                return refused.code or ""
            return "confirmed"

    results = race(PEOPLE, one)
    signed = confirmed_signups(db, shift)
    print(
        f"negative control on {db.engine.dialect.name}: {len(signed)} confirmed for "
        f"{NEEDED} spots, errors={sum(isinstance(r, BaseException) for r in results)}"
    )
    assert len(signed) > NEEDED  # overfilled: without the lock the guarantee is gone
