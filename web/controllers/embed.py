"""Embeddable calendars (``/embed/g/{community}``, ``/embed/tags/{tag}``,
``/embed/venues/{venue}``): a compact list of upcoming events for another site's iframe.

Query parameters, each optional and read leniently (a value that makes no sense falls
back to its default, as on the public pages): ``theme`` (``light`` or ``dark``),
``accent`` (a hex colour, ``1a7f5a`` or ``#1a7f5a``), ``lang`` (``en`` or ``fr``), ``limit``
(1–50 events). Links open the event on this site in a new tab.

These are the only pages that may be framed: their Content-Security-Policy names the
``EMBED_FRAME_ANCESTORS`` setting (default any site); every other page keeps
``frame-ancestors 'none'``. The accent colour reaches the page as a stylesheet of this
site (``/embed/theme.css``), so the CSP still forbids inline styles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.services.communities import CommunityService
from events.services.discovery import tag_by_slug
from events.services.event_listing import EventQuery, list_events, venue_by_slug
from web.auth import Access, access
from web.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, current_locale
from web.page_cache import cached_html, render_to_string
from web.security import CONTENT_SECURITY_POLICY
from web.settings import Settings

DEFAULT_LIMIT, MAX_LIMIT = 5, 50
THEMES = ("light", "dark")
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
EMBED_CACHE_CONTROL = "public, max-age=300"


@dataclass(frozen=True)
class EmbedOptions:
    theme: str = "light"
    accent: str = ""
    lang: str = DEFAULT_LOCALE
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, params: Mapping[str, Any], fallback_lang: str) -> EmbedOptions:
        theme = params.get("theme", "")
        lang = params.get("lang", "")
        accent = _HEX.fullmatch(str(params.get("accent", "")).strip())
        try:
            limit = min(max(int(str(params.get("limit", DEFAULT_LIMIT))), 1), MAX_LIMIT)
        except ValueError:
            limit = DEFAULT_LIMIT
        return cls(
            theme=theme if theme in THEMES else "light",
            accent=accent.group(1).lower() if accent else "",
            lang=lang if lang in SUPPORTED_LOCALES else fallback_lang,
            limit=limit,
        )


def embed_policy(settings: Settings) -> str:
    """The site's CSP with the embeds' ``frame-ancestors``."""
    return CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {settings.embed_frame_ancestors}"
    )


def _embed(
    request: Request, session: Session, title: str, query: EventQuery, page_url: str
) -> Response[str]:
    settings: Settings = request.app.state.settings
    options = EmbedOptions.parse(request.query_params, current_locale.get())

    def render() -> str:
        token = current_locale.set(options.lang)
        try:
            events = list_events(session, replace(query, limit=options.limit), now=utcnow()).events
            return render_to_string(
                request,
                "embed/calendar.html",
                title=title,
                events=events,
                options=options,
                site=settings.base_url,
                page_url=settings.base_url + page_url,
            )
        finally:
            current_locale.reset(token)

    html = cached_html(request, ("embed", request.url.path, request.url.query or ""), render)
    return Response(
        html,
        media_type=MediaType.HTML,
        headers={
            "content-security-policy": embed_policy(settings),
            "cache-control": EMBED_CACHE_CONTROL,
            "content-language": options.lang,
        },
    )


PUBLIC = access(Access.PUBLIC)


class EmbedController(Controller):
    path = "/embed"
    include_in_schema = False

    @get("/g/{community:str}", opt=PUBLIC, sync_to_thread=True)
    def community(
        self, request: Request, community: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[str]:
        found = CommunityService(db_session).by_slug(community)
        query = EventQuery(community=found.slug)
        return _embed(request, db_session, found.name, query, f"/g/{found.slug}")

    @get("/tags/{tag:str}", opt=PUBLIC, sync_to_thread=True)
    def tag(
        self, request: Request, tag: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[str]:
        found = tag_by_slug(db_session, tag)
        return _embed(
            request, db_session, found.name, EventQuery(tag=found.slug), f"/tags/{found.slug}"
        )

    @get("/venues/{venue:str}", opt=PUBLIC, sync_to_thread=True)
    def venue(
        self, request: Request, venue: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[str]:
        found = venue_by_slug(db_session, venue)
        query = EventQuery(venue=found.slug)
        return _embed(request, db_session, found.name, query, f"/venues/{found.slug}")

    @get("/theme.css", opt=PUBLIC)
    async def theme(self, request: Request) -> Response[str]:
        """The accent colour as a stylesheet (inline styles are not allowed)."""
        options = EmbedOptions.parse(request.query_params, DEFAULT_LOCALE)
        accent = f"#{options.accent}" if options.accent else "#0b5cad"
        return Response(
            f":root {{ --accent: {accent}; }}\n",
            media_type="text/css",
            headers={"cache-control": "public, max-age=86400"},
        )
