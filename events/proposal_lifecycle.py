"""When things may happen to a call for proposals and its proposals: one predicate per
question, like events/lifecycle.py for events.

Boundaries (the same convention as events): a window is open from its opening instant
included to its closing instant excluded.

- **proposing open** (``proposing_open``): ``opens_at <= now < closes_at``. A proposal
  submitted in time may still be confirmed after the close.
- **supporting open** (``supporting_open``): ``supports_open_at <= now <
  supports_close_at`` (a separate window, which may overlap). Giving and withdrawing a
  support need it.
- **statuses**: ``submitted`` is invisible (address not confirmed); every other status is
  public, with its trail. Supports go to ``published`` and ``under_discussion`` proposals
  only. The proposer edits until the organisers answer (accepted, declined) and withdraws
  until it became something or ended (declined, merged, withdrawn).
- **organisers' answers** follow :data:`ORGANISER_MOVES`: they may change their mind
  between under discussion, accepted and declined; merged and withdrawn are final, and a
  merge happens only with both proposers' consent (events/services/proposal_merges.py).

Each ``require_*`` raises the ``Conflict`` code the pages translate (web/messages.py).
"""

from __future__ import annotations

from datetime import datetime

from events.errors import Conflict
from events.models import Proposal, ProposalCall, ProposalStatus

P = ProposalStatus
#: Everyone sees these (with the status trail); ``submitted`` only its proposer.
PUBLIC_STATUSES = frozenset(status for status in P if status is not P.SUBMITTED)
SUPPORTABLE = frozenset({P.PUBLISHED, P.UNDER_DISCUSSION})
#: The proposer's private page opens once the address is confirmed (the proposal is
#: published then): before that there is nothing to edit or withdraw, and an
#: unconfirmed proposal is deleted when its confirmation link expires.
EDITABLE = frozenset({P.PUBLISHED, P.UNDER_DISCUSSION})
WITHDRAWABLE = frozenset({P.PUBLISHED, P.UNDER_DISCUSSION, P.ACCEPTED})
#: Can be merged (into another, or take another in).
MERGEABLE = frozenset({P.PUBLISHED, P.UNDER_DISCUSSION, P.ACCEPTED})
#: The proposer can post updates while it is alive.
UPDATABLE = frozenset({P.PUBLISHED, P.UNDER_DISCUSSION, P.ACCEPTED})
#: Where organisers may move a proposal from each status (an answer).
ORGANISER_MOVES: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    P.PUBLISHED: frozenset({P.UNDER_DISCUSSION, P.ACCEPTED, P.DECLINED}),
    P.UNDER_DISCUSSION: frozenset({P.ACCEPTED, P.DECLINED}),
    P.ACCEPTED: frozenset({P.UNDER_DISCUSSION, P.DECLINED}),
    P.DECLINED: frozenset({P.UNDER_DISCUSSION, P.ACCEPTED}),
}
#: The statuses an organiser's answer may give.
ANSWERS = frozenset({P.UNDER_DISCUSSION, P.ACCEPTED, P.DECLINED})


def status_of(proposal: Proposal) -> ProposalStatus:
    return ProposalStatus(proposal.status)


def proposing_open(call: ProposalCall, now: datetime) -> bool:
    return call.opens_at <= now < call.closes_at


def require_proposing_open(call: ProposalCall, now: datetime) -> None:
    if not proposing_open(call, now):
        raise Conflict("call_closed")


def supporting_open(call: ProposalCall, now: datetime) -> bool:
    return call.supports_open_at <= now < call.supports_close_at


def require_supporting_open(call: ProposalCall, now: datetime) -> None:
    if not supporting_open(call, now):
        raise Conflict("supports_closed")


def is_public(proposal: Proposal) -> bool:
    return status_of(proposal) in PUBLIC_STATUSES


def supportable(proposal: Proposal) -> bool:
    return status_of(proposal) in SUPPORTABLE


def require_supportable(proposal: Proposal) -> None:
    if not supportable(proposal):
        raise Conflict("proposal_not_supportable")


def editable(proposal: Proposal) -> bool:
    return status_of(proposal) in EDITABLE


def require_editable(proposal: Proposal) -> None:
    if not editable(proposal):
        raise Conflict("proposal_answered")


def withdrawable(proposal: Proposal) -> bool:
    if proposal.became_event_id is not None:
        return False  # it is on a programme now: the organisers take it off, not the form
    return status_of(proposal) in WITHDRAWABLE


def require_withdrawable(proposal: Proposal) -> None:
    if not withdrawable(proposal):
        raise Conflict("proposal_not_withdrawable")


def require_answer_allowed(proposal: Proposal, to: ProposalStatus) -> None:
    """An organiser may move ``proposal`` to ``to`` (the same status again is allowed:
    a new reason for the same answer)."""
    current = status_of(proposal)
    if to not in ANSWERS or (to is not current and to not in ORGANISER_MOVES.get(current, ())):
        raise Conflict("answer_not_allowed")


def require_mergeable(proposal: Proposal) -> None:
    if status_of(proposal) not in MERGEABLE:
        raise Conflict("proposal_not_mergeable")


def require_updatable(proposal: Proposal) -> None:
    if status_of(proposal) not in UPDATABLE:
        raise Conflict("proposal_not_updatable")
