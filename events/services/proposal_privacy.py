"""Personal data of proposers, co-proposers and followers: export, erasure, anonymisation.

What is personal: a proposer's or co-proposer's name and address (``ProposalPerson``),
a follower's address (``Follow``), addresses waiting for confirmation
(``AddressConfirmation``), and the keyed hashes of supporters and reporters (pseudonymous:
only the community's secret links them to an address).

- **Export** (:func:`export`, the private page's "download my data"): the proposal(s) of
  this address in the community, its people rows, its follows, and the proposals it
  supports.
- **Erasure** (:func:`erase`, "delete my data"): an active proposal is withdrawn first
  (supports released, followers told); then every ``ProposalPerson`` row of the address in
  the community loses name and address (placeholders; never named again), its follows
  and pending confirmations are deleted, and its supports are taken back while the call's
  window is open (after it, the counts are history: the keyed rows stay, linked to
  nobody). What was proposed stays, anonymous, since others supported and discussed it.
- **Anonymisation** (:func:`anonymise_past`, daily, ``ANONYMISE_AFTER_DAYS``): once a
  call's last window (proposals or supports) closed that many days ago, its people rows are
  anonymised as above, the follows of the call and its proposals deleted, and the support
  and report rows (keyed hashes) deleted; counts, statuses, trails and texts stay.
  Confirmation rows are deleted once expired, and proposals whose address was never
  confirmed once their link expired (:func:`forget_unconfirmed`). Idempotent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import (
    AddressConfirmation,
    CallAllowance,
    Follow,
    Proposal,
    ProposalCall,
    ProposalPerson,
    ProposalStatus,
    ProposalSupport,
)
from events.proposal_lifecycle import supporting_open, withdrawable
from events.services import follows, identity, moderation
from events.services.proposal_records import CALL, PROPOSAL, proposal_path
from events.services.proposals import ProposalService
from events.services.supports import SupportService

ANONYMISED_DOMAIN = "anonymised.invalid"  # never deliverable (RFC 2606)


def placeholder(person: ProposalPerson) -> str:
    return f"{person.id.hex}@{ANONYMISED_DOMAIN}"


def _rows_of(session: Session, community_id: UUID, email: str) -> list[ProposalPerson]:
    return list(
        session.scalars(
            select(ProposalPerson)
            .join(Proposal, Proposal.id == ProposalPerson.proposal_id)
            .where(Proposal.community_id == community_id, ProposalPerson.email == email)
            .order_by(ProposalPerson.created_at)
        )
    )


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export(session: Session, person: ProposalPerson) -> dict[str, Any]:
    """Everything the community keeps about ``person``'s address (see the docstring)."""
    proposal = session.get(Proposal, person.proposal_id)
    assert proposal is not None
    community_id = proposal.community_id
    rows = _rows_of(session, community_id, person.email)
    key = identity.person_key(session, community_id, person.email)
    supported = session.scalars(
        select(Proposal)
        .join(ProposalSupport, ProposalSupport.proposal_id == Proposal.id)
        .where(Proposal.community_id == community_id, ProposalSupport.supporter_key == key)
    )
    service = ProposalService(session)
    proposals = []
    for row in rows:
        found = session.get(Proposal, row.proposal_id)
        if found is None:
            continue
        proposals.append(
            {
                "title": found.title,
                "kind": found.kind,
                "text": found.body,
                "status": found.status,
                "address": proposal_path(found),
                "you": {
                    "role": row.role,
                    "state": row.state,
                    "name": row.name,
                    "email": row.email,
                    "named_on_it": row.named,
                    "message": row.message,
                    "language": row.locale,
                    "since": _moment(row.created_at),
                    "confirmed_at": _moment(row.confirmed_at),
                },
                "updates": [
                    {"posted_at": _moment(u.created_at), "text": u.body}
                    for u in service.updates(found)
                ]
                if row.role == "proposer"
                else [],
            }
        )
    return {
        "email": person.email,
        "proposals": proposals,
        "follows": [
            {"kind": f.subject_kind, "since": _moment(f.created_at), "language": f.locale}
            for f in follows.follows_of(session, community_id, person.email)
        ],
        "supports": [{"title": p.title, "address": proposal_path(p)} for p in supported],
        "exported_at": _moment(utcnow()),
    }


