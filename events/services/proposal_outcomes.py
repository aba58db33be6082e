"""What an accepted proposal becomes: a session of an event's programme, a new draft
event, or an occurrence of a series.

Organisers start from a form prefilled from the proposal (:func:`session_input`,
:func:`event_input`) and may change anything before saving; saving uses the programme's
and the events' own use cases (their rules apply unchanged), then links the proposal to
what it became, logs it in the public trail, and tells its proposers and followers. A
proposal becomes one thing: once linked, it stays linked (the event or session may be
edited or deleted on its own; a deleted one unlinks by its foreign key).
"""

from __future__ import annotations

from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from events.errors import Conflict, NotFound
from events.models import Event, EventStatus, Proposal, ProposalStatus
from events.proposal_lifecycle import status_of
from events.services.events import EventInput, EventService
from events.services.programme import ProgrammeInput, ProgrammeService
from events.services.proposal_records import log_change, tell_followers, tell_proposers
from events.services.proposals import ProposalService

DEFAULT_DURATION_MINUTES = 120


def _require_accepted(proposal: Proposal) -> None:
    if status_of(proposal) is not ProposalStatus.ACCEPTED:
        raise Conflict("not_accepted")
    if proposal.became_event_id is not None:
        raise Conflict("already_became")


def session_input(session: Session, proposal: Proposal) -> ProgrammeInput:
    """A programme session prefilled from the proposal: its title, the names its people
    agreed to show, its text."""
    names = ProposalService(session).named_people(proposal)
    return ProgrammeInput(
        title=proposal.title[:200],
        speakers=", ".join(names)[:300],
        description=proposal.body_text[:2000],
    )


def event_input(proposal: Proposal, occurrence: Event | None = None) -> EventInput:
    """An event prefilled from the proposal: an occurrence keeps its date, place and
    settings and takes the proposal's title and text; a new event has no date yet."""
    if occurrence is None:
        return EventInput(title=proposal.title, description=proposal.body)
    zone = ZoneInfo(occurrence.timezone)
    return EventInput(
        title=proposal.title,
        description=proposal.body,
        starts_local=occurrence.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        ends_local=occurrence.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        timezone=occurrence.timezone,
        venue_id=str(occurrence.venue_id or ""),
        online_url=occurrence.online_url,
        capacity="" if occurrence.capacity is None else str(occurrence.capacity),
        tags=", ".join(tag.name for tag in occurrence.tags),
        cover_color=occurrence.cover_color,
    )


def as_session(
    session: Session,
    proposal: Proposal,
    event: Event,
    data: ProgrammeInput,
    *,
    actor_id: UUID | None,
) -> None:
    """The accepted proposal becomes a session of ``event`` (of its community)."""
    _require_accepted(proposal)
    if event.community_id != proposal.community_id:
        raise NotFound()
    item = ProgrammeService(session).add(event, data)
    proposal.became_event_id, proposal.became_item_id = event.id, item.id
    _record(session, proposal, "session", event, actor_id)


def as_event(
    session: Session,
    proposal: Proposal,
    data: EventInput,
    *,
    occurrence: Event | None = None,
    actor_id: UUID | None,
) -> Event:
    """The accepted proposal becomes a new draft event, or ``occurrence`` (an event of a
    series of its community) is edited into it ("this one only")."""
    _require_accepted(proposal)
    community = proposal.call.community
    events = EventService(session)
    if occurrence is None:
        event = events.create(community, data)
    else:
        if occurrence.community_id != proposal.community_id or occurrence.series_id is None:
            raise NotFound()
        event = events.update(occurrence, data)
    proposal.became_event_id = event.id
    _record(session, proposal, "occurrence" if occurrence else "event", event, actor_id)
    return event


def _record(
    session: Session, proposal: Proposal, what: str, event: Event, actor_id: UUID | None
) -> None:
    session.flush()
    log_change(session, proposal, "became", actor_id=actor_id, what=what)
    context = {"what": what, "event": event.title, "public": event.status is not EventStatus.DRAFT}
    links = {"event": f"/e/{event.slug}"}
    told = tell_proposers(session, proposal, "proposal_became", context, links)
    tell_followers(session, proposal, "proposal_became", context, leave_out=told, links=links)
