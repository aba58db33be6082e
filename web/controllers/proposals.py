"""The public side of calls for proposals (docs/proposals.md): a community's calls, a
call's page, proposing, a proposal's page, supporting, following, reporting, joining.

Nobody needs an account. An action that needs a person (support, follow, report, join)
uses the person this browser already proved to be (web/visitors.py); otherwise the form
asks for a ticket code (proven at once) or an address (a confirmation link is mailed,
and the action is done when it is clicked). Every form works without JavaScript; with
it, htmx swaps the list, the support box and the duplicate hints in place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, NotFound, RateLimited, ValidationFailed
from events.models import (
    Community,
    Event,
    ProgrammeItem,
    Proposal,
    ProposalCall,
    ProposalKind,
    ProposalStatus,
)
from events.proposal_lifecycle import PUBLIC_STATUSES, proposing_open, supporting_open
from events.services import follows, identity
from events.services.co_proposers import CoProposerService
from events.services.communities import CommunityService
from events.services.identity import Person
from events.services.moderation import REASONS
from events.services.proposal_calls import CallService, call_path
from events.services.proposal_listing import (
    ProposalCard,
    ProposalListing,
    arrange,
    paginate,
    visible_cards,
)
from events.services.proposal_records import (
    call_subject,
    private_path,
    proposal_path,
    proposal_subject,
)
from events.services.proposals import (
    DECLINE_REASONS,
    LANGUAGES,
    NEEDS,
    Outcome,
    ProposalInput,
    ProposalService,
)
from events.services.registrations import RegistrationService
from events.services.supports import SupportService
from events.text import excerpt
from web import throttle
from web.atom import ATOM_MEDIA_TYPE, new_feed, rfc3339, serialize, sub
from web.auth import Access, access
from web.forms import Form, form_list, safe_next
from web.i18n import current_locale
from web.i18n import gettext as _
from web.messages import error_message, field_errors, kind_label, proposal_status_label
from web.page_cache import PageCache, cached_html, render_to_string
from web.registration_panel import new_request_key
from web.rendering import flash, mark_for_rollback, page, wants_fragment
from web.settings import Settings
from web.visitors import (
    forget,
    knows_someone,
    order_seed,
    recognised,
    remember,
    with_cookie,
)

ATOM_ENTRIES = 50
ATOM_SUMMARY_CHARS = 600
#: What the "check your mail" page may say (``?what=``).
SENT = frozenset({"proposal", "support", "follow", "report", "join"})


class ProposeForm(Form):
    title: str = ""
    kind: str = ""
    body: str = ""
    duration: str = ""
    language: str = ""
    needs_note: str = ""
    co_proposers: str = ""
    name: str = ""
    email: str = ""
    named: str = ""
    consent: str = ""
    request_key: str = ""
    #: The honeypot (hidden from people, web/templates/macros/forms.html).
    website: str = ""

    def __post_init__(self) -> None:
        return None  # the service reports a NUL next to its field


class PersonForm(Form):
    """Who acts, when the browser is not recognised: a ticket, or an address to confirm."""

    ticket: str = ""
    email: str = ""
    website: str = ""
    #: Where to come back to without JavaScript: the call page the form was on.
    back: str = ""


class ReportForm(PersonForm):
    reason: str = ""
    note: str = ""


class JoinForm(PersonForm):
    name: str = ""
    message: str = ""
    named: str = ""


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _client(request: Request) -> str:
    return throttle.client_key(request)


def _call_of(session: Session, group: str, slug: str) -> tuple[Community, ProposalCall]:
    community = CommunityService(session).by_slug(group)
    return community, CallService(session).in_community(community, slug)


def _proposal_of(session: Session, group: str, slug: str, number: int) -> Proposal:
    _community, call = _call_of(session, group, slug)
    return ProposalService(session).visible(call, number)


def _filters(kind: str, status: str) -> tuple[str, str]:
    kind = kind if kind in {k.value for k in ProposalKind} else ""
    status = status if status in {s.value for s in PUBLIC_STATUSES} else ""
    return kind, status


def _page_number(value: str) -> int:
    return max(int(value), 1) if value.isdigit() and len(value) < 6 else 1


def _acting(request: Request, session: Session, community: Community, ticket: str) -> Person | None:
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


def call_feed(
    call: ProposalCall, community: Community, proposals: list[Proposal], base_url: str
) -> bytes:
    """The Atom document of a call (titles and texts escaped by the XML writer)."""
    feed = new_feed(current_locale.get())
    page_url = base_url.rstrip("/") + call_path(call)
    sub(feed, "id", f"urn:uuid:{call.id}")
    sub(feed, "title", call.title)
    sub(feed, "subtitle", community.name)
    newest = max((p.updated_at for p in proposals), default=call.updated_at)
    sub(feed, "updated", rfc3339(newest))
    sub(feed, "link", rel="self", type=ATOM_MEDIA_TYPE, href=f"{page_url}/feed.atom")
    sub(feed, "link", rel="alternate", type="text/html", href=page_url)
    sub(sub(feed, "author"), "name", community.name)
    sub(feed, "generator", "Rencontres")
    for proposal in proposals:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:uuid:{proposal.id}")
        title = f"{proposal.title} ({proposal_status_label(proposal.status)})"
        sub(entry, "title", title)
        sub(entry, "updated", rfc3339(proposal.updated_at))
        if proposal.published_at is not None:
            sub(entry, "published", rfc3339(proposal.published_at))
        sub(entry, "link", rel="alternate", type="text/html", href=f"{page_url}/{proposal.number}")
        sub(entry, "category", term=proposal.kind, label=kind_label(proposal.kind))
        sub(entry, "summary", excerpt(proposal.body, ATOM_SUMMARY_CHARS), type="text")
    return serialize(feed)


#: Stand-in for the per-visitor CSRF field in a call page kept rendered for everyone.
CSRF_MARK = "<!--rencontres:csrf-input-->"


#: Where a call page's cards go in its frame.
CARDS_MARK = "<!--rencontres:cards-->"


@dataclass(frozen=True)
class CallFrame:
    """A call's page but its cards, for one filter and page (see call_page)."""

    title: str
    head: str
    main: str
    #: The call's visible proposals for this filter, by number.
    cards: list[ProposalCard]
    order: str
    page: int
    #: Where forms on the cards come back to without JavaScript (this page).
    back: str
    #: What the cards are rendered with.
    context: dict[str, Any]


