"""The public side of a community's calls for proposals (docs/proposals.md): its calls, a
call's page (kept rendered for visitors nobody knows yet), its Atom feed, "I have a ticket",
and proposing. One proposal and what people do with it: web/controllers/proposals.py;
what both share: web/proposal_pages.py. Every form works without JavaScript; with it,
htmx swaps the list and shows similar titles while someone types.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, RateLimited, ValidationFailed
from events.models import (
    Community,
    Proposal,
    ProposalCall,
    ProposalKind,
    ProposalStatus,
)
from events.proposal_lifecycle import PUBLIC_STATUSES, proposing_open, supporting_open
from events.services.communities import CommunityService
from events.services.proposal_calls import CallService, call_path
from events.services.proposal_listing import (
    ProposalCard,
    ProposalListing,
    arrange,
    paginate,
    visible_cards,
)
from events.services.proposal_records import (
    private_path,
    proposal_path,
)
from events.services.proposals import (
    LANGUAGES,
    NEEDS,
    Outcome,
    ProposalInput,
    ProposalService,
)
from events.text import excerpt
from web.atom import ATOM_MEDIA_TYPE, new_feed, rfc3339, serialize, sub
from web.auth import Access, access
from web.forms import Form, form_list
from web.i18n import current_locale
from web.i18n import gettext as _
from web.messages import error_message, field_errors, kind_label, proposal_status_label
from web.page_cache import PageCache, cached_html, render_to_string
from web.proposal_pages import (
    CSRF_MARK,
    SENT,
    PersonForm,
    acting,
    call_context,
    call_of,
    client_of,
    sent,
    settings_of,
)
from web.registration_panel import new_request_key
from web.rendering import flash, page, wants_fragment
from web.visitors import (
    forget,
    knows_someone,
    order_seed,
    recognised,
    with_cookie,
)

ATOM_ENTRIES = 50
ATOM_SUMMARY_CHARS = 600


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


def _filters(kind: str, status: str) -> tuple[str, str]:
    kind = kind if kind in {k.value for k in ProposalKind} else ""
    status = status if status in {s.value for s in PUBLIC_STATUSES} else ""
    return kind, status


def _page_number(value: str) -> int:
    return max(int(value), 1) if value.isdigit() and len(value) < 6 else 1


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


class ProposalCallsController(Controller):
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
        seed, cookie = order_seed(request, secure=settings_of(request).https)
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
        community, found = call_of(session, group, slug)
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
            **call_context(session, community, found, person),
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
        engine = request.app.template_engine
        assert engine is not None  # the app is built with its templates (web/templating.py)
        template = engine.get_template("proposals/_card.html")

        def render(card: ProposalCard) -> str:
            html: str = template.render(item=card, back=frame.back, **context)
            return html

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
        community, found = call_of(db_session, group, call)
        try:
            if acting(request, db_session, community, data.ticket) is None:
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
        community, found = call_of(db_session, group, call)
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
        community, found = call_of(db_session, group, call)
        settings = settings_of(request)
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
        _community, found = call_of(db_session, group, call)
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
        community, found = call_of(db_session, group, call)
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
        community, found = call_of(db_session, group, call)
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
            client=client_of(request),
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
        return sent(request, found, "proposal")

    @get("/{call:str}/sent", opt=access(Access.PUBLIC), sync_to_thread=True)
    def sent(
        self,
        request: Request,
        group: FromPath[str],
        call: FromPath[str],
        db_session: NamedDependency[Session],
        what: FromQuery[str] = "",
    ) -> Response[Any]:
        _community, found = call_of(db_session, group, call)
        if what not in SENT:
            return Redirect(call_path(found), status_code=303)
        return page(request, "proposals/sent.html", what=what, call=found)
