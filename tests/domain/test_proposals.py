"""Calls for proposals: proposing with a double opt-in, publishing, editing, withdrawing,
answering (now or together), the per-person limit, the trail, listing and duplicates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from events.models import (
    AddressConfirmation,
    Proposal,
    ProposalCall,
    ProposalPerson,
    ProposalStatus,
)
from events.services import confirmations
from events.services.proposal_listing import ProposalListing
from events.services.proposals import Outcome, ProposalService
from tests.factories import Factories
from tests.proposal_scenario import (
    call_input,
    confirmation_token,
    load,
    mailed_links,
    open_call,
    propose,
    proposer_row,
    proven,
    published,
)

P = ProposalStatus


def statuses(db: Database, proposal: Proposal) -> list[tuple[str, str, str, bool]]:
    with db.session() as session:
        return [
            (row.action, row.from_status, row.to_status, row.public)
            for row in ProposalService(session).trail(load(db, proposal), everything=True)
        ]


def test_a_typed_address_keeps_the_proposal_invisible_until_it_confirms(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    result = propose(db, call, 1)
    assert result.outcome is Outcome.CHECK_MAIL
    assert result.proposal is not None and result.proposal.status == P.SUBMITTED
    with db.session() as session:
        listed = ProposalListing(session).page_of(session.get(ProposalCall, call.id), seed="x")
        assert listed.total == 0
        with pytest.raises(NotFound):
            ProposalService(session).visible(
                session.get(ProposalCall, call.id), result.proposal.number
            )
    # Only the confirmation link was mailed: no private page before the address is proven.
    assert mailed_links(db, "proposer1@example.org", "private") == []
    token = confirmation_token(db, "proposer1@example.org")
    with db.transaction() as session:
        outcome = confirmations.confirm_address(session, token)
    assert outcome.done == "proposal_published" and outcome.path.startswith("/p/")
    assert load(db, result.proposal).status == P.PUBLISHED
    assert mailed_links(db, "proposer1@example.org", "private") == [outcome.path]
    # A second click publishes nothing twice.
    with db.transaction() as session:
        again = confirmations.confirm_address(session, token)
    assert again.path == outcome.path
    assert statuses(db, result.proposal) == [
        ("submitted", "", "submitted", False),
        ("published", "submitted", "published", True),
    ]


def test_a_proven_person_publishes_at_once(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    person = proven(db, call.community_id, "ticket@example.org")
    result = propose(db, call, 1, person=person, email="someone-else@example.org")
    assert result.outcome is Outcome.PUBLISHED
    assert result.proposal is not None and result.proposal.status == P.PUBLISHED
    # The proven address is the proposal's, whatever was typed.
    assert proposer_row(db, result.proposal).email == "ticket@example.org"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(AddressConfirmation)) == 0


def test_an_expired_confirmation_link_publishes_nothing(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    result = propose(db, call, 1)
    token = confirmation_token(db, "proposer1@example.org")
    with db.transaction() as session:
        row = session.scalar(select(AddressConfirmation))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        confirmations.confirm_address(session, token)
    assert refused.value.code == "confirmation_expired"
    assert result.proposal is not None and load(db, result.proposal).status == P.SUBMITTED


def test_unknown_confirmation_links_are_not_found(db: Database) -> None:
    for token in ("", "nope", "x" * 500):
        with db.transaction() as session, pytest.raises(NotFound):
            confirmations.confirm_address(session, token)


def test_every_field_is_checked_at_once(db: Database, make: Factories) -> None:
    call = open_call(db, make, kinds=["talk"])
    with pytest.raises(ValidationFailed) as failed:
        propose(
            db,
            call,
            1,
            title="",
            kind="topic",
            body="",
            duration="4",
            language="klingon",
            needs=["room", "piano"],
            co_proposers="a@example.org, not-an-address",
            name="",
            email="nope",
            consent="",
        )
    assert failed.value.errors == {
        "title": "required",
        "body": "required",
        "kind": "invalid_choice",
        "duration": "out_of_range",
        "language": "invalid_choice",
        "needs": "invalid_choice",
        "co_proposers": "invalid_email",
        "name": "required",
        "email": "invalid_email",
        "consent": "required",
    }
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_markdown_is_sanitised_like_event_descriptions(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(
        db, call, 1, body="<script>alert(1)</script> [x](javascript:alert(1)) **bold**"
    )
    assert "<script" not in proposal.body_html and "href" not in proposal.body_html
    assert "<strong>bold</strong>" in proposal.body_html


def test_the_honeypot_writes_nothing_and_answers_like_a_success(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    result = propose(db, call, 1, trap="http://spam.example")
    assert result.outcome is Outcome.CHECK_MAIL and result.proposal is None
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Proposal)) == 0
        assert session.scalar(select(func.count()).select_from(AddressConfirmation)) == 0


def test_a_double_submit_returns_the_first_proposal(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    first = propose(db, call, 1, request_key="nonce-1")
    second = propose(db, call, 1, request_key="nonce-1")
    assert second.outcome is Outcome.REPLAYED
    assert first.proposal is not None and second.proposal is not None
    assert second.proposal.id == first.proposal.id


def test_proposing_needs_the_call_open(db: Database, make: Factories) -> None:
    now = utcnow()
    from tests.proposal_scenario import local

    call = open_call(
        db,
        make,
        opens_local=local(now + timedelta(days=1)),
        closes_local=local(now + timedelta(days=2)),
    )
    with pytest.raises(Conflict) as refused:
        propose(db, call, 1)
    assert refused.value.code == "call_closed"


def test_proposals_per_person_are_limited_and_a_withdrawal_gives_one_back(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make, proposals_per_person="2")
    first = published(db, call, 1, email="same@example.org")
    published(db, call, 2, email="same@example.org")
    with pytest.raises(Conflict) as refused:
        published(db, call, 3, email="same@example.org")
    assert refused.value.code == "too_many_proposals"
    with db.transaction() as session:
        ProposalService(session).withdraw(session.get(ProposalPerson, proposer_row(db, first).id))
    assert published(db, call, 4, email="same@example.org").status == P.PUBLISHED


def test_numbers_are_handed_out_in_order_and_never_reused(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    numbers = [published(db, call, n).number for n in range(1, 4)]
    assert numbers == [1, 2, 3]
    with db.session() as session:
        assert session.get(ProposalCall, call.id).proposals_made == 3


def test_the_proposer_edits_until_answered(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    proposer = proposer_row(db, proposal)
    from tests.proposal_scenario import proposal_input

    with db.transaction() as session:
        ProposalService(session).edit(
            session.get(ProposalPerson, proposer.id), proposal_input(1, title="A better title")
        )
    assert load(db, proposal).title == "A better title"
    with db.transaction() as session:
        ProposalService(session).answer(load(db, proposal), "accepted", publish=True)
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        ProposalService(session).edit(session.get(ProposalPerson, proposer.id), proposal_input(1))
    assert refused.value.code == "proposal_answered"


def test_only_the_proposer_edits_or_withdraws(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1, co_proposers="co@example.org")
    with db.session() as session:
        co = session.scalar(select(ProposalPerson).where(ProposalPerson.email == "co@example.org"))
    with db.transaction() as session, pytest.raises(Forbidden):
        ProposalService(session).withdraw(session.get(ProposalPerson, co.id))
    assert load(db, proposal).status == P.PUBLISHED


def test_answers_move_as_the_lifecycle_allows_and_are_logged(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    steps = [
        ("under_discussion", "", ""),
        ("declined", "no_room", "Next season maybe."),
        ("accepted", "", "We found a room!"),
    ]
    for status, reason, note in steps:
        with db.transaction() as session:
            ProposalService(session).answer(load(db, proposal), status, reason, note, publish=True)
    final = load(db, proposal)
    assert (final.status, final.answer_reason, final.answer_note) == (
        "accepted",
        "",
        "We found a room!",
    )
    assert [s for s in statuses(db, proposal) if s[0] == "answered"] == [
        ("answered", "published", "under_discussion", True),
        ("answered", "under_discussion", "declined", True),
        ("answered", "declined", "accepted", True),
    ]


def test_a_decline_needs_a_reason_and_other_needs_words(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    for reason, note, errors in [
        ("", "", {"reason": "required"}),
        ("because", "", {"reason": "invalid_choice"}),
        ("other", "", {"note": "required"}),
    ]:
        with db.transaction() as session, pytest.raises(ValidationFailed) as failed:
            ProposalService(session).answer(
                load(db, proposal), "declined", reason, note, publish=True
            )
        assert failed.value.errors == errors


def test_withdrawn_and_merged_are_final_for_organisers(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    with db.transaction() as session:
        ProposalService(session).withdraw(
            session.get(ProposalPerson, proposer_row(db, proposal).id)
        )
    for status in ("accepted", "declined", "under_discussion", "published", "merged"):
        with db.transaction() as session, pytest.raises((Conflict, ValidationFailed)):
            ProposalService(session).answer(
                load(db, proposal), status, "duplicate", "", publish=True
            )
    assert load(db, proposal).status == P.WITHDRAWN


def test_answers_kept_private_are_published_together(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    one, two, three = (published(db, call, n) for n in (1, 2, 3))
    with db.transaction() as session:
        service = ProposalService(session)
        service.answer(load(db, one), "accepted", publish=False)
        service.answer(load(db, two), "declined", "off_topic", "Not this time.", publish=False)
    # Nothing public yet: the statuses and the public trail are unchanged.
    assert load(db, one).status == P.PUBLISHED and load(db, two).status == P.PUBLISHED
    with db.session() as session:
        public = ProposalService(session).trail(load(db, two))
        assert [entry.action for entry in public] == ["published"]
    with db.transaction() as session:
        count = ProposalService(session).publish_answers(session.get(ProposalCall, call.id))
    assert count == 2
    assert load(db, one).status == P.ACCEPTED and load(db, two).status == P.DECLINED
    assert load(db, two).answer_reason == "off_topic" and load(db, three).status == P.PUBLISHED
    assert load(db, one).draft_answer is None
    with db.transaction() as session:
        assert ProposalService(session).publish_answers(session.get(ProposalCall, call.id)) == 0


def test_the_call_page_order_is_random_per_visitor_unless_asked(
    db: Database, make: Factories
) -> None:
    call = open_call(db, make)
    for n in range(1, 13):
        published(db, call, n)
    with db.session() as session:
        service = ProposalListing(session)
        loaded = session.get(ProposalCall, call.id)
        first = [p.number for p in service.page_of(loaded, seed="visitor-a").proposals]
        again = [p.number for p in service.page_of(loaded, seed="visitor-a").proposals]
        other = [p.number for p in service.page_of(loaded, seed="visitor-b").proposals]
    assert first == again and sorted(first) == list(range(1, 13))
    assert other != first  # two visitors, two orders (12! orders: a clash is negligible)
    # Pages follow the order without a gap.
    with db.session() as session:
        loaded = session.get(ProposalCall, call.id)
        paged = [
            p.number
            for page in (1, 2, 3)
            for p in ProposalListing(session)
            .page_of(loaded, seed="visitor-a", page=page, per_page=5)
            .proposals
        ]
    assert paged == first


def test_most_supported_first_when_the_organisers_ask(db: Database, make: Factories) -> None:
    call = open_call(db, make, order="most_supported")
    proposals = [published(db, call, n) for n in range(1, 4)]
    with db.transaction() as session:
        for proposal, supports in zip(proposals, (1, 5, 3), strict=True):
            session.get(Proposal, proposal.id).supports = supports
    with db.session() as session:
        listed = ProposalListing(session).page_of(session.get(ProposalCall, call.id), seed="a")
    assert [p.number for p in listed.proposals] == [2, 3, 1]


def test_filters_by_kind_and_status(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    published(db, call, 1, kind="talk")
    declined = published(db, call, 2, kind="workshop")
    published(db, call, 3, kind="talk")
    with db.transaction() as session:
        ProposalService(session).answer(
            load(db, declined), "declined", "off_topic", "", publish=True
        )
    with db.session() as session:
        service = ProposalListing(session)
        loaded = session.get(ProposalCall, call.id)
        talks = service.page_of(loaded, seed="s", kind="talk")
        refused = service.page_of(loaded, seed="s", status="declined")
        counts = service.status_counts(loaded)
    assert sorted(p.number for p in talks.proposals) == [1, 3]
    assert [p.number for p in refused.proposals] == [2]
    assert counts == {"published": 2, "declined": 1}


def test_similar_titles_are_found_while_typing(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    published(db, call, 1, title="Repair café for bicycles")
    published(db, call, 2, title="Learning Python together")
    published(db, call, 3, title="Un café réparation de vélos")
    with db.session() as session:
        found = ProposalListing(session).similar(
            session.get(ProposalCall, call.id), "Bicycle repair cafe"
        )
    assert [number for number, _title in found][:1] == [1]
    assert 2 not in [number for number, _title in found]


def test_rate_limits_per_client(db: Database, make: Factories) -> None:
    call = open_call(db, make, proposals_per_person="50")
    for n in range(10):
        propose(db, call, n, client="198.51.100.7")
    with pytest.raises(RateLimited):
        propose(db, call, 99, client="198.51.100.7")
    propose(db, call, 100, client="198.51.100.8")  # another client is not held up


def test_calls_check_their_windows(db: Database, make: Factories) -> None:
    community = make.community()
    now = utcnow()
    from tests.proposal_scenario import local

    with db.transaction() as session, pytest.raises(ValidationFailed) as failed:
        from events.models import Community
        from events.services.proposal_calls import CallService

        CallService(session).create(
            session.get(Community, community.id),
            call_input(
                kinds=[],
                closes_local=local(now - timedelta(days=2)),
                supporters="everyone",
                support_budget="0",
                order="loudest",
            ),
        )
    assert failed.value.errors == {
        "kinds": "required",
        "closes_local": "ends_before_start",
        "supports_close_local": "ends_before_start",
        "supporters": "invalid_choice",
        "support_budget": "out_of_range",
        "order": "invalid_choice",
    }
