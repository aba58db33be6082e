"""Personal data of proposers and followers: the export, "delete my data", the
anonymisation of ended calls and the deletion of unconfirmed proposals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.errors import NotFound
from events.models import (
    AddressConfirmation,
    CallAllowance,
    Follow,
    ModerationReport,
    Proposal,
    ProposalCall,
    ProposalPerson,
    ProposalSupport,
)
from events.services import follows, proposal_privacy
from events.services.proposal_records import (
    person_by_private_token,
    private_path,
    proposal_subject,
)
from events.services.proposals import ProposalService
from events.services.supports import SupportService
from tests.factories import Factories
from tests.proposal_scenario import load, open_call, propose, proposer_row, proven, published


def test_the_export_holds_everything_about_the_address(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    mine = published(db, call, 1, email="me@example.org")
    other = published(db, call, 2)
    me = proven(db, call.community_id, "me@example.org")
    with db.transaction() as session:
        SupportService(session).support(session.get(Proposal, other.id), me)
        follows.follow(session, proposal_subject(load(db, other)), me, locale="fr")
        ProposalService(session).post_update(
            session.get(ProposalPerson, proposer_row(db, mine).id), "We found a room"
        )
    with db.session() as session:
        data = proposal_privacy.export(
            session, session.get(ProposalPerson, proposer_row(db, mine).id)
        )
    assert data["email"] == "me@example.org"
    assert [p["title"] for p in data["proposals"]] == ["Proposal number 1"]
    assert data["proposals"][0]["you"]["name"] == "Proposer 1"
    assert data["proposals"][0]["updates"][0]["text"] == "We found a room"
    assert data["supports"] == [
        {"title": "Proposal number 2", "address": data["supports"][0]["address"]}
    ]
    assert data["follows"][0]["kind"] == "proposal"


def test_deleting_my_data_withdraws_and_erases(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    mine = published(db, call, 1, email="me@example.org")
    other = published(db, call, 2)
    me = proven(db, call.community_id, "me@example.org")
    with db.transaction() as session:
        SupportService(session).support(session.get(Proposal, other.id), me)
        follows.follow(session, proposal_subject(load(db, other)), me, locale="en")
        path = private_path(
            session, session.get(ProposalPerson, proposer_row(db, mine).id), call.community_id
        )
    with db.transaction() as session:
        proposal_privacy.erase(session, session.get(ProposalPerson, proposer_row(db, mine).id))
    assert load(db, mine).status == "withdrawn" and load(db, other).supports == 0
    with db.session() as session:
        person = session.get(ProposalPerson, proposer_row(db, mine).id)
        assert person.email.endswith("@anonymised.invalid") and person.name == ""
        assert session.scalar(select(func.count()).select_from(Follow)) == 0
        assert ProposalService(session).named_people(load(db, mine)) == []
        # The private link still opens the (anonymous) row: it holds nothing any more.
        assert person_by_private_token(session, path.removeprefix("/p/")).email == person.email


def test_ended_calls_are_anonymised_after_the_retention(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    fan = proven(db, call.community_id, "fan@example.org")
    with db.transaction() as session:
        SupportService(session).support(session.get(Proposal, proposal.id), fan)
        follows.follow(session, proposal_subject(load(db, proposal)), fan, locale="en")
        ProposalService(session).report(session.get(Proposal, proposal.id), fan, "spam")
    now = utcnow()
    with db.transaction() as session:  # still open: nothing is touched
        assert proposal_privacy.anonymise_past(session, now=now, after_days=90) == 0
    with db.transaction() as session:
        ended = session.get(ProposalCall, call.id)
        ended.closes_at = ended.supports_close_at = now - timedelta(days=91)
        ended.opens_at = ended.supports_open_at = now - timedelta(days=120)
    with db.transaction() as session:
        assert proposal_privacy.anonymise_past(session, now=now, after_days=90) == 1
    with db.transaction() as session:
        assert proposal_privacy.anonymise_past(session, now=now, after_days=90) == 0
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Follow)) == 0
        for model in (ProposalSupport, CallAllowance, ModerationReport):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
        assert proposal_privacy.count_personal(session, call.community_id) == {
            "people": 0,
            "follows": 0,
        }
    # What was proposed, its count and its trail stay.
    kept = load(db, proposal)
    assert kept.title == "Proposal number 1" and kept.supports == 1


def test_unconfirmed_proposals_go_once_their_link_expired(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    propose(db, call, 1)
    with db.transaction() as session:
        assert proposal_privacy.forget_unconfirmed(session, now=utcnow()) == 0
    with db.transaction() as session:
        gone = proposal_privacy.forget_unconfirmed(session, now=utcnow() + timedelta(days=4))
        assert gone == 1
        proposal_privacy.anonymise_past(session, now=utcnow() + timedelta(days=4), after_days=90)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Proposal)) == 0
        assert session.scalar(select(func.count()).select_from(AddressConfirmation)) == 0


def test_a_private_link_of_another_purpose_or_forged_is_not_found(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    with db.session() as session:
        person = session.get(ProposalPerson, proposer_row(db, proposal).id)
        token = private_path(session, person, call.community_id).removeprefix("/p/")
        assert person_by_private_token(session, token).id == person.id
        for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:32], "", "x" * 300):
            with pytest.raises(NotFound):
                person_by_private_token(session, forged)
