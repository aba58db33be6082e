"""Subscribable feeds: iCalendar (``.ics``, also reached as ``webcal://``) and Atom.

HTTP behaviour, for every feed (web/calendar_response.py holds what the single-event
download ``/e/{event}.ics`` shares with them, web/conditional.py the conditional GET):

* ``ETag`` is the quoted first 32 hex digits of the body's SHA-256 (``-br`` or ``-gz``
  appended for the brotli or gzip body); ``Last-Modified`` is the newest ``updated_at``
  among the feed's events, their venues and communities.
* ``If-None-Match`` (lists, ``W/`` weak tags, ``*``) answers 304 with no body; without
  it, ``If-Modified-Since`` at or after ``Last-Modified`` does too.
* The 304 path is cheap, in two layers. Each answer of a public feed is kept in process
  under its URL, language and the shared content version (web/content_watch.py reads it
  from memory, refreshed every second): a poll while nothing changed touches neither the
  database nor a worker thread. When the version moved (say a registration elsewhere),
  :func:`events.calendar.feed_state` fingerprints the selection with narrow queries (ids
  and ``updated_at`` columns, no ORM objects) and a body rendered under that fingerprint is
  reused, so an unchanged feed is never re-rendered. The ETag is always the hash of the
  body sent.
* ``HEAD`` answers the GET headers without a body; bodies of 500 bytes or more are
  compressed (brotli, else gzip) when the client accepts it, once per rendered body: the
  cached answer keeps its compressed forms; public feeds carry ``Access-Control-Allow-Origin: *``
  and ``Cache-Control: public, max-age=300``.

GET requests use a read-only session: nothing here writes to the database.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree

import anyio.to_thread
from litestar import Controller, HttpMethod, Request, Response, route
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.orm import Session

from events.calendar import (
    FeedScope,
    FeedState,
    calendar_feed,
    event_url,
    feed_events,
    feed_state,
    recently_updated,
)
from events.clock import utcnow
from events.models import Event, EventStatus
from events.services.communities import CommunityService
from events.services.discovery import tag_by_slug
from events.services.personal_feeds import personal_calendar
from events.services.venues import VenueService
from events.text import excerpt
from web.atom import ATOM_MEDIA_TYPE, new_feed, rfc3339, serialize, sub
from web.auth import Access, access
from web.calendar_response import ICS_MEDIA_TYPE, calendar_response, site_url
from web.conditional import Rendered
from web.content_watch import ContentWatch
from web.i18n import current_locale, format_datetime
from web.i18n import gettext as _
from web.page_cache import PageCache

ATOM_ENTRIES = 50
ATOM_SUMMARY_CHARS = 600
#: Namespace of the Atom feed ids (uuid5), so they do not depend on the site's domain.
ATOM_ID_NAMESPACE = uuid.UUID("5d0b6a5e-6f7a-4c1e-9c51-3f2b8f0e6a11")
#: Per process. A 10,000-event feed is 9.4 MB (gzip 0.4 MB): both languages' fit; 64 MiB
#: per worker did not fit two workers in the memory budget (issue 20 item 4).
RENDERED_CACHE_BYTES = 24 * 1024 * 1024
RENDERED_CACHE_ENTRIES = 512
SERVED_CACHE_ENTRIES = 1024
METHODS = [HttpMethod.GET, HttpMethod.HEAD]
# Public and cacheable by shared caches: no session and no CSRF cookie may ride along.
FEED_OPT = {**access(Access.PUBLIC), "exclude_from_csrf": True}


class RenderedCache:
    """A small thread-safe LRU of rendered feeds, bounded by entries and by total bytes:
    bodies and their compressed forms, which are made after an entry is stored (on a
    client's first request in that coding), so an entry's size is taken again each time
    it is read and the bound enforced then."""

    def __init__(self, *, max_bytes: int, max_entries: int) -> None:
        self._items: OrderedDict[tuple[str, ...], Rendered] = OrderedDict()
        self._sizes: dict[tuple[str, ...], int] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.max_bytes, self.max_entries = max_bytes, max_entries

    def __len__(self) -> int:
        return len(self._items)

    @property
    def held_bytes(self) -> int:
        return self._bytes

    def _charge(self, key: tuple[str, ...], rendered: Rendered) -> None:
        size = rendered.size
        self._bytes += size - self._sizes.get(key, 0)
        self._sizes[key] = size
        while self._items and (self._bytes > self.max_bytes or len(self._items) > self.max_entries):
            evicted, _rendered = self._items.popitem(last=False)
            self._bytes -= self._sizes.pop(evicted)

    def get_or_render(self, key: tuple[str, ...], render: Callable[[], bytes]) -> Rendered:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self._charge(key, found)  # it may have gained a compressed form since
                return found
        rendered = Rendered(render())  # outside the lock: a slow build blocks nobody else
        with self._lock:
            if key not in self._items:
                self._items[key] = rendered
                self._charge(key, rendered)
        return rendered

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._sizes.clear()
            self._bytes = 0


RENDERED = RenderedCache(max_bytes=RENDERED_CACHE_BYTES, max_entries=RENDERED_CACHE_ENTRIES)


@dataclass(frozen=True)
class Served:
    """Everything needed to answer a feed request, whatever its conditional headers."""

    rendered: Rendered
    media_type: str
    filename: str
    last_modified: datetime | None


#: Served feeds by URL, base URL, language, content version and hour (the hour because
#: old events leave a feed with time alone). Bodies are shared with ``RENDERED``; weighed
#: in full here all the same, so the two together hold at most twice its bytes.
SERVED = PageCache(max_entries=SERVED_CACHE_ENTRIES, max_bytes=RENDERED_CACHE_BYTES)


def clear_feed_caches() -> None:
    RENDERED.clear()
    SERVED.clear()


# -- what each feed holds --------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSource:
    """A feed's selection, with its name and its addresses."""

    key: str  # names the feed in the rendered-feed cache
    scope: FeedScope
    name: str
    description: str
    page_path: str  # the HTML page the feed belongs to
    ics_path: str
    atom_path: str | None
    filename: str


def _all_events() -> FeedSource:
    return FeedSource(
        key="all",
        scope=FeedScope(),
        name=_("Rencontres: all events"),
        description=_("Every public event on Rencontres."),
        page_path="/",
        ics_path="/feeds/all.ics",
        atom_path="/feeds/all.atom",
        filename="all",
    )


def _group(db_session: Session, slug: str) -> FeedSource:
    community = CommunityService(db_session).by_slug(slug)
    return FeedSource(
        key=f"group:{community.id}",
        scope=FeedScope(community_id=community.id),
        name=community.name,
        description=excerpt(community.description, 300) if community.description else "",
        page_path=f"/g/{community.slug}",
        ics_path=f"/g/{community.slug}/feed.ics",
        atom_path=f"/g/{community.slug}/feed.atom",
        filename=community.slug,
    )


def _tag(db_session: Session, slug: str) -> FeedSource:
    tag = tag_by_slug(db_session, slug)
    return FeedSource(
        key=f"tag:{tag.id}",
        scope=FeedScope(tag_id=tag.id),
        name=_("Events tagged “%(tag)s”", tag=tag.name),
        description="",
        page_path=f"/?tag={tag.slug}",
        ics_path=f"/tags/{tag.slug}/feed.ics",
        atom_path=None,
        filename=tag.slug,
    )


def _venue(db_session: Session, slug: str) -> FeedSource:
    venues = VenueService(db_session)
    venue = venues.by_slug(slug)
    address = venue.address if venues.address_is_public(venue) else ""
    return FeedSource(
        key=f"venue:{venue.id}",
        scope=FeedScope(venue_id=venue.id),
        name=_("Events at %(venue)s", venue=venue.name),
        description=", ".join(line.strip() for line in address.splitlines() if line.strip()),
        page_path=f"/?venue={venue.slug}",
        ics_path=f"/venues/{venue.slug}/feed.ics",
        atom_path=None,
        filename=venue.slug,
    )


def _ics_feed(request: Request, db_session: Session, source: FeedSource) -> Response[bytes]:
    """The feed's answer, computed now (the cold and "version moved" paths)."""
    return _respond(request, _ics_served(request, db_session, source))


def _respond(request: Request, served: Served) -> Response[bytes]:
    return calendar_response(
        request,
        served.rendered,
        media_type=served.media_type,
        filename=served.filename,
        last_modified=served.last_modified,
    )


async def _public_feed(
    request: Request, build: Callable[[Request, Session], Served]
) -> Response[bytes]:
    """Answer from :data:`SERVED` when the content version is unchanged, else ``build``
    (in a worker thread, with a read-only session) and remember the answer."""
    watch: ContentWatch = request.app.state.content_watch
    version = await watch.current()
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    key = (request.url.path, site_url(request), current_locale.get(), version, hour)
    served = SERVED.peek(key)
    if served is None:

        def load() -> Served:
            with request.app.state.db.session() as session:
                return SERVED.get_or_render(key, lambda: build(request, session))

        return _respond(request, await anyio.to_thread.run_sync(load))
    return _respond(request, served)


def _ics_served(request: Request, db_session: Session, source: FeedSource) -> Served:
    base_url = site_url(request)
    now = utcnow()
    state = feed_state(db_session, source.scope, now=now)
    page_url = base_url + source.page_path

    def render() -> bytes:
        events = feed_events(db_session, source.scope, now=now)
        return calendar_feed(
            events,
            name=source.name,
            description=source.description,
            base_url=base_url,
            url=page_url,
        )

    key = ("ics", source.key, source.name, source.description, page_url, state.fingerprint)
    return Served(
        RENDERED.get_or_render(key, render),
        media_type=ICS_MEDIA_TYPE,
        filename=f"{source.filename}.ics",
        last_modified=state.last_modified,
    )


# -- Atom ------------------------------------------------------------------------------------


def _where(event: Event) -> str:
    if event.venue is not None:
        return event.venue.name
    return _("Online") if event.online_url else ""


def _atom_entry(feed: ElementTree.Element, event: Event, base_url: str) -> None:
    entry = sub(feed, "entry")
    sub(entry, "id", f"urn:uuid:{event.id}")
    title = event.title
    if event.status is EventStatus.CANCELLED:
        title = _("Cancelled: %(title)s", title=event.title)
    sub(entry, "title", title)
    sub(entry, "updated", rfc3339(event.updated_at))
    sub(entry, "published", rfc3339(event.created_at))
    sub(entry, "link", rel="alternate", type="text/html", href=event_url(event, base_url))
    author = sub(entry, "author")
    sub(author, "name", event.community.name)
    for tag in event.tags:
        sub(entry, "category", term=tag.slug, label=tag.name)
    when = format_datetime(event.starts_at, event.timezone)
    lines = [" · ".join(part for part in (when, _where(event)) if part)]
    if event.description:
        lines.append(excerpt(event.description, ATOM_SUMMARY_CHARS))
    sub(entry, "summary", "\n\n".join(lines), type="text")


def atom_feed(source: FeedSource, events: list[Event], base_url: str, state: FeedState) -> bytes:
    """The Atom document of ``source`` with ``events`` (most recently changed first)."""
    feed = new_feed(current_locale.get())
    sub(feed, "id", f"urn:uuid:{uuid.uuid5(ATOM_ID_NAMESPACE, source.key)}")
    sub(feed, "title", source.name)
    if source.description:
        sub(feed, "subtitle", source.description)
    updated = state.last_modified or datetime(1970, 1, 1, tzinfo=UTC)
    sub(feed, "updated", rfc3339(updated))
    sub(feed, "link", rel="self", type=ATOM_MEDIA_TYPE, href=base_url + (source.atom_path or ""))
    sub(feed, "link", rel="alternate", type="text/html", href=base_url + source.page_path)
    sub(feed, "link", rel="alternate", type=ICS_MEDIA_TYPE, href=base_url + source.ics_path)
    author = sub(feed, "author")
    sub(author, "name", source.name)
    sub(feed, "generator", "Rencontres")
    for event in events:
        _atom_entry(feed, event, base_url)
    return serialize(feed)


def _atom_served(request: Request, db_session: Session, source: FeedSource) -> Served:
    base_url = site_url(request)
    now = utcnow()
    state = feed_state(db_session, source.scope, now=now)

    def render() -> bytes:
        events = recently_updated(db_session, source.scope, now=now, limit=ATOM_ENTRIES)
        return atom_feed(source, events, base_url, state)

    key = ("atom", source.key, source.name, source.description, base_url, current_locale.get())
    return Served(
        RENDERED.get_or_render((*key, state.fingerprint), render),
        media_type=ATOM_MEDIA_TYPE,
        filename=f"{source.filename}.atom",
        last_modified=state.last_modified,
    )


def personal_ics(request: Request, db_session: Session, token: str) -> Response[bytes]:
    """``/me/{token}/feed.ics``: everything one address registered for (not cached in
    process: it is personal, and small)."""
    base_url = site_url(request)
    mine = personal_calendar(db_session, token, now=utcnow())
    body = calendar_feed(
        mine.events,
        name=_("My Rencontres events"),
        description="",
        base_url=base_url,
        url=base_url + "/",
        statuses=mine.statuses,
    )
    stamps = [event.updated_at for event in mine.events]
    return calendar_response(
        request,
        Rendered(body),
        media_type=ICS_MEDIA_TYPE,
        filename="my-events.ics",
        last_modified=max(stamps) if stamps else None,
        private=True,
    )


class FeedsController(Controller):
    """Public feeds answer from memory while nothing changed (see the module docstring);
    the personal feed is built per request."""

    include_in_schema = False

    @route("/feeds/all.ics", http_method=METHODS, opt=FEED_OPT)
    async def all_ics(self, request: Request) -> Response[bytes]:
        return await _public_feed(
            request, lambda request, session: _ics_served(request, session, _all_events())
        )

    @route("/g/{group:str}/feed.ics", http_method=METHODS, opt=FEED_OPT)
    async def group_ics(self, request: Request, group: FromPath[str]) -> Response[bytes]:
        return await _public_feed(
            request, lambda request, session: _ics_served(request, session, _group(session, group))
        )

    @route("/tags/{tag:str}/feed.ics", http_method=METHODS, opt=FEED_OPT)
    async def tag_ics(self, request: Request, tag: FromPath[str]) -> Response[bytes]:
        return await _public_feed(
            request, lambda request, session: _ics_served(request, session, _tag(session, tag))
        )

    @route("/venues/{venue:str}/feed.ics", http_method=METHODS, opt=FEED_OPT)
    async def venue_ics(self, request: Request, venue: FromPath[str]) -> Response[bytes]:
        return await _public_feed(
            request, lambda request, session: _ics_served(request, session, _venue(session, venue))
        )

    @route(
        "/me/{token:str}/feed.ics",
        http_method=METHODS,
        opt={**access(Access.TOKEN), "exclude_from_csrf": True},
        sync_to_thread=True,
    )
    def personal(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        return personal_ics(request, db_session, token)

    @route("/feeds/all.atom", http_method=METHODS, opt=FEED_OPT)
    async def all_atom(self, request: Request) -> Response[bytes]:
        return await _public_feed(
            request, lambda request, session: _atom_served(request, session, _all_events())
        )

    @route("/g/{group:str}/feed.atom", http_method=METHODS, opt=FEED_OPT)
    async def group_atom(self, request: Request, group: FromPath[str]) -> Response[bytes]:
        return await _public_feed(
            request,
            lambda request, session: _atom_served(request, session, _group(session, group)),
        )
