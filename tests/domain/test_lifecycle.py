"""When registrations may change: every actor × action × phase of the event (before, during,
after), and the boundary convention of events/lifecycle.py.

After the end (or once someone of the party came in), nobody — registrant or organiser —
cancels, declines, resizes, approves, promotes or changes the capacity: the door's figures,
its log and the exports keep describing what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict
from events.lifecycle import Phase, has_started, is_over, phase, registration_closed_reason
from events.models import Event, Registration, RegistrationLog, RegistrationStatus
from events.services.door import DoorService, Verdict
from events.services.door_input import scan_input
from events.services.registrations import RegistrationService
from tests.domain.test_registrations import load_event, open_event, person, register
from tests.factories import Factories

S = RegistrationStatus
#: (start, end) of the event relative to now, per phase.
PHASES = {
    Phase.BEFORE: (timedelta(days=1), timedelta(days=1, hours=3)),
    Phase.DURING: (timedelta(hours=-1), timedelta(hours=2)),
    Phase.AFTER: (timedelta(hours=-4), timedelta(hours=-1)),
}


@dataclass(frozen=True)
class Party:
    """Capacity 2: ``a`` holds both places (1 + 1 guest), ``b`` waits, ``c`` awaits approval."""

    event: Event
    a: UUID
    b: UUID
    c: UUID


def party(db: Database, make: Factories) -> Party:
    event = open_event(db, make, capacity="2", waitlist_enabled=True, guest_allowance=2)
    a = register(db, event, person("a", guests="1")).registration
    b = register(db, event, person("b")).registration
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        loaded.requires_approval = True
    c = register(db, event, person("c")).registration
    assert (a.status, b.status, c.status) == (S.CONFIRMED, S.WAITLISTED, S.PENDING_APPROVAL)
    return Party(event, a.id, b.id, c.id)


def move_to(db: Database, event: Event, when: Phase) -> None:
    start, end = PHASES[when]
    now = utcnow()
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        loaded.starts_at, loaded.ends_at = now + start, now + end


Action = Callable[[RegistrationService, Any], Any]


def call(db: Database, actor: UUID | None, action: Action, p: Party) -> Any:
    with db.transaction() as session:
        return action(RegistrationService(session, actor_id=actor), (session, p))


def _registration(session: Any, registration_id: UUID) -> Registration:
    found = session.get(Registration, registration_id)
    assert found is not None
    return found


# Each action: what it does, and what it changes when it is allowed (checked below).
ACTIONS: dict[str, Action] = {
    "cancel": lambda s, sp: s.cancel(_registration(sp[0], sp[1].a)),
    "decline": lambda s, sp: s.decline(_registration(sp[0], sp[1].a)),
    "fewer_guests": lambda s, sp: s.change_guests(_registration(sp[0], sp[1].a), "0"),
    "more_guests_for_waiting": lambda s, sp: s.change_guests(_registration(sp[0], sp[1].b), "1"),
    "approve": lambda s, sp: s.approve(_registration(sp[0], sp[1].c)),
    "promote": lambda s, sp: s.promote(_registration(sp[0], sp[1].b)),
    "raise_capacity": lambda s, sp: s.set_capacity(sp[0].get(Event, sp[1].event.id), "3"),
}
#: The ``Conflict`` code an allowed action still gives (promote: no free place, by design).
ALLOWED_CONFLICT = {"promote": "not_enough_free_places"}
#: What an allowed action leaves: statuses of a, b, c and the event's ``taken``.
ALLOWED_RESULT = {
    "cancel": ((S.CANCELLED, S.CONFIRMED, S.PENDING_APPROVAL), 1),
    "decline": ((S.DECLINED, S.CONFIRMED, S.PENDING_APPROVAL), 1),
    "fewer_guests": ((S.CONFIRMED, S.CONFIRMED, S.PENDING_APPROVAL), 2),
    "more_guests_for_waiting": ((S.CONFIRMED, S.WAITLISTED, S.PENDING_APPROVAL), 2),
    "approve": ((S.CONFIRMED, S.WAITLISTED, S.WAITLISTED), 2),
    "promote": ((S.CONFIRMED, S.WAITLISTED, S.PENDING_APPROVAL), 2),
    "raise_capacity": ((S.CONFIRMED, S.CONFIRMED, S.PENDING_APPROVAL), 3),
}
REFUSAL_AFTER = {"raise_capacity": "event_over"}


def state(db: Database, p: Party) -> tuple[tuple[S, S, S], int, int]:
    """Statuses of a, b, c, the event's ``taken``, and how many log rows there are."""
    with db.session() as session:
        statuses = tuple(_registration(session, i).status for i in (p.a, p.b, p.c))
        logged = session.scalar(
            select(func.count())
            .select_from(RegistrationLog)
            .where(RegistrationLog.event_id == p.event.id)
        )
    a, b, c = statuses
    return (a, b, c), load_event(db, p.event).taken, int(logged or 0)


