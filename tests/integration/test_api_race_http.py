"""The organiser API keeps the capacity and idempotency guarantees under concurrency: the
HTTP race of tests/integration/test_registration_http.py, through ``POST .../registrations``
with a token, against a real server process; and the door's nonce through
``POST .../check-ins``. The negative control switches the lock off (the same test-only
switch) and must oversell, so the first test can fail."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.models import CheckIn, Event, Registration, RegistrationStatus, Scope, User
from events.services.api_tokens import ApiTokenService
from events.services.registrations import RegistrationInput, RegistrationService
from tests.async_runner import run_coroutine
from tests.factories import Factories
from tests.integration.test_registration_http import PLACES, seed_event, serve

pytestmark = pytest.mark.slow

PEOPLE = 3 * PLACES


def _token(db: Database, make: Factories, event: Event) -> str:
    owner = make.user()
    with db.transaction() as session:
        from events.models import Membership, Role

        session.add(Membership(community_id=event.community_id, user_id=owner.id, role=Role.OWNER))
        session.flush()
        slug = session.get(Event, event.id).community.slug  # type: ignore[union-attr]
        stored = session.get(User, owner.id)
        assert stored is not None
        return (
            ApiTokenService(session)
            .create(stored, slug, name="race", scopes=list(Scope), expires_on="", now=utcnow())
            .plain
        )


async def _all_at_once(
    url: str, token: str, calls: list[tuple[str, dict[str, object]]]
) -> list[int]:
    limits = httpx.Limits(max_connections=len(calls), max_keepalive_connections=0)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=limits, headers=headers
    ) as client:
        answers = await asyncio.gather(*(client.post(path, json=body) for path, body in calls))
    return [answer.status_code for answer in answers]


def _register_race(
    tmp_path: Path, database_url: str, db: Database, make: Factories, **switches: str
) -> tuple[list[int], int, int]:
    event = seed_event(db, make)
    token = _token(db, make, event)
    with db.session() as session:
        slug = session.get(Event, event.id).community.slug  # type: ignore[union-attr]
    path = f"/api/v1/manage/{slug}/events/{event.slug}/registrations"
    calls = [
        (path, {"name": f"P{n}", "email": f"p{n}@example.org", "consent": True})
        for n in range(PEOPLE)
    ]
    with serve(tmp_path, database_url, **switches) as url:
        statuses = run_coroutine(_all_at_once(url, token, calls))
    with db.session() as session:
        confirmed = session.scalars(
            select(Registration).where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ).all()
        taken = session.scalar(select(Event.taken).where(Event.id == event.id)) or 0
    return statuses, len(confirmed), taken


def test_api_registrations_racing_never_oversell(
    tmp_path: Path, database_url: str, db: Database, make: Factories
) -> None:
    statuses, confirmed, taken = _register_race(tmp_path, database_url, db, make)
    assert set(statuses) == {201}
    assert confirmed == taken == PLACES


def test_negative_control_without_the_lock_the_api_race_oversells(
    tmp_path: Path, database_url: str, db: Database, make: Factories
) -> None:
    _statuses, confirmed, _taken = _register_race(
        tmp_path, database_url, db, make, RENCONTRES_TEST_UNSAFE_NO_LOCK="1"
    )
    assert confirmed > PLACES


def test_api_check_ins_racing_admit_once(
    tmp_path: Path, database_url: str, db: Database, make: Factories
) -> None:
    event = seed_event(db, make)
    token = _token(db, make, event)
    with db.transaction() as session:
        stored = session.get(Event, event.id)
        assert stored is not None
        slug = stored.community.slug
        tickets = [
            RegistrationService(session)
            .register(
                stored, RegistrationInput(name=f"D{n}", email=f"d{n}@example.org", consent="on")
            )
            .registration.ticket_code
            for n in range(2)
        ]
    path = f"/api/v1/manage/{slug}/events/{event.slug}/check-ins"
    same_nonce = [(path, {"nonce": "retry-0001", "ticket": tickets[0]})] * 20
    other_nonces = [(path, {"nonce": f"nonce-{n:04d}", "ticket": tickets[1]}) for n in range(20)]
    with serve(tmp_path, database_url) as url:
        statuses = run_coroutine(_all_at_once(url, token, same_nonce + other_nonces))
    assert set(statuses) == {200}
    with db.session() as session:
        admitted = session.scalars(
            select(CheckIn).where(CheckIn.event_id == event.id, CheckIn.verdict == "admitted")
        ).all()
        arrived = session.scalars(
            select(Registration.arrived).where(Registration.event_id == event.id)
        ).all()
    assert len(admitted) == 2  # one per ticket: the retries replayed, the others refused
    assert sorted(arrived) == [1, 1]
