"""Reports and moderation: distinct reporters, the automatic hiding threshold (also under
concurrency), decisions, the queue, and what proposal pages obey."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from events.database import Database
from events.errors import NotFound, ValidationFailed
from events.models import Community, ModerationCase, ModerationReport, OutboxMessage, Proposal
from events.services import moderation, moderation_decisions
from events.services.proposal_listing import ProposalListing
from events.services.proposal_records import PROPOSAL, proposal_subject
from events.services.proposals import ProposalService
from tests.factories import Factories
from tests.proposal_scenario import load, open_call, proven, published


def report(db: Database, proposal: Proposal, email: str, reason: str = "spam") -> bool:
    person = proven(db, proposal.community_id, email)
    with db.transaction() as session:
        found = session.get(Proposal, proposal.id)
        return ProposalService(session).report(found, person, reason).hid_it


def hidden(db: Database, proposal: Proposal) -> bool:
    with db.session() as session:
        return moderation.is_hidden(session, PROPOSAL, proposal.id)


def test_three_distinct_people_hide_a_proposal(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    assert not report(db, proposal, "a@example.org")
    assert not report(db, proposal, "a@example.org")  # the same person again: once
    assert not report(db, proposal, "b@example.org", "offensive")
    assert not hidden(db, proposal)
    assert report(db, proposal, "c@example.org")
    assert hidden(db, proposal)
    with pytest.raises(NotFound):  # hidden: not there to report any more
        report(db, proposal, "d@example.org")
    with db.session() as session:
        case = moderation.case_of(session, PROPOSAL, proposal.id)
        assert case is not None and case.reports == 3 and case.hidden_by == "reports"
        assert moderation.reasons_of(session, case) == {"spam": 2, "offensive": 1}
        page = ProposalListing(session).page_of(load(db, proposal).call, seed="x")
        assert page.total == 0
        with pytest.raises(NotFound):
            ProposalService(session).visible(load(db, proposal).call, 1)
        # The proposer was told, once.
        told = session.scalar(
            select(func.count()).where(
                OutboxMessage.kind == "moderation",
                OutboxMessage.to_address == "proposer1@example.org",
            )
        )
        assert told == 1


def test_an_unknown_reason_is_refused(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    with pytest.raises(ValidationFailed) as failed:
        report(db, proposal, "a@example.org", "boring")
    assert failed.value.errors == {"reason": "invalid_choice"}


def test_simultaneous_reports_count_each_person_once_and_hide_once(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    people = [f"r{n % 5}@example.org" for n in range(20)]  # 5 people, 4 times each

    def one(n: int) -> bool | str:
        try:
            return report(db, proposal, people[n])
        except NotFound:  # hidden meanwhile
            return "gone"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, range(20)))
    assert results.count(True) == 1  # hidden exactly once
    with db.session() as session:
        case = session.scalar(select(ModerationCase))
        rows = session.scalar(select(func.count()).select_from(ModerationReport))
        keys = session.scalar(select(func.count(func.distinct(ModerationReport.reporter_key))))
    assert case is not None and case.hidden
    assert 3 <= case.reports == rows == keys <= 5  # each person counted once


def test_an_organiser_restores_and_reports_no_longer_hide_it(db: Database, make: Factories) -> None:
    owner = make.user()
    community = make.community(owner=owner)
    call = open_call(db, make, community)
    proposal = published(db, call, 1)
    for n in range(3):
        report(db, proposal, f"r{n}@example.org")
    with db.session() as session:
        case = moderation.case_of(session, PROPOSAL, proposal.id)
        assert case is not None
        assert [c.id for c in moderation.queue(session, session.get(Community, community.id))] == [
            case.id
        ]
    with db.transaction() as session, pytest.raises(ValidationFailed):
        moderation_decisions.decide(
            session, session.get(Community, community.id), case.id, hide=False, reason="",
            actor_id=owner.id,
        )  # fmt: skip
    with db.transaction() as session:
        moderation_decisions.decide(
            session,
            session.get(Community, community.id),
            case.id,
            hide=False,
            reason="It is a real repair café.",
            actor_id=owner.id,
        )
    assert not hidden(db, proposal)
    for n in range(3, 7):
        report(db, proposal, f"r{n}@example.org")
    assert not hidden(db, proposal)  # the decision stands
    with db.session() as session:
        # ... but the new reports bring it back to the queue.
        assert len(moderation.queue(session, session.get(Community, community.id))) == 1
        told = list(
            session.scalars(
                select(OutboxMessage.render_spec).where(OutboxMessage.kind == "moderation")
            )
        )
    assert [spec["context"]["action"] for spec in told] == ["hidden_by_reports", "restored"]


def test_a_case_of_another_community_is_not_found(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    report(db, proposal, "a@example.org")
    other = make.community()
    with db.session() as session:
        case = moderation.case_of(session, PROPOSAL, proposal.id)
        assert case is not None
    with db.transaction() as session, pytest.raises(NotFound):
        moderation.in_community(session, session.get(Community, other.id), case.id)


def test_reporting_a_hidden_or_unpublished_proposal_is_not_found(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    with db.transaction() as session:
        moderation.hide(session, proposal_subject(load(db, proposal)), reason="spam", actor_id=None)
    with pytest.raises(NotFound):
        report(db, proposal, "late@example.org")
