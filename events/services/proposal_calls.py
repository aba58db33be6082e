"""Calls for proposals: organisers open one on a community, a series or one event.

A call says what it accepts (kinds), when people may propose and when they may support
(two windows, which may overlap), who may support (anyone with a confirmed address, the
ticket holders of the community's events, or people let in at least once), each person's
support budget and number of proposals, an optional threshold ("ready for the
organisers"), whether support counts are public, and how its page orders proposals
(random per visitor unless the organisers ask for a ranking). Dates are typed in the
community's time zone. Rules of proposing and supporting: events/proposal_lifecycle.py,
events/services/proposals.py, events/services/supports.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, bindparam, or_, select
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from events.clock import utcnow
from events.errors import NotFound
from events.models import (
    CallOrder,
    Community,
    Event,
    ProposalCall,
    ProposalKind,
    Series,
    Supporters,
)
from events.recurrence import localise
from events.services.slugs import available_slug
from events.text import render_markdown
from events.validation import FieldErrors, clean_text, is_checked, parse_int, parse_local_datetime

MAX_BUDGET = 100
MAX_PROPOSALS_PER_PERSON = 50
MAX_THRESHOLD = 100_000
DESCRIPTION_MAX_LENGTH = 20_000


@dataclass
class CallInput:
    """What an organiser submits (strings, as forms send them; ``kinds`` a list)."""

    title: str = ""
    description: str = ""
    kinds: list[str] = field(default_factory=list)
    opens_local: str = ""
    closes_local: str = ""
    #: Blank: the same as the proposing window.
    supports_open_local: str = ""
    supports_close_local: str = ""
    supporters: str = Supporters.CONFIRMED_EMAIL.value
    support_budget: str = "5"
    threshold: str = ""
    proposals_per_person: str = "3"
    public_counts: str | bool = "on"
    order: str = CallOrder.RANDOM.value
    #: The call's scope: a series or an event of the community (slugs), else the community.
    series: str = ""
    event: str = ""


def call_path(call: ProposalCall) -> str:
    """The call's public page (site-relative)."""
    return f"/g/{call.community.slug}/proposals/{call.slug}"


# The community is the caller's: not joined again, but given (in_community).
_IN_COMMUNITY = (
    select(ProposalCall)
    .where(
        ProposalCall.community_id == bindparam("community_id"),
        ProposalCall.slug == bindparam("slug"),
    )
    .options(lazyload(ProposalCall.community))
)


