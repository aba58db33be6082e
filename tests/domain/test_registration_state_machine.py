"""A property-based state machine over one event: register, cancel, resize, approve,
decline and change guests in any order keep the registration invariants."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from events.database import Database
from events.errors import Conflict, ValidationFailed
from events.models import Event, Registration, RegistrationStatus
from events.services.events import EventInput, EventService
from events.services.registrations import Outcome, RegistrationService
from tests.domain.test_registrations import person
from tests.factories import Factories

S = RegistrationStatus
PEOPLE = 8  # a small pool of addresses, so the same people come back
#: Mostly small capacities (so the waitlist fills), sometimes unlimited (None).
CAPACITIES = st.integers(-1, 5).map(lambda n: None if n < 0 else n)
GUESTS = 2


@pytest.mark.slow  # a long property-based run: it starts first
def test_registrations_keep_their_invariants(db: Database, make: Factories) -> None:
    community = make.community()

    class Registrations(RuleBasedStateMachine):
        #: Addresses that registered at least once: the other rules act on them.
        people = Bundle("people")

        def __init__(self) -> None:
            super().__init__()
            self.event_id: UUID | None = None
            self.waitlist_enabled = True
            #: Waitlist positions in the order they were handed out.
            self.positions: list[int] = []
            self.position_of: dict[UUID, int] = {}

        # -- helpers ---------------------------------------------------------------------
        def find(self, session: Any, who: int, *statuses: S) -> Registration | None:
            query = select(Registration).where(
                Registration.event_id == self.event_id,
                Registration.email == f"person{who}@example.org",
            )
            if statuses:
                query = query.where(Registration.status.in_(statuses))
            return session.scalars(query.order_by(Registration.created_at.desc())).first()

        def check_promoted(self, promoted: list[Registration]) -> None:
            positions = [r.waitlist_position for r in promoted]
            assert all(p is not None for p in positions)
            assert positions == sorted(positions)  # in order of arrival on the waitlist
            assert all(r.status is S.CONFIRMED for r in promoted)

        # -- rules -----------------------------------------------------------------------
        @initialize(
            capacity=CAPACITIES,
            approval=st.sampled_from([False, False, True]),
            waitlist=st.sampled_from([True, True, True, False]),
        )
        def create_event(self, capacity: int | None, approval: bool, waitlist: bool) -> None:
            with db.transaction() as session:
                service = EventService(session)
                event = service.create(
                    community,
                    EventInput(
                        title="Pitch night",
                        starts_local="2027-06-01T19:00",
                        ends_local="2027-06-01T22:00",
                        capacity="" if capacity is None else str(capacity),
                    ),
                )
                service.publish(event)
                event.requires_approval = approval
                event.waitlist_enabled = waitlist
                event.guest_allowance = GUESTS
                self.event_id = event.id
            self.waitlist_enabled = waitlist

        @rule(target=people, who=st.integers(0, PEOPLE - 1), guests=st.integers(0, GUESTS))
        def register(self, who: int, guests: int) -> int:
            return self._register(who, guests)

        @rule(target=people, who=st.integers(0, PEOPLE - 1))
        def register_alone(self, who: int) -> int:
            # A second registering rule, so that about a third of the steps register.
            return self._register(who, 0)

        def _register(self, who: int, guests: int) -> int:
            try:
                with db.transaction() as session:
                    event = session.get(Event, self.event_id)
                    result = RegistrationService(session).register(
                        event, person(who, guests=str(guests))
                    )
            except Conflict as refused:
                assert refused.code == "event_full" and not self.waitlist_enabled
                return who
            if result.outcome is Outcome.DUPLICATE_RESENT:
                assert result.registration.status.is_active
            else:
                assert result.registration.status.value == result.outcome.value
            return who

        @rule(who=people)
        def cancel(self, who: int) -> None:
            with db.transaction() as session:
                registration = self.find(session, who)  # may be cancelled already: idempotent
                if registration is None:
                    return
                was_active = registration.status.is_active
                promoted = RegistrationService(session).cancel(registration)
                assert registration.status is S.CANCELLED or not was_active
                self.check_promoted(promoted)

        @rule(capacity=CAPACITIES)
        def resize(self, capacity: int | None) -> None:
            try:
                with db.transaction() as session:
                    event = session.get(Event, self.event_id)
                    taken = event.taken
                    promoted = RegistrationService(session).set_capacity(event, capacity)
                    self.check_promoted(promoted)
            except ValidationFailed as failed:
                assert failed.errors == {"capacity": "below_confirmed"}
                assert capacity is not None and capacity < taken

        @rule(who=people)
        def approve(self, who: int) -> None:
            try:
                with db.transaction() as session:
                    registration = self.find(session, who, S.PENDING_APPROVAL)
                    if registration is None:
                        return
                    approved = RegistrationService(session).approve(registration)
                    assert approved.status in {S.CONFIRMED, S.WAITLISTED}
            except Conflict as refused:
                assert refused.code == "event_full" and not self.waitlist_enabled

        @rule(who=people)
        def decline(self, who: int) -> None:
            with db.transaction() as session:
                registration = self.find(session, who)
                if registration is None:
                    return
                was_active = registration.status.is_active
                promoted = RegistrationService(session).decline(registration)
                assert registration.status is S.DECLINED or not was_active
                self.check_promoted(promoted)

        @rule(who=people, guests=st.integers(0, GUESTS))
        def change_guests(self, who: int, guests: int) -> None:
            try:
                with db.transaction() as session:
                    active = [S.CONFIRMED, S.WAITLISTED, S.PENDING_APPROVAL]
                    registration = self.find(session, who, *active)
                    if registration is None:
                        return
                    before = (registration.status, registration.guests)
                    promoted = RegistrationService(session).change_guests(registration, guests)
                    self.check_promoted(promoted)
            except ValidationFailed as failed:
                assert failed.errors == {"guests": "not_enough_places"}
                assert before[0] is S.CONFIRMED and guests > before[1]

        # -- invariants ------------------------------------------------------------------
        @invariant()
        def invariants_hold(self) -> None:
            if self.event_id is None:
                return
            with db.session() as session:
                event = session.get(Event, self.event_id)
                assert event is not None
                rows = list(
                    session.scalars(
                        select(Registration).where(Registration.event_id == self.event_id)
                    )
                )
                counts = RegistrationService(session).counts(event)
            confirmed = [r for r in rows if r.status is S.CONFIRMED]
            waiting = [r for r in rows if r.status is S.WAITLISTED]
            # Never oversold, and the counter matches the rows.
            people = sum(r.people for r in confirmed)
            assert people == event.taken
            assert event.capacity is None or event.taken <= event.capacity
            # Nobody in two states: one active registration per address.
            active = Counter(r.email for r in rows if r.status.is_active)
            assert all(n == 1 for n in active.values())
            # Tickets: every confirmed party has one, all distinct.
            codes = [r.ticket_code for r in confirmed]
            assert None not in codes and len(set(codes)) == len(codes)
            # Waitlist positions: handed out in strictly increasing order, never changed.
            for registration in sorted(
                (r for r in rows if r.waitlist_position is not None),
                key=lambda r: r.waitlist_position or 0,
            ):
                known = self.position_of.get(registration.id)
                if known is None:
                    assert not self.positions or registration.waitlist_position > max(
                        self.positions
                    )
                    self.positions.append(registration.waitlist_position)
                    self.position_of[registration.id] = registration.waitlist_position
                else:
                    assert known == registration.waitlist_position
            assert self.positions == sorted(set(self.positions))
            # Promotion is complete: no waiting party fits in the free places.
            free = None if event.capacity is None else event.capacity - event.taken
            assert all(free is not None and r.people > free for r in waiting)
            # The organiser's counts agree with the rows.
            assert counts["confirmed"] == people
            assert counts["registrations"] == len(confirmed)
            assert counts["guests"] == sum(r.guests for r in confirmed)
            assert counts["waitlist"] == len(waiting)
            assert counts["pending_approval"] == sum(r.status is S.PENDING_APPROVAL for r in rows)
            assert counts["cancelled"] == sum(r.status is S.CANCELLED for r in rows)
            assert counts["declined"] == sum(r.status is S.DECLINED for r in rows)
            assert sum(counts[k] for k in ("registrations", "waitlist", "pending")) + counts[
                "cancelled"
            ] + counts["declined"] == len(rows)

    run_state_machine_as_test(
        Registrations,
        settings=settings(
            max_examples=50,
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
