"""Every state transition of a proposal, from every status, through the use cases (both
databases): the organisers' three answers, the proposer's withdrawal, edit and update, and
a support. Each allowed move changes the status, leaves its line in the trail and mails
the proposer; each refused one raises its code and changes nothing.

The expected tables below are written out by hand from the issue and docs/proposals.md
(not read from events/proposal_lifecycle.py), so a wrong rule there fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from events.database import Database
from events.errors import Conflict
from events.models import OutboxMessage, Proposal, ProposalPerson, ProposalStatus
from events.services import proposal_merges
from events.services.proposals import ProposalService
from events.services.supports import SupportService
from tests.factories import Factories
from tests.proposal_scenario import (
    load,
    open_call,
    proposal_input,
    propose,
    proposer_row,
    proven,
    published,
)

P = ProposalStatus
STATUSES = [s.value for s in P]
ANSWERS = ["under_discussion", "accepted", "declined"]

#: (from, to) moves an organiser's answer may make; the same answer again is allowed too
#: (a new reason), except from a status that is not an answer.
ANSWER_ALLOWED = {
    ("published", "under_discussion"),
    ("published", "accepted"),
    ("published", "declined"),
    ("under_discussion", "under_discussion"),
    ("under_discussion", "accepted"),
    ("under_discussion", "declined"),
    ("accepted", "under_discussion"),
    ("accepted", "accepted"),
    ("accepted", "declined"),
    ("declined", "under_discussion"),
    ("declined", "accepted"),
    ("declined", "declined"),
}
#: The proposer withdraws until it is answered no, merged (or already withdrawn: no-op).
WITHDRAWABLE = {"published", "under_discussion", "accepted"}
#: The proposer edits until the organisers answer.
EDITABLE = {"published", "under_discussion"}
#: Supports go to proposals still open to discussion.
SUPPORTABLE = {"published", "under_discussion"}
#: News while the proposal is alive.
UPDATABLE = {"published", "under_discussion", "accepted"}

REASONS = {"declined": "no_room"}


def reach(db: Database, call: Any, status: str, n: str) -> Proposal:
    """A proposal of ``call`` in ``status``, reached through the use cases."""
    if status == "submitted":
        result = propose(db, call, n)  # a typed address, not confirmed
        assert result.proposal is not None
        return result.proposal
    proposal = published(db, call, n)
    if status in ("under_discussion", "accepted", "declined"):
        with db.transaction() as session:
            ProposalService(session).answer(
                load(db, proposal), status, REASONS.get(status, ""), publish=True
            )
    elif status == "withdrawn":
        with db.transaction() as session:
            ProposalService(session).withdraw(
                session.get(ProposalPerson, proposer_row(db, proposal).id)
            )
    elif status == "merged":
        into = published(db, call, f"{n}-into")
        with db.transaction() as session:
            merge = proposal_merges.request(
                session, load(db, proposal), load(db, into), actor_id=None
            )
        for side in (proposal, into):
            with db.transaction() as session:
                proposal_merges.agree(
                    session, session.get(ProposalPerson, proposer_row(db, side).id), merge.id
                )
    assert load(db, proposal).status == status
    return proposal


def trail(db: Database, proposal: Proposal) -> list[tuple[str, str, str]]:
    with db.session() as session:
        return [
            (row.action, row.from_status, row.to_status)
            for row in ProposalService(session).trail(load(db, proposal), everything=True)
        ]


def mails(db: Database, address: str, kind: str) -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    OutboxMessage.to_address == address, OutboxMessage.kind == kind
                )
            )
            or 0
        )


@pytest.mark.parametrize("start", STATUSES)
def test_every_organiser_answer_from_every_status(
    db: Database, make: Factories, start: str
) -> None:
    call = open_call(db, make, proposals_per_person="10")
    for to in ANSWERS:
        proposal = reach(db, call, start, f"{start}-{to}")
        email = f"proposer{start}-{to}@example.org"
        before_trail, before_mails = trail(db, proposal), mails(db, email, "proposal_status")
        allowed = (start, to) in ANSWER_ALLOWED
        if allowed:
            with db.transaction() as session:
                ProposalService(session).answer(
                    load(db, proposal), to, REASONS.get(to, ""), "Our words.", publish=True
                )
            after = load(db, proposal)
            assert (after.status, after.answer_note) == (to, "Our words."), (start, to)
            assert trail(db, proposal)[len(before_trail) :] == [("answered", start, to)]
            assert mails(db, email, "proposal_status") == before_mails + 1, (start, to)
        else:
            with db.transaction() as session, pytest.raises(Conflict) as refused:
                ProposalService(session).answer(
                    load(db, proposal), to, REASONS.get(to, ""), "Our words.", publish=True
                )
            assert refused.value.code == "answer_not_allowed", (start, to)
            assert load(db, proposal).status == start
            assert trail(db, proposal) == before_trail
            assert mails(db, email, "proposal_status") == before_mails


@pytest.mark.parametrize("start", STATUSES)
def test_what_the_proposer_and_supporters_may_do_in_every_status(
    db: Database, make: Factories, start: str
) -> None:
    call = open_call(db, make, proposals_per_person="10")

    # Withdraw.
    proposal = reach(db, call, start, f"{start}-w")
    before = trail(db, proposal)
    if start in WITHDRAWABLE:
        with db.transaction() as session:
            ProposalService(session).withdraw(
                session.get(ProposalPerson, proposer_row(db, proposal).id)
            )
        assert load(db, proposal).status == "withdrawn"
        assert trail(db, proposal)[len(before) :] == [("withdrawn", start, "withdrawn")]
    elif start == "withdrawn":  # again: nothing changes, nothing is logged
        with db.transaction() as session:
            ProposalService(session).withdraw(
                session.get(ProposalPerson, proposer_row(db, proposal).id)
            )
        assert trail(db, proposal) == before
    else:
        with db.transaction() as session, pytest.raises(Conflict) as refused:
            ProposalService(session).withdraw(
                session.get(ProposalPerson, proposer_row(db, proposal).id)
            )
        assert refused.value.code in {"proposal_not_withdrawable", "not_proposer"}, start
        assert load(db, proposal).status == start and trail(db, proposal) == before

    # Edit.
    proposal = reach(db, call, start, f"{start}-e")
    data = proposal_input(f"{start}-e", title="A better title")
    if start in EDITABLE:
        with db.transaction() as session:
            ProposalService(session).edit(
                session.get(ProposalPerson, proposer_row(db, proposal).id), data
            )
        assert load(db, proposal).title == "A better title"
        assert trail(db, proposal)[-1][0] == "edited"
    else:
        with db.transaction() as session, pytest.raises(Conflict):
            ProposalService(session).edit(
                session.get(ProposalPerson, proposer_row(db, proposal).id), data
            )
        assert load(db, proposal).title != "A better title"

    # Post news.
    proposal = reach(db, call, start, f"{start}-u")
    if start in UPDATABLE:
        with db.transaction() as session:
            ProposalService(session).post_update(
                session.get(ProposalPerson, proposer_row(db, proposal).id), "We found a room."
            )
        assert trail(db, proposal)[-1][0] == "update_posted"
    else:
        with db.transaction() as session, pytest.raises(Conflict):
            ProposalService(session).post_update(
                session.get(ProposalPerson, proposer_row(db, proposal).id), "We found a room."
            )
        with db.session() as session:
            assert ProposalService(session).updates(load(db, proposal)) == []

    # Support.
    proposal = reach(db, call, start, f"{start}-s")
    fan = proven(db, call.community_id, f"fan-{start}@example.org")
    if start in SUPPORTABLE:
        with db.transaction() as session:
            SupportService(session).support(session.get(Proposal, proposal.id), fan)
        assert load(db, proposal).supports == 1
    else:
        with db.transaction() as session, pytest.raises(Conflict) as refused:
            SupportService(session).support(session.get(Proposal, proposal.id), fan)
        assert refused.value.code == "proposal_not_supportable", start
        assert load(db, proposal).supports == 0


def test_a_proposal_on_a_programme_is_no_longer_withdrawn_by_its_proposer(
    db: Database, make: Factories
) -> None:
    """Once accepted and made into an event, the organisers take it off, not the form."""
    from events.services import proposal_outcomes

    call = open_call(db, make)
    proposal = reach(db, call, "accepted", "b")
    with db.transaction() as session:
        loaded = session.get(Proposal, proposal.id)
        data = proposal_outcomes.event_input(loaded)
        data.starts_local, data.ends_local = "2031-05-01T19:00", "2031-05-01T22:00"
        proposal_outcomes.as_event(session, loaded, data, actor_id=None)
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        ProposalService(session).withdraw(
            session.get(ProposalPerson, proposer_row(db, proposal).id)
        )
    assert refused.value.code == "proposal_not_withdrawable"
    assert load(db, proposal).status == "accepted"
