"""Supporting proposals: one support per proposal and person, within a budget per call.

A person (events/services/identity.py: a confirmed address or a ticket, stored only as
the keyed hash) may support a ``published`` or ``under discussion`` proposal, not their
own, while the call's support window is open, if the call lets people like them support
(anyone with a confirmed address, ticket holders of the community's events, or people let
in at least once). Each support uses one unit of their budget in the call
(``support_budget``); withdrawing it, while the window is open, gives the unit back.

Guarantees under concurrency, on SQLite and PostgreSQL, checked by the race tests with
negative controls:

- **the same person twice never counts twice**: the support row has a unique key (proposal,
  person) and is written with ``INSERT ... ON CONFLICT DO NOTHING``; only an inserted row
  uses budget and adds to ``Proposal.supports``;
- **a budget is never exceeded**: the unit is taken by a conditional increment
  (events/services/call_allowances.py); when none is left the whole support rolls back;
- **the count is exact**: ``Proposal.supports`` only changes by ``supports = supports ± 1``
  in the statement that also reads it back, so the threshold ("ready for the organisers")
  is crossed exactly once and logged.

``lock=False`` is the TEST-ONLY negative control: look for an earlier support, then insert
(no ``ON CONFLICT``), take the budget by read-then-write, count by read-then-write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from events.clock import utcnow
from events.errors import Conflict
from events.form_limits import FormLimit, require_within_limit
from events.models import Community, Proposal, ProposalCall, ProposalSupport, Supporters
from events.models.base import table_of
from events.proposal_lifecycle import require_supportable, require_supporting_open
from events.services import call_allowances, identity, moderation
from events.services.call_allowances import Allowance
from events.services.identity import Person
from events.services.proposal_records import PROPOSAL, log_change
from events.validation import clean_email

#: A venue's shared network can hold a whole audience: generous per client; strict per
#: person (their budget limits them anyway, this bounds support/withdraw churn).
SUPPORT_CLIENT_LIMIT = FormLimit(attempts=2000, window=timedelta(minutes=10))
SUPPORT_PERSON_LIMIT = FormLimit(attempts=60, window=timedelta(minutes=10))
_SUPPORTS = table_of(ProposalSupport)
_PROPOSALS = table_of(Proposal)
# The hot statements are built once, with bound parameters (building a statement and its
# cache key anew for every support was a tenth of the request, docs/performance.md).
_ADDING = (
    update(_PROPOSALS)
    .where(_PROPOSALS.c.id == bindparam("proposal_id"))
    .values(supports=_PROPOSALS.c.supports + bindparam("delta", type_=Integer))
    .returning(_PROPOSALS.c.supports)
)


@lru_cache(maxsize=4)  # one per database dialect
def _inserting(dialect: str) -> Any:
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    return (
        insert(_SUPPORTS)
        .values(
            proposal_id=bindparam("proposal_id"),
            call_id=bindparam("call_id"),
            supporter_key=bindparam("supporter_key"),
        )
        .on_conflict_do_nothing(index_elements=["proposal_id", "supporter_key"])
        .returning(_SUPPORTS.c.id)
    )


def _between_check_and_write(session: Session) -> None:
    """Test hook of the negative control (see the module docstring); does nothing."""


@dataclass(frozen=True)
class Supported:
    #: False when this person already supported it (nothing changed).
    counted: bool
    #: The proposal's supports now.
    supports: int
    #: Budget units the person has left in the call.
    remaining: int


class SupportService:
    def __init__(self, session: Session, *, lock: bool = True) -> None:
        self.session = session
        self.lock = lock

    def support(self, proposal: Proposal, person: Person, *, client: str = "") -> Supported:
        """``person`` supports ``proposal``; see the module docstring. Raises ``Conflict``:
        ``supports_closed``, ``proposal_not_supportable``, ``own_proposal``,
        ``not_eligible_ticket`` / ``not_eligible_checked_in``, ``budget_spent``."""
        call = proposal.call
        self._require_may_support(call, proposal, person)
        require_within_limit(self.session, "support", SUPPORT_CLIENT_LIMIT, client=client)
        require_within_limit(self.session, "support", SUPPORT_PERSON_LIMIT, person=person.key)
        if not self._insert(proposal, call, person):
            return Supported(False, self._count(proposal), self.remaining(call, person))
        used = call_allowances.take(
            self.session,
            call.id,
            person.key,
            Allowance.SUPPORTS,
            call.support_budget,
            lock=self.lock,
        )
        if used is None:
            raise Conflict("budget_spent")  # the caller's rollback takes the row back too
        supports = self._add(proposal, +1)
        if call.threshold is not None and supports == call.threshold and proposal.ready_at is None:
            proposal.ready_at = utcnow()
            self.session.flush()
            log_change(self.session, proposal, "threshold_reached", supports=supports)
        return Supported(True, supports, call.support_budget - used)

    def ask_by_mail(
        self,
        proposal: Proposal,
        community: Community,
        email: str,
        *,
        locale: str,
        client: str = "",
        trap: str = "",
    ) -> None:
        """Someone not yet proven typed their address to support: mail the link that
        confirms it and gives the support (events/services/confirmations.py). A filled
        honeypot ``trap`` does nothing, silently."""
        email = clean_email("email", email)
        if trap.strip():
            return
        require_supporting_open(proposal.call, utcnow())
        require_supportable(proposal)
        require_within_limit(self.session, "support", SUPPORT_CLIENT_LIMIT, client=client)
        require_within_limit(self.session, "support", SUPPORT_PERSON_LIMIT, person=email)
        identity.request_confirmation(
            self.session,
            community,
            email,
            "support",
            {"proposal_id": proposal.id.hex},
            locale=locale,
            context={"title": proposal.title},
        )

    def withdraw(self, proposal: Proposal, person: Person) -> Supported:
        """``person`` takes their support back (while the window is open): the unit goes
        back to their budget. Nothing happens if they had not supported it."""
        call = proposal.call
        require_supporting_open(call, utcnow())
        removed = self.session.execute(
            delete(_SUPPORTS)
            .where(_SUPPORTS.c.proposal_id == proposal.id, _SUPPORTS.c.supporter_key == person.key)
            .returning(_SUPPORTS.c.id)
        ).first()
        if removed is None:
            return Supported(False, self._count(proposal), self.remaining(call, person))
        call_allowances.give_back(self.session, call.id, [person.key], Allowance.SUPPORTS)
        supports = self._add(proposal, -1)
        return Supported(True, supports, self.remaining(call, person))

    # -- reading ---------------------------------------------------------------------
    def remaining(self, call: ProposalCall, person: Person) -> int:
        used = call_allowances.used(self.session, call.id, person.key, Allowance.SUPPORTS)
        return max(call.support_budget - used, 0)

    def supported_by(self, call: ProposalCall, person: Person) -> set[UUID]:
        """The proposals of ``call`` that ``person`` supports."""
        return set(
            self.session.scalars(
                select(ProposalSupport.proposal_id).where(
                    ProposalSupport.call_id == call.id, ProposalSupport.supporter_key == person.key
                )
            )
        )

    def may_support(self, call: ProposalCall, person: Person) -> str | None:
        """Why ``person`` may not support in ``call`` (a ``Conflict`` code), or None."""
        if call.supporters == Supporters.CONFIRMED_EMAIL.value:
            return None
        standing = identity.standing(self.session, person)
        if call.supporters == Supporters.TICKET_HOLDERS.value and not standing.ticket_holder:
            return "not_eligible_ticket"
        if call.supporters == Supporters.CHECKED_IN.value and not standing.checked_in:
            return "not_eligible_checked_in"
        return None

    # -- internals -------------------------------------------------------------------
    def _require_may_support(self, call: ProposalCall, proposal: Proposal, person: Person) -> None:
        require_supporting_open(call, utcnow())
        require_supportable(proposal)
        if moderation.is_hidden(self.session, PROPOSAL, proposal.id):
            raise Conflict("proposal_not_supportable")
        if person.community_id != call.community_id:
            raise Conflict("not_eligible")
        if proposal.proposer_key == person.key:
            raise Conflict("own_proposal")  # collaboration, not competition
        reason = self.may_support(call, person)
        if reason is not None:
            raise Conflict(reason)

    def _insert(self, proposal: Proposal, call: ProposalCall, person: Person) -> bool:
        """Write the support; False when this person's support was there already."""
        values = {"proposal_id": proposal.id, "call_id": call.id, "supporter_key": person.key}
        if not self.lock:  # the negative control: look, wait, then insert blindly
            earlier = self.session.scalar(
                select(_SUPPORTS.c.id).where(
                    _SUPPORTS.c.proposal_id == proposal.id,
                    _SUPPORTS.c.supporter_key == person.key,
                )
            )
            _between_check_and_write(self.session)
            if earlier is not None:
                return False
            self.session.execute(insert(_SUPPORTS).values(**values))
            return True
        statement = _inserting(self.session.get_bind().dialect.name)
        return self.session.execute(statement, values).first() is not None

    def _add(self, proposal: Proposal, delta: int) -> int:
        """``supports += delta`` in one statement, returning the new count."""
        if not self.lock:  # the negative control: read, then write what was read plus one
            count = self._count(proposal)
            _between_check_and_write(self.session)
            self.session.execute(
                update(_PROPOSALS)
                .where(_PROPOSALS.c.id == proposal.id)
                .values(supports=count + delta)
            )
            set_committed_value(proposal, "supports", count + delta)
            return count + delta
        supports = self.session.execute(
            _ADDING, {"proposal_id": proposal.id, "delta": delta}
        ).scalar_one()
        # Keep the loaded object in step, without a write of its own at the next flush.
        set_committed_value(proposal, "supports", int(supports))
        return int(supports)

    def _count(self, proposal: Proposal) -> int:
        return int(
            self.session.execute(
                select(_PROPOSALS.c.supports).where(_PROPOSALS.c.id == proposal.id)
            ).scalar_one()
        )
