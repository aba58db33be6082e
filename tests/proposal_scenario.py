"""Helpers for the calls-for-proposals tests (domain, web, browser, bench): an open call,
proven people, proposals in any state, and the links mailed to someone."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.models import Community, OutboxMessage, Proposal, ProposalCall, ProposalPerson
from events.services import identity
from events.services.identity import Person
from events.services.proposal_calls import CallInput, CallService
from events.services.proposals import ProposalInput, ProposalService, Proposed
from tests.factories import Factories


def local(moment: Any, zone: str = "Europe/Paris") -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def call_input(**overrides: Any) -> CallInput:
    now = utcnow()
    values: dict[str, Any] = {
        "title": "What should our next evenings be about?",
        "description": "Propose a *topic*, a talk or a workshop.",
        "kinds": ["topic", "talk", "workshop", "meetup", "project"],
        "opens_local": local(now - timedelta(hours=1)),
        "closes_local": local(now + timedelta(days=30)),
        "support_budget": "5",
        "proposals_per_person": "3",
    }
    values.update(overrides)
    return CallInput(**values)


def open_call(
    db: Database, make: Factories, community: Community | None = None, **overrides: Any
) -> ProposalCall:
    """A call open to proposals and supports now (for 30 days)."""
    community = community or make.community()
    with db.transaction() as session:
        community = session.get(Community, community.id)
        return CallService(session).create(community, call_input(**overrides))


def proven(db: Database, community_id: Any, email: str) -> Person:
    with db.transaction() as session:
        return identity.person(session, community_id, email)


def proposal_input(n: int | str = 1, **overrides: Any) -> ProposalInput:
    values: dict[str, Any] = {
        "title": f"Proposal number {n}",
        "kind": "topic",
        "body": f"Let us talk about **thing {n}**.",
        "name": f"Proposer {n}",
        "email": f"proposer{n}@example.org",
        "named": "on",
        "consent": "on",
        "locale": "en",
    }
    values.update(overrides)
    return ProposalInput(**values)


def propose(
    db: Database, call: ProposalCall, n: int | str = 1, *, person: Person | None = None, **kw: Any
) -> Proposed:
    with db.transaction() as session:
        return ProposalService(session).propose(
            session.get(ProposalCall, call.id), proposal_input(n, **kw), person=person
        )


def published(db: Database, call: ProposalCall, n: int | str = 1, **kw: Any) -> Proposal:
    """A published proposal, its proposer proven at once (as a ticket holder would be)."""
    email = kw.pop("email", f"proposer{n}@example.org")
    person = proven(db, call.community_id, email)
    result = propose(db, call, n, person=person, email=email, **kw)
    assert result.proposal is not None
    return result.proposal


def mailed_links(db: Database, address: str, name: str) -> list[str]:
    """The site-relative ``name`` links (``confirm``, ``private``...) of the mails queued
    for ``address``, oldest first."""
    with db.session() as session:
        specs = session.scalars(
            select(OutboxMessage.render_spec)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.created_at)
        )
        return [spec["links"][name] for spec in specs if spec and name in (spec.get("links") or {})]


def link_in_outbox(db: Database, address: str, prefix: str) -> str:
    """The last ``prefix`` link (``/c/``, ``/p/``...) mailed to ``address``, whether the
    mail worker rendered the mail already (its body) or not yet (its render spec)."""
    pattern = re.compile(re.escape(prefix) + r"[A-Za-z0-9_-]{16,}")
    with db.session() as session:
        rows = session.execute(
            select(OutboxMessage.render_spec, OutboxMessage.text_body)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.created_at)
        ).all()
    found = []
    for spec, body in rows:
        links = " ".join((spec or {}).get("links", {}).values()) if spec else ""
        found += pattern.findall(links + " " + (body or ""))
    assert found, f"no {prefix} link mailed to {address}"
    return found[-1]


def confirmation_token(db: Database, address: str) -> str:
    """The token of the last confirmation link mailed to ``address``."""
    links = mailed_links(db, address, "confirm")
    assert links, f"no confirmation mailed to {address}"
    return links[-1].removeprefix("/c/")


def proposer_row(db: Database, proposal: Proposal) -> ProposalPerson:
    with db.session() as session:
        found = session.scalar(
            select(ProposalPerson).where(
                ProposalPerson.proposal_id == proposal.id, ProposalPerson.role == "proposer"
            )
        )
        assert found is not None
        return found


def load(db: Database, proposal: Proposal) -> Proposal:
    with db.session() as session:
        found = session.get(Proposal, proposal.id)
        assert found is not None
        return found