def _anonymise(person: ProposalPerson) -> None:
    person.name = ""
    person.email = placeholder(person)
    person.named = False
    person.message = ""


def erase(session: Session, person: ProposalPerson) -> None:
    """Erase the personal data of ``person``'s address in the community (see the
    docstring). Their private links stop working with it."""
    proposal = session.get(Proposal, person.proposal_id)
    assert proposal is not None
    community_id, email = proposal.community_id, person.email
    key = identity.person_key(session, community_id, email)
    service = ProposalService(session)
    for row in _rows_of(session, community_id, email):
        found = session.get(Proposal, row.proposal_id)
        if found is not None and row.role == "proposer" and withdrawable(found):
            service.withdraw(row)
    supports = SupportService(session)
    for supported in session.scalars(
        select(Proposal)
        .join(ProposalSupport, ProposalSupport.proposal_id == Proposal.id)
        .where(Proposal.community_id == community_id, ProposalSupport.supporter_key == key)
    ).all():
        if supporting_open(supported.call, utcnow()):
            supports.withdraw(supported, identity.Person(community_id, key, email))
    for row in _rows_of(session, community_id, email):
        _anonymise(row)
    follows.stop_all(session, community_id, email)
    session.execute(
        delete(AddressConfirmation).where(
            AddressConfirmation.community_id == community_id, AddressConfirmation.email == email
        )
    )
    session.flush()


def anonymise_past(session: Session, *, now: datetime, after_days: int) -> int:
    """Anonymise the calls whose windows all closed ``after_days`` days ago; returns how
    many people rows were anonymised (see the docstring). Flushes, never commits."""
    cutoff = now - timedelta(days=max(after_days, 0))
    ended = select(ProposalCall.id).where(
        ProposalCall.closes_at <= cutoff, ProposalCall.supports_close_at <= cutoff
    )
    proposals = select(Proposal.id).where(Proposal.call_id.in_(ended))
    rows = list(
        session.scalars(
            select(ProposalPerson).where(
                ProposalPerson.proposal_id.in_(proposals),
                ~ProposalPerson.email.like(f"%@{ANONYMISED_DOMAIN}"),
            )
        )
    )
    for row in rows:
        _anonymise(row)
    proposal_ids = list(session.scalars(proposals))
    call_ids = list(session.scalars(ended))
    follows.forget_subjects(session, PROPOSAL, proposal_ids)
    follows.forget_subjects(session, CALL, call_ids)
    moderation.forget_reporters(session, PROPOSAL, proposal_ids)
    session.execute(delete(ProposalSupport).where(ProposalSupport.call_id.in_(call_ids)))
    session.execute(delete(CallAllowance).where(CallAllowance.call_id.in_(call_ids)))
    identity.forget_confirmations(session, before=now)
    session.flush()
    return len(rows)


def forget_unconfirmed(session: Session, *, now: datetime) -> int:
    """Delete the proposals whose address was never confirmed, once their link expired
    (nobody ever saw them; they hold an address that may not be the proposer's)."""
    expired = now - identity.CONFIRMATION_VALID_FOR
    result = session.execute(
        delete(Proposal).where(
            Proposal.status == ProposalStatus.SUBMITTED.value, Proposal.created_at < expired
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count_personal(session: Session, community_id: UUID) -> dict[str, int]:
    """How many rows hold an address in the community (for tests and the organisers)."""
    people = session.scalar(
        select(func.count())
        .select_from(ProposalPerson)
        .join(Proposal, Proposal.id == ProposalPerson.proposal_id)
        .where(
            Proposal.community_id == community_id,
            ~ProposalPerson.email.like(f"%@{ANONYMISED_DOMAIN}"),
        )
    )
    followers = session.scalar(
        select(func.count()).select_from(Follow).where(Follow.community_id == community_id)
    )
    return {"people": int(people or 0), "follows": int(followers or 0)}
