"""A calendar or feed body as an HTTP answer: caching headers, gzip, conditional GET.

Shared by the feeds (web/controllers/feeds.py) and the single-event download
``/e/{event}.ics`` (reached through the public event route). The rules:

* the ``ETag`` is the body's tag (web/conditional.py), with ``-gz`` for the gzipped body;
  ``Last-Modified`` is the newest change the caller knows of; both answer ``304``;
* bodies of ``GZIP_MINIMUM_BYTES`` or more are gzipped when the client accepts it, once per
  :class:`Rendered` (a cached feed keeps its gzipped body);
* public answers may be kept by shared caches and read from any origin
  (``Access-Control-Allow-Origin: *``); a personal one (``private``) is neither, and its
  token URL never leaks through a ``Referer``.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime as http_date

from litestar import Request, Response
from sqlalchemy.orm import Session

from events.calendar import calendar_feed, event_url
from events.services.events import EventService
from web.conditional import body_etag, coded_etag, conditional_response

ICS_MEDIA_TYPE = "text/calendar"
CACHE_CONTROL = "public, max-age=300"
PRIVATE_CACHE_CONTROL = "private, max-age=300"
# The body depends on the locale (feed names, Atom dates), chosen from the cookie or header.
VARY = "Accept-Encoding, Accept-Language, Cookie"
GZIP_MINIMUM_BYTES = 500
GZIP_LEVEL = 6


@dataclass
class Rendered:
    """A feed body with its ETag, and its gzipped form made on first demand."""

    body: bytes
    etag: str = ""
    _gzipped: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.etag = body_etag(self.body)

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, GZIP_LEVEL, mtime=0)
        return self._gzipped


def accepts_gzip(request: Request) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip``, ``x-gzip`` or ``*``, q > 0)."""
    qualities: dict[str, float] = {}
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        coding, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding:
            qualities[coding.strip()] = quality
    for coding in ("gzip", "x-gzip"):
        if coding in qualities:
            return qualities[coding] > 0
    return qualities.get("*", 0.0) > 0


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
        del headers["Access-Control-Allow-Origin"]
        headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
        headers["Referrer-Policy"] = "no-referrer"
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified.astimezone(UTC), usegmt=True)
    body, etag = rendered.body, rendered.etag
    if len(body) >= GZIP_MINIMUM_BYTES and accepts_gzip(request):
        body, etag = rendered.gzipped, coded_etag(rendered.etag, "gzip")
        headers["Content-Encoding"] = "gzip"
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return conditional_response(
        request,
        body,
        etag=etag,
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
