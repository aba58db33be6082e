"""Supports: who may support, the budget, the window, withdrawing, the threshold, and a
ticket holder and the same address being one person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, NotFound
from events.models import (
    Event,
    Proposal,
    ProposalLog,
    ProposalPerson,
    ProposalSupport,
    Registration,
)
from events.services import identity
from events.services.identity import Person
from events.services.proposals import ProposalService
from events.services.registrations import RegistrationService
from events.services.supports import Supported, SupportService
from tests.domain.test_registrations import open_event, person, register
from tests.factories import Factories
from tests.proposal_scenario import load, local, open_call, proposer_row, proven, published


def support(db: Database, proposal: Proposal, who: Person) -> Supported:
    with db.transaction() as session:
        return SupportService(session).support(session.get(Proposal, proposal.id), who)


def withdraw(db: Database, proposal: Proposal, who: Person) -> Supported:
    with db.transaction() as session:
        return SupportService(session).withdraw(session.get(Proposal, proposal.id), who)


def support_rows(db: Database, proposal: Proposal) -> int:
    with db.session() as session:
        return session.scalar(
            select(func.count()).where(ProposalSupport.proposal_id == proposal.id)
        )


def test_one_support_per_person_and_proposal(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    ada = proven(db, call.community_id, "ada@example.org")
    first = support(db, proposal, ada)
    again = support(db, proposal, ada)
    assert (first.counted, first.supports, first.remaining) == (True, 1, 4)
    assert (again.counted, again.supports, again.remaining) == (False, 1, 4)
    assert support_rows(db, proposal) == 1 and load(db, proposal).supports == 1


def test_only_the_keyed_hash_is_stored(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    support(db, proposal, proven(db, call.community_id, "secret.person@example.org"))
    with db.session() as session:
        key = session.scalar(select(ProposalSupport.supporter_key))
    assert key is not None and "secret" not in key and len(key) == 64
    other = make.community()
    # Another community's key for the same address differs: the lists cannot be linked.
    assert proven(db, other.id, "secret.person@example.org").key != key


def test_the_budget_is_enforced_and_given_back_on_withdrawal(db: Database, make: Factories) -> None:
    call = open_call(db, make, support_budget="2")
    proposals = [published(db, call, n) for n in range(1, 4)]
    ada = proven(db, call.community_id, "ada@example.org")
    assert support(db, proposals[0], ada).remaining == 1
    assert support(db, proposals[1], ada).remaining == 0
    with pytest.raises(Conflict) as refused:
        support(db, proposals[2], ada)
    assert refused.value.code == "budget_spent"
    assert support_rows(db, proposals[2]) == 0 and load(db, proposals[2]).supports == 0
    taken_back = withdraw(db, proposals[0], ada)
    assert (taken_back.counted, taken_back.supports, taken_back.remaining) == (True, 0, 1)
    assert support(db, proposals[2], ada).counted
    # Withdrawing what one never gave changes nothing.
    assert not withdraw(db, proposals[0], ada).counted


def test_nobody_supports_their_own_proposal(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1, email="me@example.org")
    with pytest.raises(Conflict) as refused:
        support(db, proposal, proven(db, call.community_id, "me@example.org"))
    assert refused.value.code == "own_proposal"


def test_supports_need_their_window(db: Database, make: Factories) -> None:
    now = utcnow()
    call = open_call(
        db,
        make,
        supports_open_local=local(now + timedelta(days=3)),
        supports_close_local=local(now + timedelta(days=40)),
    )
    proposal = published(db, call, 1)
    with pytest.raises(Conflict) as refused:
        support(db, proposal, proven(db, call.community_id, "ada@example.org"))
    assert refused.value.code == "supports_closed"


def test_only_published_and_discussed_proposals_take_supports(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    ada = proven(db, call.community_id, "ada@example.org")
    discussed, accepted = published(db, call, 1), published(db, call, 2)
    with db.transaction() as session:
        service = ProposalService(session)
        service.answer(load(db, discussed), "under_discussion", publish=True)
        service.answer(load(db, accepted), "accepted", publish=True)
    assert support(db, discussed, ada).counted
    with pytest.raises(Conflict) as refused:
        support(db, accepted, ada)
    assert refused.value.code == "proposal_not_supportable"


def test_withdrawing_a_proposal_gives_its_supporters_their_budget_back(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make, support_budget="1")
    one, two = published(db, call, 1), published(db, call, 2)
    ada = proven(db, call.community_id, "ada@example.org")
    support(db, one, ada)
    with db.transaction() as session:
        ProposalService(session).withdraw(session.get(ProposalPerson, proposer_row(db, one).id))
    assert support_rows(db, one) == 0 and load(db, one).supports == 0
    assert support(db, two, ada).counted


def test_the_threshold_is_reached_once_and_logged(db: Database, make: Factories) -> None:
    call = open_call(db, make, threshold="2")
    proposal = published(db, call, 1)
    people = [proven(db, call.community_id, f"p{n}@example.org") for n in range(3)]
    support(db, proposal, people[0])
    assert load(db, proposal).ready_at is None
    support(db, proposal, people[1])
    ready = load(db, proposal).ready_at
    assert ready is not None
    withdraw(db, proposal, people[1])
    support(db, proposal, people[1])
    support(db, proposal, people[2])
    assert load(db, proposal).ready_at == ready
    with db.session() as session:
        reached = session.scalar(
            select(func.count()).where(
                ProposalLog.proposal_id == proposal.id, ProposalLog.action == "threshold_reached"
            )
        )
    assert reached == 1


def _ticket_holder(db: Database, make: Factories, community_id: object, email: str) -> Registration:
    event = open_event(db, make)
    with db.transaction() as session:
        session.get(Event, event.id).community_id = community_id
    return register(db, event, person("t", email=email)).registration


def test_ticket_holders_only_when_the_call_says_so(db: Database, make: Factories) -> None:
    call = open_call(db, make, supporters="ticket_holders")
    proposal = published(db, call, 1)
    with pytest.raises(Conflict) as refused:
        support(db, proposal, proven(db, call.community_id, "no-ticket@example.org"))
    assert refused.value.code == "not_eligible_ticket"
    registration = _ticket_holder(db, make, call.community_id, "holder@example.org")
    with db.transaction() as session:
        holder = identity.person_of_registration(
            session, session.get(Registration, registration.id)
        )
    assert support(db, proposal, holder).counted


def test_a_ticket_and_its_confirmed_address_are_one_person(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    registration = _ticket_holder(db, make, call.community_id, "holder@example.org")
    with db.transaction() as session:
        holder = identity.person_of_registration(
            session, session.get(Registration, registration.id)
        )
    assert support(db, proposal, holder).counted
    assert not support(db, proposal, proven(db, call.community_id, "holder@example.org")).counted


def test_checked_in_people_only_when_the_call_says_so(db: Database, make: Factories) -> None:
    call = open_call(db, make, supporters="checked_in")
    proposal = published(db, call, 1)
    registration = _ticket_holder(db, make, call.community_id, "holder@example.org")
    with db.transaction() as session:
        holder = identity.person_of_registration(
            session, session.get(Registration, registration.id)
        )
    with pytest.raises(Conflict) as refused:
        support(db, proposal, holder)
    assert refused.value.code == "not_eligible_checked_in"
    with db.transaction() as session:  # let in at the door (events/services/door.py)
        session.get(Registration, registration.id).arrived = 1
    assert support(db, proposal, holder).counted


def test_a_cancelled_registration_proves_nothing(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    registration = _ticket_holder(db, make, call.community_id, "holder@example.org")
    with db.transaction() as session:
        RegistrationService(session).cancel(session.get(Registration, registration.id))
    with db.transaction() as session, pytest.raises(NotFound):
        identity.person_of_registration(session, session.get(Registration, registration.id))


def test_a_ticket_code_names_its_holder_in_its_own_community_only(
    db: Database, make: Factories
) -> None:
    """``person_of_ticket`` (the support form's "your ticket" field): the code or the
    ticket's URL gives the holder, the same person as their proven address; an unknown
    code, another community's ticket or a cancelled one proves nothing."""
    call = open_call(db, make)
    registration = _ticket_holder(db, make, call.community_id, "holder@example.org")
    elsewhere = _ticket_holder(db, make, make.community(name="Ailleurs").id, "x@example.org")
    code = str(registration.ticket_code)
    with db.transaction() as session:
        by_code = identity.person_of_ticket(session, call.community_id, code)
        by_url = identity.person_of_ticket(
            session, call.community_id, f"https://example.org/t/{code}"
        )
    assert by_code == by_url == proven(db, call.community_id, "holder@example.org")
    for unknown in ("", "not-a-ticket", str(elsewhere.ticket_code)):
        with db.transaction() as session, pytest.raises(NotFound):
            identity.person_of_ticket(session, call.community_id, unknown)
    with db.transaction() as session:
        RegistrationService(session).cancel(session.get(Registration, registration.id))
    with db.transaction() as session, pytest.raises(NotFound):
        identity.person_of_ticket(session, call.community_id, code)
