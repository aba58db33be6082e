"""What the public pages of calls for proposals share (web/controllers/proposal_calls.py:
the calls and proposing; web/controllers/proposals.py: one proposal and what people do
with it): who is acting, the call and the visitor as every part of the pages shows them,
and the "check your mail" answer.

Nobody needs an account. An action that needs a person (support, follow, report, join)
uses the person this browser already proved to be (web/visitors.py); otherwise the form
asks for a ticket code (proven at once) or an address (a confirmation link is mailed,
and the action is done when it is clicked).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Redirect, Response
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import NotFound, ValidationFailed
from events.models import (
    Community,
    Proposal,
    ProposalCall,
    ProposalKind,
    ProposalStatus,
)
from events.proposal_lifecycle import PUBLIC_STATUSES, proposing_open, supporting_open
from events.services import identity
from events.services.communities import CommunityService
from events.services.identity import Person
from events.services.proposal_calls import CallService, call_path
from events.services.proposals import (
    ProposalService,
)
from events.services.supports import SupportService
from web import throttle
from web.forms import Form
from web.rendering import page, wants_fragment
from web.settings import Settings
from web.visitors import (
    recognised,
    remember,
)

#: What the "check your mail" page may say (``?what=``).
SENT = frozenset({"proposal", "support", "follow", "report", "join"})
#: Stand-in for the per-visitor CSRF field in a call page kept rendered for everyone.
CSRF_MARK = "<!--rencontres:csrf-input-->"


class PersonForm(Form):
    """Who acts, when the browser is not recognised: a ticket, or an address to confirm."""

    ticket: str = ""
    email: str = ""
    website: str = ""
    #: Where to come back to without JavaScript: the call page the form was on.
    back: str = ""


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_of(request: Request) -> str:
    return throttle.client_key(request)


def call_of(session: Session, group: str, slug: str) -> tuple[Community, ProposalCall]:
    community = CommunityService(session).by_slug(group)
    return community, CallService(session).in_community(community, slug)


def proposal_of(session: Session, group: str, slug: str, number: int) -> Proposal:
    _community, call = call_of(session, group, slug)
    return ProposalService(session).visible(call, number)


def acting(request: Request, session: Session, community: Community, ticket: str) -> Person | None:
    """The person acting: recognised in this browser, or the holder of ``ticket`` (then
    remembered); None when neither (the form asks)."""
    person = recognised(request, session, community.id)
    if person is None and ticket.strip():
        try:
            person = identity.person_of_ticket(session, community.id, ticket)
        except NotFound:
            raise ValidationFailed({"ticket": "ticket_unknown"}) from None
        remember(request, person)
    return person


def sent(request: Request, call: ProposalCall, what: str) -> Response[Any]:
    """The answer to an action waiting for a confirmation link."""
    target = f"{call_path(call)}/sent?what={what}"
    if wants_fragment(request):
        return page(request, "proposals/_sent.html", what=what, call=call)
    return Redirect(target, status_code=303)


def call_context(
    session: Session, community: Community, call: ProposalCall, person: Person | None
) -> dict[str, Any]:
    """What every part of a call's pages shows of the call and of the visitor."""
    now = utcnow()
    supports = SupportService(session)
    return {
        "community": community,
        "call": call,
        "call_url": call_path(call),
        "proposing": proposing_open(call, now),
        "supporting": supporting_open(call, now),
        "person": person,
        "supported": supports.supported_by(call, person) if person else set(),
        "remaining": supports.remaining(call, person) if person else call.support_budget,
        "not_eligible": supports.may_support(call, person) if person else None,
        "kinds": [k for k in ProposalKind if k.value in call.kinds],
        "statuses": [s for s in ProposalStatus if s in PUBLIC_STATUSES],
    }