class CallService:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- reading ---------------------------------------------------------------------
    def in_community(self, community: Community, slug: str) -> ProposalCall:
        found = self.session.scalar(
            _IN_COMMUNITY, {"community_id": community.id, "slug": slug[:80]}
        )
        if found is None:
            raise NotFound()
        if "community" not in found.__dict__:  # not loaded yet: it is ``community``
            set_committed_value(found, "community", community)
        return found

    def of_community(self, community: Community) -> list[ProposalCall]:
        """Every call of the community, the most recently opened first."""
        return list(
            self.session.scalars(
                select(ProposalCall)
                .where(ProposalCall.community_id == community.id)
                .order_by(ProposalCall.opens_at.desc(), ProposalCall.id)
            )
        )

    def current_for(
        self,
        community: Community,
        *,
        series_id: UUID | None = None,
        event_id: UUID | None = None,
        all_scopes: bool = False,
        now: datetime | None = None,
    ) -> list[ProposalCall]:
        """The calls a page of the community, series or event links to: those open to
        proposals or supports now or soon; for a series or an event, its own calls and the
        community's (unscoped) ones; ``all_scopes`` for the community's page."""
        now = now or utcnow()
        query = select(ProposalCall).where(
            ProposalCall.community_id == community.id,
            or_(ProposalCall.closes_at > now, ProposalCall.supports_close_at > now),
        )
        if not all_scopes:
            scopes: list[ColumnElement[bool]] = [
                ProposalCall.series_id.is_(None) & ProposalCall.event_id.is_(None)
            ]
            if series_id is not None:
                scopes.append(ProposalCall.series_id == series_id)
            if event_id is not None:
                scopes.append(ProposalCall.event_id == event_id)
            query = query.where(or_(*scopes))
        return list(self.session.scalars(query.order_by(ProposalCall.opens_at)))

    # -- writing ---------------------------------------------------------------------
    def _clean(self, community: Community, data: CallInput) -> dict[str, object]:
        errors = FieldErrors()
        zone = community.timezone
        title = errors.check(clean_text, "title", data.title, max_length=200)
        description = errors.check(
            clean_text,
            "description",
            data.description,
            max_length=DESCRIPTION_MAX_LENGTH,
            required=False,
            multiline=True,
        )
        known = {kind.value for kind in ProposalKind}
        kinds = [kind for kind in ProposalKind if kind.value in set(data.kinds)]
        if any(kind not in known for kind in data.kinds):
            errors.add("kinds", "invalid_choice")
        elif not kinds:
            errors.add("kinds", "required")

        def moment(name: str, value: str, *, required: bool = True) -> datetime | None:
            if not required and not (value or "").strip():
                return None
            wall = errors.check(parse_local_datetime, name, value)
            return localise(wall, zone)[0] if wall is not None else None

        opens = moment("opens_local", data.opens_local)
        closes = moment("closes_local", data.closes_local)
        supports_open = moment("supports_open_local", data.supports_open_local, required=False)
        supports_close = moment("supports_close_local", data.supports_close_local, required=False)
        if opens and closes and closes <= opens:
            errors.add("closes_local", "ends_before_start")
        supports_open = supports_open or opens
        supports_close = supports_close or closes
        if supports_open and supports_close and supports_close <= supports_open:
            errors.add("supports_close_local", "ends_before_start")
        supporters = (data.supporters or "").strip()
        if supporters not in {s.value for s in Supporters}:
            errors.add("supporters", "invalid_choice")
        order = (data.order or "").strip()
        if order not in {o.value for o in CallOrder}:
            errors.add("order", "invalid_choice")
        budget = errors.check(
            parse_int, "support_budget", data.support_budget, minimum=1, maximum=MAX_BUDGET,
            required=True,
        )  # fmt: skip
        per_person = errors.check(
            parse_int,
            "proposals_per_person",
            data.proposals_per_person,
            minimum=1,
            maximum=MAX_PROPOSALS_PER_PERSON,
            required=True,
        )
        threshold = errors.check(
            parse_int, "threshold", data.threshold, minimum=1, maximum=MAX_THRESHOLD
        )
        series_id = self._scope(Series, "series", data.series, community, errors)
        event_id = self._scope(Event, "event", data.event, community, errors)
        if series_id and event_id:
            errors.add("event", "one_scope_only")
        errors.raise_if_any()
        return {
            "title": title,
            "description": description,
            "description_html": render_markdown(description),
            "kinds": [kind.value for kind in kinds],
            "opens_at": opens,
            "closes_at": closes,
            "supports_open_at": supports_open,
            "supports_close_at": supports_close,
            "supporters": supporters,
            "support_budget": budget,
            "threshold": threshold,
            "proposals_per_person": per_person,
            "public_counts": is_checked(data.public_counts),
            "order": order,
            "series_id": series_id,
            "event_id": event_id,
        }

    def _scope(
        self,
        model: type[Series] | type[Event],
        name: str,
        slug: str,
        community: Community,
        errors: FieldErrors,
    ) -> UUID | None:
        """The id of the community's series or event named ``slug`` ("": none)."""
        slug = (slug or "").strip()[:120]
        if not slug:
            return None
        found = self.session.scalar(
            select(model.id).where(model.slug == slug, model.community_id == community.id)
        )
        if found is None:
            errors.add(name, "invalid_choice")
        return found

    def create(self, community: Community, data: CallInput) -> ProposalCall:
        """Open a call (raises ``ValidationFailed`` with every field's error at once)."""
        values = self._clean(community, data)
        call = ProposalCall(community_id=community.id, proposals_made=0, **values)
        call.slug = available_slug(
            self.session, ProposalCall.slug, str(values["title"]), fallback="call", max_length=80
        )
        call.community = community
        self.session.add(call)
        self.session.flush()
        return call

    def update(self, call: ProposalCall, data: CallInput) -> ProposalCall:
        """Change a call; its address (slug) stays, and its proposals with it."""
        values = self._clean(call.community, data)
        for name, value in values.items():
            setattr(call, name, value)
        self.session.flush()
        return call

    def input_of(self, call: ProposalCall) -> CallInput:
        """The form's values for an existing call (dates in the community's zone)."""
        zone = ZoneInfo(call.community.timezone)

        def local(moment: datetime) -> str:
            return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")

        series = self.session.get(Series, call.series_id) if call.series_id else None
        event = self.session.get(Event, call.event_id) if call.event_id else None
        return CallInput(
            title=call.title,
            description=call.description,
            kinds=list(call.kinds),
            opens_local=local(call.opens_at),
            closes_local=local(call.closes_at),
            supports_open_local=local(call.supports_open_at),
            supports_close_local=local(call.supports_close_at),
            supporters=call.supporters,
            support_budget=str(call.support_budget),
            threshold="" if call.threshold is None else str(call.threshold),
            proposals_per_person=str(call.proposals_per_person),
            public_counts="on" if call.public_counts else "",
            order=call.order,
            series=series.slug if series else "",
            event=event.slug if event else "",
        )
