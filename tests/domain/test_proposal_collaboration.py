"""Joining forces and what proposals become: co-proposers (both sides consent), merges
(both proposers consent; supports, follows and people move), sessions and events made
from accepted proposals, and follows (once per person, each mailed once)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from events.database import Database
from events.errors import Conflict, Forbidden, NotFound, ValidationFailed
from events.models import (
    CallAllowance,
    Event,
    Follow,
    OutboxMessage,
    ProgrammeItem,
    Proposal,
    ProposalPerson,
    ProposalSupport,
)
from events.services import follows, identity, proposal_merges, proposal_outcomes
from events.services.co_proposers import CoProposerService
from events.services.events import EventInput
from events.services.identity import Person
from events.services.proposal_records import (
    call_subject,
    people_of,
    proposal_subject,
    proposer_of,
)
from events.services.proposals import ProposalService
from events.services.supports import SupportService
from tests.domain.test_registrations import open_event
from tests.factories import Factories
from tests.proposal_scenario import load, open_call, proposer_row, proven, published


def row(db: Database, email: str) -> ProposalPerson:
    with db.session() as session:
        found = session.scalar(select(ProposalPerson).where(ProposalPerson.email == email))
        assert found is not None
        return found


def follow(db: Database, proposal: Proposal, who: Person) -> None:
    with db.transaction() as session:
        follows.follow(session, proposal_subject(load(db, proposal)), who, locale="en")


def names(db: Database, proposal: Proposal) -> list[str]:
    with db.session() as session:
        return ProposalService(session).named_people(load(db, proposal))


# -- co-proposers --------------------------------------------------------------------
def test_an_invited_co_proposer_is_named_only_after_saying_yes(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1, co_proposers="co@example.org, co@example.org")
    assert names(db, proposal) == ["Proposer 1"]
    with db.transaction() as session:
        CoProposerService(session).respond(
            session.get(ProposalPerson, row(db, "co@example.org").id),
            accept=True,
            name="Co Author",
            named="on",
        )
    assert names(db, proposal) == ["Proposer 1", "Co Author"]
    with db.transaction() as session, pytest.raises(Conflict):
        CoProposerService(session).respond(
            session.get(ProposalPerson, row(db, "co@example.org").id), accept=False
        )
    with db.transaction() as session:
        CoProposerService(session).set_named(
            session.get(ProposalPerson, row(db, "co@example.org").id), named="", name="Co"
        )
    assert names(db, proposal) == ["Proposer 1"]


def test_a_request_to_join_needs_the_proposers_yes(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    asker = proven(db, call.community_id, "asker@example.org")
    with db.transaction() as session:
        service = CoProposerService(session)
        first = service.ask(
            load(db, proposal), asker, name="Asker", message="Hi", named="on", locale="en"
        )
        again = service.ask(
            load(db, proposal), asker, name="Asker", message="Hi", named="on", locale="en"
        )
        assert again.id == first.id
    assert names(db, proposal) == ["Proposer 1"]
    with db.transaction() as session, pytest.raises(Forbidden):
        CoProposerService(session).answer(
            session.get(ProposalPerson, first.id), first.id, accept=True
        )
    with db.transaction() as session:
        CoProposerService(session).answer(
            session.get(ProposalPerson, proposer_row(db, proposal).id), first.id, accept=True
        )
    assert names(db, proposal) == ["Proposer 1", "Asker"]
    with db.transaction() as session:
        CoProposerService(session).leave(session.get(ProposalPerson, first.id))
    assert names(db, proposal) == ["Proposer 1"]
    with db.transaction() as session, pytest.raises(Forbidden):
        CoProposerService(session).leave(session.get(ProposalPerson, proposer_row(db, proposal).id))


# -- merges --------------------------------------------------------------------------
def test_a_merge_needs_both_proposers_and_moves_supports_follows_and_people(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make, support_budget="2")
    source, into = published(db, call, 1), published(db, call, 2)
    both, only_source = (proven(db, call.community_id, e) for e in ("b@x.org", "s@x.org"))
    with db.transaction() as session:
        supports = SupportService(session)
        supports.support(session.get(Proposal, source.id), both)
        supports.support(session.get(Proposal, into.id), both)
        supports.support(session.get(Proposal, source.id), only_source)
    follow(db, source, both)
    follow(db, into, both)
    follow(db, source, only_source)
    with db.transaction() as session:
        merge = proposal_merges.request(
            session, load(db, source), load(db, into), actor_id=None, note="Same idea"
        )
    with db.transaction() as session, pytest.raises(Conflict):
        proposal_merges.request(session, load(db, source), load(db, into), actor_id=None)
    with db.transaction() as session:
        proposal_merges.agree(
            session, session.get(ProposalPerson, proposer_row(db, source).id), merge.id
        )
    assert load(db, source).status == "published"  # one yes is not enough
    with db.transaction() as session:
        proposal_merges.agree(
            session, session.get(ProposalPerson, proposer_row(db, into).id), merge.id
        )
    merged, kept = load(db, source), load(db, into)
    assert merged.status == "merged" and merged.merged_into_id == into.id
    assert (merged.supports, kept.supports) == (0, 2)
    with db.session() as session:
        keys = set(session.scalars(select(ProposalSupport.supporter_key)))
        assert keys == {both.key, only_source.key}
        # Who supported both got one unit back.
        used = session.scalar(
            select(CallAllowance.supports_used).where(CallAllowance.person_key == both.key)
        )
        assert used == 1
        assert session.scalar(select(func.count()).select_from(Follow)) == 2
        assert all(f.subject_id == into.id for f in session.scalars(select(Follow)))
        kept_people = people_of(session, kept)
        assert {p.email for p in kept_people} == {"proposer1@example.org", "proposer2@example.org"}
        assert [e.action for e in ProposalService(session).trail(merged)][-1] == "merged"
        assert [e.action for e in ProposalService(session).trail(kept)][-1] == "absorbed"
    assert names(db, into) == ["Proposer 2", "Proposer 1"]


def test_one_refusal_drops_the_merge(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    source, into = published(db, call, 1), published(db, call, 2)
    with db.transaction() as session:
        merge = proposal_merges.request(session, load(db, source), load(db, into), actor_id=None)
    with db.transaction() as session:
        proposal_merges.refuse(
            session, session.get(ProposalPerson, proposer_row(db, into).id), merge.id
        )
    with db.transaction() as session, pytest.raises(Conflict):
        proposal_merges.agree(
            session, session.get(ProposalPerson, proposer_row(db, source).id), merge.id
        )
    assert load(db, source).status == "published"


def test_merges_need_two_live_proposals_of_one_call(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    other_call = open_call(db, make)
    one, two, elsewhere = (
        published(db, call, 1),
        published(db, call, 2),
        published(db, other_call, 3),
    )
    with db.transaction() as session:
        ProposalService(session).answer(load(db, two), "declined", "duplicate", publish=True)
    for target, error in ((one, ValidationFailed), (elsewhere, ValidationFailed), (two, Conflict)):
        with db.transaction() as session, pytest.raises(error):
            proposal_merges.request(session, load(db, one), load(db, target), actor_id=None)


# -- what it becomes -----------------------------------------------------------------
def test_an_accepted_proposal_becomes_a_session_and_followers_are_told(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1, title="Bike repair")
    follow(db, proposal, proven(db, call.community_id, "fan@example.org"))
    event = open_event(db, make)
    with db.transaction() as session:
        session.get(Event, event.id).community_id = call.community_id
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        loaded = load(db, proposal)
        proposal_outcomes.as_session(
            session, loaded, session.get(Event, event.id),
            proposal_outcomes.session_input(session, loaded), actor_id=None,
        )  # fmt: skip
    assert refused.value.code == "not_accepted"
    with db.transaction() as session:
        ProposalService(session).answer(load(db, proposal), "accepted", publish=True)
    with db.transaction() as session:
        loaded = session.get(Proposal, proposal.id)
        prefilled = proposal_outcomes.session_input(session, loaded)
        assert (prefilled.title, prefilled.speakers) == ("Bike repair", "Proposer 1")
        proposal_outcomes.as_session(
            session, loaded, session.get(Event, event.id), prefilled, actor_id=None
        )
    became = load(db, proposal)
    assert became.became_event_id == event.id and became.became_item_id is not None
    with db.session() as session:
        item = session.get(ProgrammeItem, became.became_item_id)
        assert item is not None and item.title == "Bike repair"
        told = set(
            session.scalars(
                select(OutboxMessage.to_address).where(OutboxMessage.kind == "proposal_became")
            )
        )
    assert told == {"proposer1@example.org", "fan@example.org"}
    with db.transaction() as session, pytest.raises(Conflict):
        loaded = session.get(Proposal, proposal.id)
        proposal_outcomes.as_session(
            session, loaded, session.get(Event, event.id), prefilled, actor_id=None
        )


def test_an_accepted_proposal_becomes_a_draft_event(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1, title="A whole evening of choirs", kind="meetup")
    with db.transaction() as session:
        ProposalService(session).answer(load(db, proposal), "accepted", publish=True)
    with db.transaction() as session:
        loaded = session.get(Proposal, proposal.id)
        data = proposal_outcomes.event_input(loaded)
        assert data.title == "A whole evening of choirs" and data.description
        data.starts_local, data.ends_local = "2031-05-01T19:00", "2031-05-01T22:00"
        event = proposal_outcomes.as_event(session, loaded, data, actor_id=None)
        assert event.status.value == "draft"
    with db.session() as session:
        # A draft is not shown as what it became until it is public.
        assert ProposalService(session).became(load(db, proposal)) is None
    other_event = open_event(db, make)  # another community's, and not of a series
    with db.transaction() as session, pytest.raises(NotFound):
        loaded = session.get(Proposal, proposal.id)
        loaded.became_event_id = None
        proposal_outcomes.as_event(
            session, loaded, EventInput(title="x"), occurrence=session.get(Event, other_event.id),
            actor_id=None,
        )  # fmt: skip


# -- follows -------------------------------------------------------------------------
def test_following_twice_is_one_follow_and_each_person_is_mailed_once(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    fan = proven(db, call.community_id, "fan@example.org")
    follow(db, proposal, fan)
    follow(db, proposal, fan)
    with db.transaction() as session:  # and the whole call
        follows.follow(session, call_subject(load(db, proposal).call), fan, locale="fr")
    with db.transaction() as session:
        ProposalService(session).answer(load(db, proposal), "under_discussion", publish=True)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Follow)) == 2
        mails = list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.to_address == "fan@example.org")
            )
        )
    assert len(mails) == 1 and mails[0].render_spec["unsubscribe"].startswith("/u/")


def test_a_forged_unsubscribe_link_is_not_found(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    follow(db, proposal, proven(db, call.community_id, "fan@example.org"))
    with db.session() as session:
        path = follows.unsubscribe_path(session, session.scalar(select(Follow)))
        token = path.removeprefix("/u/")
        assert follows.by_unsubscribe_token(session, token).email == "fan@example.org"
        for forged in (token[:-2] + "xx", token[:32], "", "z" * 60):
            with pytest.raises(NotFound):
                follows.by_unsubscribe_token(session, forged)
    with db.session() as session:  # a proposer's private link opens no follow
        proposer = proposer_of(session, load(db, proposal))
        other = identity.signed_token(session, proposal.community_id, "proposer", proposer.id)
        with pytest.raises(NotFound):
            follows.by_unsubscribe_token(session, other)
