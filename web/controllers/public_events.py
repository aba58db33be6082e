"""The public side: upcoming and past events, a community's page, an event's page, venue
and tag pages. Anonymous visitors only read; drafts never show (the services hide them).

Query strings are parsed leniently: a value that makes no sense (``page=abc``) is ignored,
never answered with an error page; a filter date that is not one (``date_from=notadate``)
is ignored too, and the home page says so above the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, MediaType, Request, get, route
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import NotFound
from events.services.communities import CommunityService
from events.services.cover_images import CoverImageService, Size
from events.services.discovery import (
    EventFilters,
    EventPage,
    filter_choices,
    find_events,
    popular_tags,
    tag_by_slug,
)
from events.services.events import EventService
from events.services.proposal_calls import CallService
from events.services.series import SeriesService
from events.services.venues import VenueService
from web.auth import Access, access
from web.calendar_links import feed_links
from web.calendar_response import event_ics
from web.conditional import Rendered, conditional_response
from web.event_page import EventPageParts, event_page_context, render_event_parts
from web.event_views import VIEW_HELPERS
from web.i18n import gettext as _
from web.page_cache import cached_html, render_to_string
from web.rendering import VARY, page, wants_fragment
from web.settings import Settings

MAX_SLUG = 120
MAX_QUERY = 200
# Dates outside these years cannot be meant, and would overflow the UTC-window arithmetic.
MIN_YEAR, MAX_YEAR = 1900, 2999
PAST_ON_COMMUNITY_PAGE = 10
#: A cover's URL carries its version (``?v=``): such a URL never changes what it shows.
COVER_CACHE_VERSIONED = "public, max-age=31536000, immutable"
#: Without the current version (an old or bare URL), revalidate soon with the ETag.
COVER_CACHE_UNVERSIONED = "public, max-age=300"
#: What an event without a cover image (any more) shows at its cover address.
NO_COVER_IMAGE = "/static/img/no-cover.svg"


# -- query strings -------------------------------------------------------------------------


def _text(params: Mapping[str, Any], name: str, limit: int) -> str:
    value = params.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _day(params: Mapping[str, Any], name: str) -> date | None:
    try:
        day = date.fromisoformat(_text(params, name, 10))
    except ValueError:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def ignored_dates(params: Mapping[str, Any]) -> list[str]:
    """The date filters given that are not dates (they are left out of the search)."""
    return [
        name
        for name in ("date_from", "date_to")
        if _text(params, name, MAX_QUERY) and _day(params, name) is None
    ]


def _page_number(params: Mapping[str, Any]) -> int:
    text = _text(params, "page", 12)
    return max(int(text), 1) if text.isdigit() else 1


def filters_from_query(params: Mapping[str, Any], *, past: bool = False) -> EventFilters:
    """The filters a query string asks for; nonsense values are dropped, not refused."""
    return EventFilters(
        tag=_text(params, "tag", MAX_SLUG),
        community=_text(params, "community", MAX_SLUG),
        venue=_text(params, "venue", MAX_SLUG),
        date_from=_day(params, "date_from"),
        date_to=_day(params, "date_to"),
        q=_text(params, "q", MAX_QUERY),
        past=past,
        page=_page_number(params),
    )


def filter_query(filters: EventFilters) -> dict[str, str]:
    """The active filters as query-string values (for pagination links)."""
    values = {
        "q": filters.q,
        "tag": filters.tag,
        "community": filters.community,
        "venue": filters.venue,
        "date_from": filters.date_from.isoformat() if filters.date_from else "",
        "date_to": filters.date_to.isoformat() if filters.date_to else "",
    }
    return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class Pagination:
    page: int
    pages: int
    previous_url: str | None
    next_url: str | None


def paginate(result: EventPage, path: str, query: dict[str, str]) -> Pagination:
    def url(number: int) -> str:
        values = {**query, "page": str(number)} if number > 1 else query
        return f"{path}?{urlencode(values)}" if values else path

    return Pagination(
        page=result.page,
        pages=result.pages,
        previous_url=url(result.page - 1) if result.page > 1 else None,
        next_url=url(result.page + 1) if result.page < result.pages else None,
    )


def find_page(session: Session, filters: EventFilters) -> EventPage:
    """``find_events``, with a page number past the end brought back to the last page."""
    now = utcnow()
    result = find_events(session, filters, now=now)
    if not result.events and result.total and result.page > result.pages:
        result = find_events(session, replace(filters, page=result.pages), now=now)
    return result


# -- presentation helpers ------------------------------------------------------------------


def cover_response(
    request: Request, session: Session, slug: str, size: Size, version: str
) -> Response[Any]:
    """One variant of a public event's cover: 200, 304, or the placeholder if it has none.

    Drafts answer 404 like their pages. The bytes are our own re-encoding (never the
    upload), sent with their exact type and ``nosniff``; the URL's ``v`` (the digest)
    makes the long, immutable caching safe, and the ETag serves the rest.
    """
    event = EventService(session).by_slug(slug[:MAX_SLUG])
    cover = CoverImageService(session).cover_of(event, size)
    if cover is None:
        return Redirect(NO_COVER_IMAGE, status_code=302, headers={"cache-control": "no-cache"})
    current = version == cover.digest[:16]
    headers = {
        "cache-control": COVER_CACHE_VERSIONED if current else COVER_CACHE_UNVERSIONED,
        "x-content-type-options": "nosniff",
        "content-disposition": f'inline; filename="{event.slug}-{size}.jpg"',
    }
    return conditional_response(
        request,
        Rendered(cover.data, etag=f'"{cover.digest[:32]}-{size}"'),
        media_type=cover.content_type,
        headers=headers,
    )


def _listing(
    request: Request,
    result: EventPage,
    path: str,
    query: dict[str, str],
    *,
    empty_message: str,
    level: int = 2,
    clear_url: str | None = None,
    show_organise: bool = False,
) -> dict[str, Any]:
    """What ``public/_event_list.html`` needs."""
    return {
        "result": result,
        "pagination": paginate(result, path, query),
        "partial": wants_fragment(request),
        "level": level,
        "empty_message": empty_message,
        "clear_url": clear_url,
        "show_organise": show_organise,
        **VIEW_HELPERS,
    }


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class PublicEventsController(Controller):
    include_in_schema = False

    @get("/", opt=access(Access.PUBLIC), sync_to_thread=True)
    def home(self, request: Request, db_session: NamedDependency[Session]) -> Response[Any]:
        filters = filters_from_query(request.query_params)
        fragment = wants_fragment(request)
        feed = feed_links(
            _settings(request), "/feeds/all.ics", name="Rencontres", atom_path="/feeds/all.atom"
        )

        def render() -> str:
            result = find_page(db_session, filters)
            context = _listing(
                request,
                result,
                "/",
                filter_query(filters),
                empty_message=(
                    _("No events match these filters.")
                    if filters.active
                    else _("No upcoming events yet.")
                ),
                clear_url="/" if filters.active else None,
                show_organise=not filters.active,
            )
            context["ignored_dates"] = ignored_dates(request.query_params)
            context["filter_count"] = filters.narrowing
            if fragment:
                return render_to_string(request, "public/_event_list.html", **context)
            now = utcnow()
            return render_to_string(
                request,
                "public/_home_main.html",
                filters=filters,
                tags=popular_tags(db_session, now=now),
                feed=feed,
                choices=filter_choices(db_session, filters, now=now),
                **context,
            )

        html = cached_html(request, ("home", request.url.query, fragment), render)
        if fragment:
            return Response(html, media_type=MediaType.HTML, headers=VARY)
        return page(request, "public/home.html", main_html=html, feed=feed)

    @get("/past", opt=access(Access.PUBLIC), sync_to_thread=True)
    def past(self, request: Request, db_session: NamedDependency[Session]) -> Template:
        filters = EventFilters(past=True, page=_page_number(request.query_params))
        result = find_page(db_session, filters)
        return page(
            request,
            "public/past.html",
            fragment="public/_event_list.html",
            **_listing(request, result, "/past", {}, empty_message=_("No past events yet.")),
        )

    @get("/g/{group:str}", opt=access(Access.PUBLIC), sync_to_thread=True)
    def community(
        self, request: Request, group: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template:
        community = CommunityService(db_session).by_slug(group)
        now = utcnow()
        upcoming = find_events(db_session, EventFilters(community=community.slug), now=now)
        past = find_events(db_session, EventFilters(community=community.slug, past=True), now=now)
        shown = {event.series_id for event in upcoming.events + past.events}
        # A series is public once it publishes its occurrences or one of them is public;
        # an ended one is history, not a rhythm to come back to.
        series = [
            s
            for s in SeriesService(db_session).of_community(community)
            if (s.ended_on is None or s.ended_on >= now.date())
            and (s.publish_occurrences or s.id in shown)
        ]
        calls = CallService(db_session).current_for(community, all_scopes=True, now=now)
        return page(
            request,
            "public/community.html",
            community=community,
            calls=calls,
            series_calls={call.series_id: call for call in calls if call.series_id},
            feed=feed_links(
                _settings(request),
                f"/g/{community.slug}/feed.ics",
                name=community.name,
                atom_path=f"/g/{community.slug}/feed.atom",
            ),
            series=series,
            embed_url=_settings(request).absolute_url(f"/embed/g/{community.slug}"),
            upcoming=upcoming,
            past=past.events[:PAST_ON_COMMUNITY_PAGE],
            level=3,
            **VIEW_HELPERS,
        )

    @get("/e/{event:str}", opt=access(Access.PUBLIC), sync_to_thread=True)
    def event(
        self, request: Request, event: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        # The path parameter also matches ``/e/{event}.ics`` (slugs never contain a dot).
        ics = event.endswith(".ics")
        slug = event.removesuffix(".ics")[:MAX_SLUG]
        try:
            if ics:
                return event_ics(request, db_session, slug)
            return self._event_page(request, db_session, slug)
        except NotFound:
            # An event that moved to another day has the address of its new day; its old
            # one leads there for good (links in mails, calendars, posters).
            moved = EventService(db_session).moved_to(slug)
            if moved is None:
                raise
            return Redirect(f"/e/{moved}{'.ics' if ics else ''}", status_code=301)

    def _event_page(self, request: Request, db_session: Session, slug: str) -> Response[Any]:
        settings = _settings(request)

        def render() -> EventPageParts:
            # Only on a cache miss: a hit costs one small query (the content version).
            found = EventService(db_session).with_programme(slug)
            return render_event_parts(request, db_session, found, settings, now=utcnow())

        parts = cached_html(request, ("event", slug), render)
        return page(request, "public/event.html", **event_page_context(request, parts))

    @route(
        "/e/{event:str}/cover.jpg",
        http_method=["GET", "HEAD"],
        opt=access(Access.PUBLIC),
        sync_to_thread=True,
    )
    def cover(
        self,
        request: Request,
        event: FromPath[str],
        db_session: NamedDependency[Session],
        v: FromQuery[str] = "",
    ) -> Response[Any]:
        return cover_response(request, db_session, event, "large", v)

    @route(
        "/e/{event:str}/cover-small.jpg",
        http_method=["GET", "HEAD"],
        opt=access(Access.PUBLIC),
        sync_to_thread=True,
    )
    def small_cover(
        self,
        request: Request,
        event: FromPath[str],
        db_session: NamedDependency[Session],
        v: FromQuery[str] = "",
    ) -> Response[Any]:
        return cover_response(request, db_session, event, "small", v)

    @get("/venues/{venue:str}", opt=access(Access.PUBLIC), sync_to_thread=True)
    def venue(
        self, request: Request, venue: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template:
        venues = VenueService(db_session)
        found = venues.by_slug(venue)
        filters = EventFilters(venue=found.slug, page=_page_number(request.query_params))
        result = find_page(db_session, filters)
        return page(
            request,
            "public/venue.html",
            fragment="public/_event_list.html",
            venue=found,
            address_public=venues.address_is_public(found),
            feed=feed_links(_settings(request), f"/venues/{found.slug}/feed.ics", name=found.name),
            **_listing(
                request,
                result,
                f"/venues/{found.slug}",
                {},
                level=3,
                empty_message=_("No upcoming events at this venue."),
            ),
        )

    @get("/tags/{tag:str}", opt=access(Access.PUBLIC), sync_to_thread=True)
    def tag(
        self, request: Request, tag: FromPath[str], db_session: NamedDependency[Session]
    ) -> Template:
        found = tag_by_slug(db_session, tag[:MAX_SLUG])
        filters = EventFilters(tag=found.slug, page=_page_number(request.query_params))
        result = find_page(db_session, filters)
        return page(
            request,
            "public/tag.html",
            fragment="public/_event_list.html",
            tag=found,
            feed=feed_links(_settings(request), f"/tags/{found.slug}/feed.ics", name=found.name),
            **_listing(
                request,
                result,
                f"/tags/{found.slug}",
                {},
                empty_message=_("No upcoming events with this tag."),
            ),
        )
