"""A calendar or feed body as an HTTP answer: caching headers, compression, conditional GET.

Shared by the feeds (web/controllers/feeds.py) and the single-event download
``/e/{event}.ics`` (reached through the public event route). The rules:

* the ``ETag`` is the body's tag (web/conditional.py), with ``-br`` or ``-gz`` for its
  brotli or gzip form; ``Last-Modified`` is the newest change the caller knows of; both
  answer ``304``;
* bodies of 500 bytes or more are compressed (brotli or gzip, web/compression.py) when the
  client accepts it, once per :class:`~web.conditional.Rendered` (a cached feed keeps its
  compressed bodies);
* public answers may be kept by shared caches and read from any origin
  (``Access-Control-Allow-Origin: *``); a personal one (``private``) is neither (its route
  declares personal data: ``Cache-Control: no-store``), and its token URL never leaks
  through a ``Referer``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime as http_date

from litestar import Request, Response
from sqlalchemy.orm import Session

from events.calendar import calendar_feed, event_url
from events.services.events import EventService
from web.conditional import Rendered, conditional_response

ICS_MEDIA_TYPE = "text/calendar"
CACHE_CONTROL = "public, max-age=300"
# The body depends on the locale (feed names, Atom dates), chosen from the cookie or header;
# conditional_response adds Accept-Encoding when the body is compressed.
VARY = "Accept-Language, Cookie"


def calendar_response(
    request: Request,
    rendered: Rendered,
    *,
    media_type: str,
    filename: str,
    last_modified: datetime | None,
    private: bool = False,
) -> Response[bytes]:
    """200, 304 or a HEAD answer for ``rendered``, with caching and CORS headers."""
    headers = {"Cache-Control": CACHE_CONTROL, "Vary": VARY, "Access-Control-Allow-Origin": "*"}
    if private:
        # web/security.py makes it ``Cache-Control: no-store``: the route declares personal data.
        del headers["Access-Control-Allow-Origin"], headers["Cache-Control"]
        headers["Referrer-Policy"] = "no-referrer"
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified.astimezone(UTC), usegmt=True)
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return conditional_response(
        request,
        rendered,
        media_type=media_type,
        headers=headers,
        last_modified=last_modified,
    )


def site_url(request: Request) -> str:
    """The site's address as configured (``BASE_URL``), without a trailing slash."""
    return str(request.app.state.settings.base_url).rstrip("/")


def event_ics(request: Request, db_session: Session, slug: str) -> Response[bytes]:
    """``/e/{event}.ics``: one public event (cancelled ones too) as a calendar file."""
    event = EventService(db_session).by_slug(slug)
    site = site_url(request)
    body = calendar_feed(
        [event], name=event.title, description="", base_url=site, url=event_url(event, site)
    )
    stamps = [event.updated_at, event.community.updated_at]
    stamps += [event.venue.updated_at] if event.venue is not None else []
    return calendar_response(
        request,
        Rendered(body),
        media_type=ICS_MEDIA_TYPE,
        filename=f"{event.slug}.ics",
        last_modified=max(stamps),
    )
