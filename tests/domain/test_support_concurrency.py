"""Supports under concurrency, on both databases: real threads, each in its own
transaction as a web worker would be.

- 50 simultaneous supports from one person on 50 proposals never exceed the budget;
- 50 simultaneous supports from one person on one proposal count once.

Each has a negative control that MUST fail the guarantee, proving the test can fail:
``SupportService(session, lock=False)`` checks then writes (no conditional increment, no
``ON CONFLICT``), with a test hook between the check and the write; the uniqueness control
also drops the unique key, which is the lock of "once per person". The rate limiter is
switched off in all four (it serialises one person's requests on its own counter row, which
would hide what the budget and the unique key do).

SQLite: writers are serialised (``BEGIN IMMEDIATE``), so as in the capacity race
(tests/domain/test_registration_concurrency.py) the controls reproduce the classic bug of a
check made in an earlier transaction than the write: the hook ends the transaction.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from events.database import Database
from events.errors import Conflict
from events.models import CallAllowance, Proposal, ProposalSupport
from events.services import call_allowances, supports
from events.services.supports import SupportService
from tests.domain.test_registration_concurrency import deferred
from tests.factories import Factories
from tests.proposal_scenario import load, open_call, proven, published

THREADS = 50
BUDGET = 5


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supports, "require_within_limit", lambda *args, **kwargs: None)


def race(count: int, work: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(work, n) for n in range(count)]
        return [future.exception() or future.result() for future in futures]


def widen(db: Database, monkeypatch: pytest.MonkeyPatch, *, end_transaction: bool) -> None:
    """Sleep between each check and its write (ending the transaction first on SQLite,
    see the module docstring)."""

    def hook(session: Session) -> None:
        if end_transaction and db.is_sqlite:
            session.commit()
        time.sleep(0.02)

    monkeypatch.setattr(call_allowances, "_between_check_and_write", hook)
    monkeypatch.setattr(supports, "_between_check_and_write", hook)


def budget_race(db: Database, make: Factories, *, lock: bool) -> tuple[list[Any], int, int]:
    """One person, budget 5 with 1 used, supports 50 proposals at once: returns the
    results, their support rows and the allowance's count."""
    call = open_call(db, make, support_budget=str(BUDGET))
    proposals = [published(db, call, n, email=f"p{n}@example.org") for n in range(THREADS + 1)]
    person = proven(db, call.community_id, "eager@example.org")
    with db.transaction() as session:  # one support before: the allowance row exists
        SupportService(session).support(session.get(Proposal, proposals[0].id), person)

    def one(n: int) -> Any:
        opened = db.transaction() if lock else deferred(db)
        with opened as session:
            proposal = session.get(Proposal, proposals[n + 1].id)
            return SupportService(session, lock=lock).support(proposal, person)

    results = race(THREADS, one)
    with db.session() as session:
        rows = session.scalar(
            select(func.count()).where(ProposalSupport.supporter_key == person.key)
        )
        used = session.scalar(
            select(CallAllowance.supports_used).where(CallAllowance.person_key == person.key)
        )
    return results, int(rows or 0), int(used or 0)


def test_fifty_simultaneous_supports_of_one_person_never_exceed_the_budget(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    widen(db, monkeypatch, end_transaction=False)
    results, rows, used = budget_race(db, make, lock=True)
    refused = [r for r in results if isinstance(r, Conflict)]
    assert [r for r in results if isinstance(r, BaseException) and r not in refused] == []
    assert {r.code for r in refused} == {"budget_spent"}
    assert len(refused) == THREADS - (BUDGET - 1)
    assert rows == BUDGET and used == BUDGET


def test_negative_control_without_the_lock_the_budget_is_exceeded(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    widen(db, monkeypatch, end_transaction=True)
    results, rows, used = budget_race(db, make, lock=False)
    errors = sum(isinstance(r, BaseException) for r in results)
    print(
        f"budget control on {db.engine.dialect.name}: {rows} supports for a budget of "
        f"{BUDGET}, allowance {used}, {errors} errors"
    )
    assert rows > BUDGET  # over budget: without the conditional increment the rule is gone


@pytest.fixture
def without_unique_key(db: Database) -> Iterator[None]:
    """The support table without its (proposal, person) unique key, put back afterwards."""
    if db.is_sqlite:  # SQLite cannot drop a table constraint: make the table again
        with db.engine.begin() as connection:
            ddl = connection.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'proposal_support'")
            )
            indexes = connection.scalars(
                text(
                    "SELECT sql FROM sqlite_master WHERE type = 'index'"
                    " AND tbl_name = 'proposal_support' AND sql IS NOT NULL"
                )
            ).all()
            bare = re.sub(r",\s*CONSTRAINT uq_proposal_support_person UNIQUE \([^)]*\)", "", ddl)
            assert bare != ddl
            connection.execute(text("DROP TABLE proposal_support"))
            connection.execute(text(bare))
        try:
            yield
        finally:  # the table as it was, for the tests after this one on the same database
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE proposal_support"))
                for statement in (ddl, *indexes):
                    connection.execute(text(statement))
        return
    with db.engine.begin() as connection:
        connection.execute(
            text("ALTER TABLE proposal_support DROP CONSTRAINT uq_proposal_support_person")
        )
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM proposal_support"))
            connection.execute(
                text(
                    "ALTER TABLE proposal_support ADD CONSTRAINT uq_proposal_support_person "
                    "UNIQUE (proposal_id, supporter_key)"
                )
            )


def same_person_race(db: Database, make: Factories, *, lock: bool) -> tuple[list[Any], int, int]:
    """One person supports one proposal 50 times at once: results, rows, the count."""
    call = open_call(db, make, support_budget="100")
    proposal = published(db, call, 1)
    other = published(db, call, 2)
    person = proven(db, call.community_id, "twice@example.org")
    with db.transaction() as session:  # the allowance row exists (see budget_race)
        SupportService(session, lock=lock).support(session.get(Proposal, other.id), person)

    def one(_n: int) -> Any:
        opened = db.transaction() if lock else deferred(db)
        with opened as session:
            return SupportService(session, lock=lock).support(
                session.get(Proposal, proposal.id), person
            )

    results = race(THREADS, one)
    with db.session() as session:
        rows = session.scalar(
            select(func.count()).where(ProposalSupport.proposal_id == proposal.id)
        )
    return results, int(rows or 0), load(db, proposal).supports


def test_the_same_person_fifty_times_at_once_counts_once(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    widen(db, monkeypatch, end_transaction=False)
    results, rows, count = same_person_race(db, make, lock=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert sum(r.counted for r in results) == 1
    assert rows == 1 and count == 1


def test_negative_control_without_the_unique_key_the_same_person_counts_twice(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch, without_unique_key: None
) -> None:
    widen(db, monkeypatch, end_transaction=True)
    results, rows, count = same_person_race(db, make, lock=False)
    errors = sum(isinstance(r, BaseException) for r in results)
    print(
        f"uniqueness control on {db.engine.dialect.name}: {rows} rows, count {count}, "
        f"{errors} errors"
    )
    assert rows > 1  # counted more than once: the unique key is what holds the rule
