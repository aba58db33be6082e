"""Organisers' moderation decisions, and telling each thing's owner, whatever its kind.

events/services/moderation.py records reports and decisions for any kind of thing; what a
decision means to the thing's owner (a mail, a line in its trail) is its feature's
business. This module is where the moderation queue's decisions reach them: one teller
per kind (:data:`TELLERS`). A feature that can be reported adds its kind here.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from sqlalchemy.orm import Session

from events.models import Community, ModerationCase, Proposal
from events.services import moderation
from events.services.proposal_records import PROPOSAL
from events.services.proposals import ProposalService

Teller = Callable[[Session, ModerationCase, str, UUID | None], None]


def _tell_proposer(
    session: Session, case: ModerationCase, action: str, actor_id: UUID | None
) -> None:
    proposal = session.get(Proposal, case.subject_id)
    if proposal is not None:
        ProposalService(session, actor_id=actor_id).tell_moderated(proposal, action, case.reason)


TELLERS: dict[str, Teller] = {PROPOSAL: _tell_proposer}


def decide(
    session: Session,
    community: Community,
    case_id: UUID,
    *,
    hide: bool,
    reason: str,
    actor_id: UUID | None,
) -> ModerationCase:
    """Hide or restore the thing of ``case_id`` (of ``community``), with a reason; its
    owner is told."""
    case = moderation.in_community(session, community, case_id)
    if hide:
        moderation.hide_case(session, case, reason=reason, actor_id=actor_id)
    else:
        moderation.restore(session, case, reason=reason, actor_id=actor_id)
    teller = TELLERS.get(case.subject_kind)
    if teller is not None:
        teller(session, case, "hidden" if hide else "restored", actor_id)
    return case
