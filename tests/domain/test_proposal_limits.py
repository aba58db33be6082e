"""Rate limits of the public proposal forms, per client address and per person, for each
of proposing, supporting, reporting and following (events/form_limits.py), on both
databases.

Each limit is lowered to 3 for the test (the wiring is what is tested; the configured
figures are checked against docs/proposals.md separately). For each action and each
scope: 3 attempts pass, the 4th is ``RateLimited`` and writes nothing; another client or
another person is not held up by it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from events.database import Database
from events.errors import RateLimited
from events.form_limits import FormLimit
from events.models import AddressConfirmation, Community, Proposal, ProposalCall
from events.services import follows, proposals, supports
from events.services.proposal_records import proposal_subject
from events.services.proposals import ProposalService
from events.services.supports import SupportService
from tests.factories import Factories
from tests.proposal_scenario import open_call, proposal_input, proven, published

LOW = FormLimit(attempts=3, window=timedelta(hours=1))


@pytest.fixture
def low_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    for module, name in [
        (proposals, "PROPOSE_LIMIT"),
        (proposals, "REPORT_LIMIT"),
        (supports, "SUPPORT_CLIENT_LIMIT"),
        (supports, "SUPPORT_PERSON_LIMIT"),
        (follows, "FOLLOW_LIMIT"),
    ]:
        monkeypatch.setattr(module, name, LOW)


def test_the_configured_limits_are_the_documented_ones() -> None:
    hour, ten_minutes = timedelta(hours=1), timedelta(minutes=10)
    assert FormLimit(10, hour) == proposals.PROPOSE_LIMIT
    assert FormLimit(20, hour) == proposals.REPORT_LIMIT
    assert FormLimit(10, timedelta(days=1)) == proposals.UPDATE_LIMIT
    assert FormLimit(10, hour) == follows.FOLLOW_LIMIT
    assert FormLimit(60, ten_minutes) == supports.SUPPORT_PERSON_LIMIT
    assert FormLimit(2000, ten_minutes) == supports.SUPPORT_CLIENT_LIMIT


#: An action: (db, the world, attempt number, client, person's address) -> None.
Action = Callable[[Database, dict[str, Any], int, str, str], None]


def do_propose(db: Database, world: dict[str, Any], n: int, client: str, email: str) -> None:
    with db.transaction() as session:
        ProposalService(session).propose(
            session.get(ProposalCall, world["call"].id),
            proposal_input(f"{n}-{client}", email=email, client=client),
        )


def do_support(db: Database, world: dict[str, Any], n: int, client: str, email: str) -> None:
    person = proven(db, world["call"].community_id, email)
    with db.transaction() as session:  # again on the same proposal: counts as an attempt
        SupportService(session).support(
            session.get(Proposal, world["proposal"].id), person, client=client
        )


def do_support_by_mail(
    db: Database, world: dict[str, Any], n: int, client: str, email: str
) -> None:
    with db.transaction() as session:
        proposal = session.get(Proposal, world["proposal"].id)
        SupportService(session).ask_by_mail(
            proposal, proposal.call.community, email, locale="en", client=client
        )


def do_report(db: Database, world: dict[str, Any], n: int, client: str, email: str) -> None:
    person = proven(db, world["call"].community_id, email)
    with db.transaction() as session:  # the same person again: counted once, still an attempt
        ProposalService(session).report(
            session.get(Proposal, world["proposal"].id), person, "spam", client=client
        )


def do_report_by_mail(db: Database, world: dict[str, Any], n: int, client: str, email: str) -> None:
    with db.transaction() as session:
        ProposalService(session).report_by_mail(
            session.get(Proposal, world["proposal"].id), email, "spam", locale="en", client=client
        )


def do_follow(db: Database, world: dict[str, Any], n: int, client: str, email: str) -> None:
    with db.transaction() as session:
        proposal = session.get(Proposal, world["proposal"].id)
        follows.ask_to_follow(
            session,
            session.get(Community, proposal.community_id),
            proposal_subject(proposal),
            email,
            locale="en",
            client=client,
        )


ACTIONS: dict[str, Action] = {
    "propose": do_propose,
    "support": do_support,
    "support_by_mail": do_support_by_mail,
    "report": do_report,
    "report_by_mail": do_report_by_mail,
    "follow": do_follow,
}
#: Actions where one person acting from several clients is the case (a proven person's
#: report counts once per proposal, so the per-client case uses distinct people: with
#: three of them the proposal would be hidden; the by-mail path covers that scope).
PER_CLIENT = ["propose", "support", "support_by_mail", "report_by_mail", "follow"]
PER_PERSON = list(ACTIONS)


def world_of(db: Database, make: Factories) -> dict[str, Any]:
    call = open_call(db, make, proposals_per_person="50", support_budget="50")
    return {"call": call, "proposal": published(db, call, "target")}


def written(db: Database) -> tuple[int, int]:
    """Proposals and confirmation requests written so far."""
    with db.session() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Proposal)) or 0),
            int(session.scalar(select(func.count()).select_from(AddressConfirmation)) or 0),
        )


@pytest.mark.parametrize("action", PER_CLIENT)
def test_one_client_is_held_after_its_limit(
    db: Database, make: Factories, low_limits: None, action: str
) -> None:
    world, act = world_of(db, make), ACTIONS[action]
    for n in range(3):
        act(db, world, n, "198.51.100.7", f"person{n}@example.org")
    before = written(db)
    with pytest.raises(RateLimited):
        act(db, world, 3, "198.51.100.7", "person3@example.org")
    assert written(db) == before  # nothing written by the refused attempt
    act(db, world, 4, "198.51.100.8", "person4@example.org")  # another client goes on


@pytest.mark.parametrize("action", PER_PERSON)
def test_one_person_is_held_after_its_limit_from_any_client(
    db: Database, make: Factories, low_limits: None, action: str
) -> None:
    world, act = world_of(db, make), ACTIONS[action]
    for n in range(3):
        act(db, world, n, f"198.51.100.{n + 1}", "eager@example.org")
    before = written(db)
    with pytest.raises(RateLimited):
        act(db, world, 3, "198.51.100.99", "eager@example.org")
    assert written(db) == before
    act(db, world, 4, "198.51.100.99", "calm@example.org")  # another person goes on