def _became_link(event: Event, item: ProgrammeItem | None) -> dict[str, str]:
    """What a proposal's "became ..." line links to."""
    if item is not None:
        label = _("“%(session)s” in %(event)s", session=item.title, event=event.title)
    else:
        label = event.title
    return {"url": f"/e/{event.slug}", "label": label}


def _sent(request: Request, call: ProposalCall, what: str) -> Response[Any]:
    """The answer to an action waiting for a confirmation link."""
    target = f"{call_path(call)}/sent?what={what}"
    if wants_fragment(request):
        return page(request, "proposals/_sent.html", what=what, call=call)
    return Redirect(target, status_code=303)


class ProposalsController(Controller):
    path = "/g/{group:str}/proposals"
    include_in_schema = False

    # -- a community's calls ------------------------------------------------------------
    @get("/", opt=access(Access.PUBLIC), sync_to_thread=True)
    def calls(
        self, request: Request, group: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template:
        community = CommunityService(db_session).by_slug(group)
        calls = CallService(db_session).of_community(community)
        now = utcnow()
        return page(
            request,
            "proposals/calls.html",
            community=community,
            calls=calls,
            proposing_open=lambda c: proposing_open(c, now),
            supporting_open=lambda c: supporting_open(c, now),
        )

    # -- a call's page ------------------------------------------------------------------
    @get("/{call:str}", opt=access(Access.PUBLIC), sync_to_thread=True)
    def call_page(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        db_session: NamedDependency[Session],
        kind: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page_number: FromQuery[str] = "",
    ) -> Response[Any]:
        """The call and one page of its proposals, in the visitor's order.

        For visitors nobody knows yet (no person in the session) everything but the order
        is the same for everyone, so the page is served from parts kept rendered
        (web/page_cache.py, renewed with the content version and every minute): the frame
        (the call, the filters and their counts, the pages, the visible proposals) and
        each proposal's card; a request only puts the cards in the visitor's order. Support
        counts shown there may lag by up to a minute; answers and moderation show at once
        (they stamp a new content version)."""
        kind, status = _filters(kind, status)
        seed, cookie = order_seed(request, secure=_settings(request).https)
        number = _page_number(page_number)
        fragment = wants_fragment(request)
        if knows_someone(request):  # their buttons and budget are theirs: nothing shared
            frame = self._frame(request, db_session, group, call, kind, status, number, fragment)
        else:
            key = ("call", group[:80], call[:80], kind, status, number, fragment)
            frame = cached_html(
                request,
                key,
                lambda: self._frame(
                    request, db_session, group, call, kind, status, number, fragment
                ),
            )
        shown = paginate(arrange(frame.cards, frame.order, seed), frame.page).proposals
        html = frame.main.replace(CARDS_MARK, self._cards(request, frame, shown))
        # Either way the template fills the visitor's CSRF field in.
        template = "proposals/_filled.html" if fragment else "proposals/call.html"
        response = page(request, template, frame=frame, main=html, csrf_mark=CSRF_MARK)
        return with_cookie(response, cookie)

    def _frame(
        self,
        request: Request,
        session: Session,
        group: str,
        slug: str,
        kind: str,
        status: str,
        number: int,
        fragment: bool,
    ) -> CallFrame:
        """Everything of a call's page but its cards (they go in place of CARDS_MARK)."""
        community, found = _call_of(session, group, slug)
        cards = visible_cards(session, found.id, kind=kind, status=status)
        listing = paginate(cards, number)
        number = listing.page
        person = recognised(request, session, community.id)
        query = {name: value for name, value in (("kind", kind), ("status", status)) if value}

        def page_url(number: int) -> str:
            values = {**query, "page_number": str(number)} if number > 1 else query
            return f"{call_path(found)}?{urlencode(values)}" if values else call_path(found)

        context = {
            "listing": listing,
            "kind": kind,
            "status": status,
            "counts": ProposalListing(session).status_counts(found),
            "page_url": page_url,
            "cards_mark": CARDS_MARK,
            "csrf_input": CSRF_MARK,
            **self._call_context(session, community, found, person),
        }
        template = "proposals/_list.html" if fragment else "proposals/_call_main.html"
        return CallFrame(
            title=f"{found.title} · {community.name}",
            head=render_to_string(request, "proposals/_call_head.html", **context),
            main=render_to_string(request, template, **context),
            cards=cards,
            order=found.order,
            page=number,
            back=page_url(number),
            context=context,
        )

    def _cards(self, request: Request, frame: CallFrame, cards: list[ProposalCard]) -> str:
        """The page's cards: kept rendered per proposal version for visitors nobody knows
        yet, rendered for a known person (their supports and budget show on them)."""
        context = frame.context
        template = request.app.template_engine.get_template("proposals/_card.html")

        def render(card: ProposalCard) -> str:
            return template.render(item=card, back=frame.back, **context)

        if context["person"] is not None:
            return "".join(render(card) for card in cards)
        store: PageCache = request.app.state.card_cache
        shared = (context["supporting"], context["call"].public_counts, frame.back)
        language = current_locale.get()
        return "".join(
            store.get_or_render(
                (card.id, card.updated_at, card.supports, card.status, *shared, language),
                lambda card=card: render(card),  # type: ignore[misc]
            )
            for card in cards
        )

    def _call_context(
        self, session: Session, community: Community, call: ProposalCall, person: Person | None
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

    @post("/{call:str}/identify", opt=access(Access.PUBLIC), sync_to_thread=True)
    def identify(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        data: URLEncodedBody[PersonForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        """ "I have a ticket": this browser takes part as its holder (no mail needed)."""
        community, found = _call_of(db_session, group, call)
        try:
            if _acting(request, db_session, community, data.ticket) is None:
                raise ValidationFailed({"ticket": "required"})
        except ValidationFailed as failed:
            flash(request, field_errors(failed.errors)["ticket"], "error")
        else:
            flash(request, _("You take part with your ticket."))
        return Redirect(call_path(found), status_code=303)

    @post("/{call:str}/forget", opt=access(Access.PUBLIC), sync_to_thread=True)
    def forget_me(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        """This browser stops acting as the person it proved to be (a shared computer)."""
        community, found = _call_of(db_session, group, call)
        forget(request, community.id)
        flash(request, _("This browser no longer knows who you are."))
        return Redirect(call_path(found), status_code=303)

    @get(
        "/{call:str}/feed.atom",
        opt={**access(Access.PUBLIC), "exclude_from_csrf": True},
        sync_to_thread=True,
    )
    def feed(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        db_session: NamedDependency[Session],
    ) -> Response[bytes]:
        """The call's proposals as Atom: the most recently changed visible ones."""
        community, found = _call_of(db_session, group, call)
        settings = _settings(request)
        proposals = ProposalListing(db_session).recently_changed(found, limit=ATOM_ENTRIES)
        body = call_feed(found, community, proposals, settings.absolute_url(""))
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"etag": etag, "cache-control": "public, max-age=300", "vary": "Accept-Language"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(b"", status_code=304, headers=headers)
        return Response(body, media_type=ATOM_MEDIA_TYPE, headers=headers)

    @get("/{call:str}/similar", opt=access(Access.PUBLIC), sync_to_thread=True)
    def similar(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        db_session: NamedDependency[Session],
        title: FromQuery[str] = "",
    ) -> Template:
        """Proposals with a title like the one being typed (an htmx fragment)."""
        _community, found = _call_of(db_session, group, call)
        similar = ProposalListing(db_session).similar(found, title[:300])
        return page(request, "proposals/_similar.html", similar=similar, call_url=call_path(found))

    # -- proposing ----------------------------------------------------------------------
    def _form(
        self,
        request: Request,
        session: Session,
        community: Community,
        call: ProposalCall,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        person = recognised(request, session, community.id)
        return page(
            request,
            "proposals/propose.html",
            status_code=status_code,
            community=community,
            call=call,
            call_url=call_path(call),
            proposing=proposing_open(call, utcnow()),
            person=person,
            kinds=[k for k in ProposalKind if k.value in call.kinds],
            languages=LANGUAGES,
            needs=NEEDS,
            values=values or {"request_key": new_request_key()},
            errors=errors or {},
        )

    @get("/{call:str}/new", opt=access(Access.PUBLIC), sync_to_thread=True)
    def propose_form(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        db_session: NamedDependency[Session],
    ) -> Template:
        community, found = _call_of(db_session, group, call)
        return self._form(request, db_session, community, found)

    @post(
        "/{call:str}",
        opt=access(Access.PUBLIC),
        sync_to_thread=True,
        dependencies={"needs": Provide(form_list("needs"))},
    )
    def propose(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        data: URLEncodedBody[ProposeForm],
        needs: NamedDependency[list[str]],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        community, found = _call_of(db_session, group, call)
        person = recognised(request, db_session, community.id)
        values = {**msgspec.structs.asdict(data), "needs": needs}
        form = ProposalInput(
            title=data.title,
            kind=data.kind,
            body=data.body,
            duration=data.duration,
            language=data.language,
            needs=needs,
            needs_note=data.needs_note,
            co_proposers=data.co_proposers,
            name=data.name,
            email=data.email,
            named=data.named,
            consent=data.consent,
            locale=current_locale.get(),
            request_key=data.request_key,
            client=_client(request),
            trap=data.website,
        )
        try:
            result = ProposalService(db_session).propose(found, form, person=person)
        except ValidationFailed as failed:
            return self._form(
                request,
                db_session,
                community,
                found,
                values=values,
                errors=field_errors(failed.errors),
                status_code=400,
            )
        except (Conflict, RateLimited) as refused:
            return self._form(
                request,
                db_session,
                community,
                found,
                values=values,
                errors={"form": error_message(refused.code)},
                status_code=429 if isinstance(refused, RateLimited) else 409,
            )
        if result.outcome is Outcome.PUBLISHED and result.proposer is not None:
            flash(request, _("Your proposal is published. This is its private page."))
            return Redirect(
                private_path(db_session, result.proposer, community.id), status_code=303
            )
        replayed = result.proposal if result.outcome is Outcome.REPLAYED else None
        if replayed is not None and replayed.status != ProposalStatus.SUBMITTED.value:
            return Redirect(proposal_path(replayed), status_code=303)
        return _sent(request, found, "proposal")

    @get("/{call:str}/sent", opt=access(Access.PUBLIC), sync_to_thread=True)
    def sent(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        db_session: NamedDependency[Session],
        what: FromQuery[str] = "",
    ) -> Response[Any]:
        _community, found = _call_of(db_session, group, call)
        if what not in SENT:
            return Redirect(call_path(found), status_code=303)
        return page(request, "proposals/sent.html", what=what, call=found)

    # -- one proposal -------------------------------------------------------------------
    def _proposal_page(
        self,
        request: Request,
        session: Session,
        proposal: Proposal,
        *,
        form: str = "",
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        community = session.get(Community, proposal.community_id)
        assert community is not None
        person = recognised(request, session, community.id)
        service = ProposalService(session)
        became = service.became(proposal)
        return page(
            request,
            "proposals/proposal.html",
            status_code=status_code,
            proposal=proposal,
            became=_became_link(*became) if became else None,
            merged_into=service.merged_into(proposal),
            names=service.named_people(proposal),
            trail=service.trail(proposal),
            updates=service.updates(proposal),
            proposal_url=proposal_path(proposal),
            following=person is not None
            and follows.is_following(session, proposal_subject(proposal), person),
            decline_reasons=DECLINE_REASONS,
            report_reasons=REASONS,
            open_form=form,
            values=values or {},
            errors=errors or {},
            **self._call_context(session, community, proposal.call, person),
        )

    @get("/{call:str}/{number:int}", opt=access(Access.PUBLIC), sync_to_thread=True)
    def proposal(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        db_session: NamedDependency[Session],
    ) -> Template:
        return self._proposal_page(
            request, db_session, _proposal_of(db_session, group, call, number)
        )

    def _refused(
        self,
        request: Request,
        session: Session,
        proposal: Proposal,
        form: str,
        values: dict[str, Any],
        error: ValidationFailed | Conflict | RateLimited,
    ) -> Response[Any]:
        """The proposal page again with what was wrong next to the form (nothing kept)."""
        if isinstance(error, RateLimited) and not wants_fragment(request):
            raise TooManyRequestsException(headers={"Retry-After": "600"})
        if isinstance(error, ValidationFailed):
            errors, status_code = field_errors(error.errors), 400
        else:
            errors, status_code = {"form": error_message(error.code)}, 409
        mark_for_rollback(request)
        if wants_fragment(request) and form == "support":
            return self._support_box(request, session, proposal, errors=errors, status_code=200)
        return self._proposal_page(
            request,
            session,
            proposal,
            form=form,
            values=values,
            errors=errors,
            status_code=status_code,
        )

    def _support_box(
        self,
        request: Request,
        session: Session,
        proposal: Proposal,
        *,
        errors: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Template:
        community = session.get(Community, proposal.community_id)
        assert community is not None
        person = recognised(request, session, community.id)
        return page(
            request,
            "proposals/_support.html",
            status_code=status_code,
            proposal=proposal,
            errors=errors or {},
            notice=notice,
            asking=person is None,
            **self._call_context(session, community, proposal.call, person),
        )

    @post("/{call:str}/{number:int}/support", opt=access(Access.PUBLIC), sync_to_thread=True)
    def support(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[PersonForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        proposal = _proposal_of(db_session, group, call, number)
        values = msgspec.structs.asdict(data)
        supports = SupportService(db_session)
        try:
            person = _acting(request, db_session, proposal.call.community, data.ticket)
            if person is None and not (data.email or data.website):
                return self._ask_who(request, db_session, proposal, "support")
            if person is None:
                supports.ask_by_mail(
                    proposal,
                    proposal.call.community,
                    data.email,
                    locale=current_locale.get(),
                    client=_client(request),
                    trap=data.website,
                )
                return _sent(request, proposal.call, "support")
            supports.support(proposal, person, client=_client(request))
        except (ValidationFailed, Conflict, RateLimited) as error:
            return self._refused(request, db_session, proposal, "support", values, error)
        return self._after_support(
            request, db_session, proposal, _("Your support is counted."), data.back
        )

    @post("/{call:str}/{number:int}/unsupport", opt=access(Access.PUBLIC), sync_to_thread=True)
    def unsupport(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[PersonForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        proposal = _proposal_of(db_session, group, call, number)
        person = recognised(request, db_session, proposal.community_id)
        if person is None:
            return self._ask_who(request, db_session, proposal, "support")
        try:
            SupportService(db_session).withdraw(proposal, person)
        except Conflict as error:
            return self._refused(request, db_session, proposal, "support", {}, error)
        return self._after_support(
            request, db_session, proposal, _("Your support is taken back."), data.back
        )

    def _after_support(
        self, request: Request, session: Session, proposal: Proposal, notice: str, back: str
    ) -> Response[Any]:
        if wants_fragment(request):
            return self._support_box(request, session, proposal, notice=notice)
        flash(request, notice)
        # Back to the call page (with its filters) when the support was given from its list.
        target = safe_next(back, proposal_path(proposal))
        if not target.startswith(call_path(proposal.call)):
            target = proposal_path(proposal)
        return Redirect(target, status_code=303)

    def _ask_who(
        self, request: Request, session: Session, proposal: Proposal, action: str
    ) -> Response[Any]:
        """The visitor is not recognised: ask for a ticket or an address."""
        if wants_fragment(request) and action == "support":
            return self._support_box(request, session, proposal)
        return self._proposal_page(request, session, proposal, form=action)

    @post("/{call:str}/{number:int}/follow", opt=access(Access.PUBLIC), sync_to_thread=True)
    def follow(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[PersonForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        proposal = _proposal_of(db_session, group, call, number)
        subject = proposal_subject(proposal)
        return self._follow(request, db_session, proposal, subject, data)

    def _follow(
        self,
        request: Request,
        session: Session,
        proposal: Proposal | None,
        subject: follows.Subject,
        data: PersonForm,
        *,
        call: ProposalCall | None = None,
    ) -> Response[Any]:
        call = call or (proposal.call if proposal else None)
        assert call is not None
        values = msgspec.structs.asdict(data)
        try:
            person = _acting(request, session, call.community, data.ticket)
            if person is None and not (data.email or data.website):
                if proposal is None:
                    raise ValidationFailed({"email": "required"})
                return self._ask_who(request, session, proposal, "follow")
            if person is None:
                follows.ask_to_follow(
                    session,
                    call.community,
                    subject,
                    data.email,
                    locale=current_locale.get(),
                    client=_client(request),
                    trap=data.website,
                )
                return _sent(request, call, "follow")
            follows.follow(session, subject, person, locale=current_locale.get())
        except (ValidationFailed, Conflict, RateLimited) as error:
            if proposal is None:
                raise
            return self._refused(request, session, proposal, "follow", values, error)
        flash(request, _("You follow it: we will e-mail you when it changes."))
        return Redirect(subject.path, status_code=303)

    @post("/{call:str}/follow", opt=access(Access.PUBLIC), sync_to_thread=True)
    def follow_call(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        data: URLEncodedBody[PersonForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        _community, found = _call_of(db_session, group, call)
        return self._follow(request, db_session, None, call_subject(found), data, call=found)

    @post("/{call:str}/{number:int}/report", opt=access(Access.PUBLIC), sync_to_thread=True)
    def report(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[ReportForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        proposal = _proposal_of(db_session, group, call, number)
        service = ProposalService(db_session)
        values = msgspec.structs.asdict(data)
        try:
            person = _acting(request, db_session, proposal.call.community, data.ticket)
            if person is None:
                service.report_by_mail(
                    proposal,
                    data.email,
                    data.reason,
                    data.note,
                    locale=current_locale.get(),
                    client=_client(request),
                    trap=data.website,
                )
                return _sent(request, proposal.call, "report")
            service.report(proposal, person, data.reason, data.note, client=_client(request))
        except (ValidationFailed, Conflict, RateLimited) as error:
            return self._refused(request, db_session, proposal, "report", values, error)
        flash(request, _("Thank you: the organisers will look at your report."))
        return Redirect(call_path(proposal.call), status_code=303)

    @post("/{call:str}/{number:int}/join", opt=access(Access.PUBLIC), sync_to_thread=True)
    def join(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        number: FromPath[int],
        data: URLEncodedBody[JoinForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        proposal = _proposal_of(db_session, group, call, number)
        service = CoProposerService(db_session)
        values = msgspec.structs.asdict(data)
        try:
            person = _acting(request, db_session, proposal.call.community, data.ticket)
            if data.website.strip():
                return _sent(request, proposal.call, "join")  # the honeypot: nothing done
            if person is None:
                service.ask_by_mail(
                    proposal,
                    proposal.call.community,
                    data.email,
                    name=data.name,
                    message=data.message,
                    named=data.named,
                    locale=current_locale.get(),
                    client=_client(request),
                )
                return _sent(request, proposal.call, "join")
            service.ask(
                proposal,
                person,
                name=data.name,
                message=data.message,
                named=data.named,
                locale=current_locale.get(),
                client=_client(request),
            )
        except (ValidationFailed, Conflict, RateLimited) as error:
            return self._refused(request, db_session, proposal, "join", values, error)
        flash(request, _("Your request is sent to the proposer, who will answer by e-mail."))
        return Redirect(proposal_path(proposal), status_code=303)


@post("/r/{token:str}/proposals", opt=access(Access.TOKEN), sync_to_thread=True)
def take_part_with_ticket(
    request: Request, token: FromPath[str], db_session: NamedDependency[Session]
) -> Response[Any]:
    """From a registrant's private page: this browser is the ticket holder for the calls
    of the event's community (no new mail), then its calls."""
    registration = RegistrationService(db_session).by_manage_token(token)
    try:
        person = identity.person_of_registration(db_session, registration)
    except NotFound:
        flash(request, error_message("no_ticket"), "error")
        return Redirect(f"/r/{token}", status_code=303)
    remember(request, person)
    community = db_session.get(Community, person.community_id)
    assert community is not None
    return Redirect(f"/g/{community.slug}/proposals", status_code=303)