@pytest.mark.parametrize("actor", ["registrant", "organiser"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("when", list(Phase))
def test_every_actor_action_and_phase(
    db: Database, make: Factories, actor: str, action: str, when: Phase
) -> None:
    p = party(db, make)
    actor_id = make.user().id if actor == "organiser" else None
    move_to(db, p.event, when)
    before = state(db, p)
    if when is Phase.AFTER:
        with pytest.raises(Conflict) as refused:
            call(db, actor_id, ACTIONS[action], p)
        assert refused.value.code == REFUSAL_AFTER.get(action, "registration_closed")
        assert state(db, p) == before  # nothing changed, nothing logged
        return
    if action in ALLOWED_CONFLICT:
        with pytest.raises(Conflict) as refused:
            call(db, actor_id, ACTIONS[action], p)
        assert refused.value.code == ALLOWED_CONFLICT[action]
    else:
        call(db, actor_id, ACTIONS[action], p)
    statuses, taken, _logged = state(db, p)
    assert (statuses, taken) == ALLOWED_RESULT[action]


@pytest.mark.parametrize("action", ["cancel", "decline", "fewer_guests"])
def test_a_party_someone_of_which_came_in_cannot_change(
    db: Database, make: Factories, action: str
) -> None:
    """During the evening: once the door let someone of the party in, its registration is
    what the door's figures count, for the registrant and for organisers alike."""
    p = party(db, make)
    move_to(db, p.event, Phase.DURING)
    with db.transaction() as session:
        ticket = _registration(session, p.a).ticket_code
        scan = scan_input({"scanned": ticket, "nonce": "came-in-1", "people": 1}, now=utcnow())
        result = DoorService(session).check_in(session.get(Event, p.event.id), scan)
    assert result.verdict is Verdict.ADMITTED
    before = state(db, p)
    with pytest.raises(Conflict) as refused:
        call(db, make.user().id, ACTIONS[action], p)
    assert refused.value.code == "already_checked_in"
    assert state(db, p) == before


def test_erasing_after_the_end_keeps_the_figures(db: Database, make: Factories) -> None:
    p = party(db, make)
    move_to(db, p.event, Phase.AFTER)
    with db.transaction() as session:
        RegistrationService(session).erase(_registration(session, p.a))
    statuses, taken, _ = state(db, p)
    assert statuses[0] is S.CONFIRMED and taken == 2  # anonymous, still counted


def test_erasing_before_the_end_cancels_and_promotes(db: Database, make: Factories) -> None:
    p = party(db, make)
    with db.transaction() as session:
        promoted = RegistrationService(session).erase(_registration(session, p.a))
    assert [r.id for r in promoted] == [p.b]
    statuses, taken, _ = state(db, p)
    assert statuses[:2] == (S.CANCELLED, S.CONFIRMED) and taken == 1


def test_nobody_registers_once_it_is_over(db: Database, make: Factories) -> None:
    p = party(db, make)
    move_to(db, p.event, Phase.AFTER)
    with pytest.raises(Conflict) as refused:
        register(db, p.event, person("late"))
    assert refused.value.code == "registration_closed"


def test_the_boundaries_belong_to_the_later_phase(db: Database, make: Factories) -> None:
    event = load_event(db, open_event(db, make))
    assert phase(event, event.starts_at - timedelta(microseconds=1)) is Phase.BEFORE
    assert has_started(event, event.starts_at) and phase(event, event.starts_at) is Phase.DURING
    assert not is_over(event, event.ends_at - timedelta(microseconds=1))
    assert is_over(event, event.ends_at) and phase(event, event.ends_at) is Phase.AFTER
    assert registration_closed_reason(event, event.ends_at) == "over"
    assert registration_closed_reason(event, event.ends_at - timedelta(seconds=1)) is None
