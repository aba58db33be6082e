"""An event's public page, drawn in parts: the head (link previews, JSON-LD), the top
(title, key facts, a button to the registration), the bottom (description, programme:
what a visitor reads before deciding) and the registration section after them.

The public page (web/controllers/public_events.py) caches the parts (web/page_cache.py);
the organiser's preview of a draft (web/controllers/manage_events.py) draws them afresh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from litestar import Request
from sqlalchemy.orm import Session

from events.lifecycle import is_over
from events.models import Event, EventStatus, ProgrammeItem
from events.services.boards import BoardService
from events.services.cover_images import Size
from events.services.exchange_access import open_board
from events.services.proposal_calls import CallService
from events.services.volunteers import VolunteerService
from web.calendar_links import event_links
from web.event_views import VIEW_HELPERS, local_iso
from web.i18n import current_locale
from web.page_cache import render_to_string, rendering_shell
from web.registration_panel import new_request_key, registration_panel
from web.settings import Settings

SUMMARY_LENGTH = 200
OG_LOCALES = {"en": "en_GB", "fr": "fr_FR"}
SCHEMA = "https://schema.org/"


def summary(text: str, length: int = SUMMARY_LENGTH) -> str:
    """One line of plain text, at most ``length`` characters, cut on a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= length:
        return flat
    cut = flat[: length - 1]
    head, space, _tail = cut.rpartition(" ")
    return (head if space and head else cut).rstrip(" ,;:.-–—") + "…"


def schedule(items: list[ProgrammeItem]) -> list[ProgrammeItem]:
    """The programme in the order of the evening: by start time (a room is a label on its
    item, not a group: what happens next is what a visitor looks for), the rooms in
    alphabetical order at the same time; items without a time last, in their order."""

    def time_key(item: ProgrammeItem) -> tuple[bool, datetime, str, int]:
        start = item.starts_at or datetime.min
        return (item.starts_at is None, start, item.room.casefold(), item.position)

    return sorted(items, key=time_key)


def cover_path(event: Event, size: Size = "large") -> str | None:
    """The versioned address of the event's cover (None without one)."""
    cover = getattr(event, "cover", None)
    if cover is None:
        return None
    name = "cover.jpg" if size == "large" else "cover-small.jpg"
    return f"/e/{event.slug}/{name}?v={cover.version}"


def _json_for_script(data: dict[str, Any]) -> str:
    """JSON safe inside ``<script type="application/ld+json">``: no ``</script>``, no
    markup characters at all."""
    text = json.dumps(data, ensure_ascii=False, indent=None)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def event_json_ld(event: Event, settings: Settings) -> str:
    """The event as a schema.org ``Event`` (for search engines and link previews)."""
    cancelled = event.status is EventStatus.CANCELLED
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "url": settings.absolute_url(f"/e/{event.slug}"),
        "startDate": local_iso(event.starts_at, event.timezone),
        "endDate": local_iso(event.ends_at, event.timezone),
        "eventStatus": SCHEMA + ("EventCancelled" if cancelled else "EventScheduled"),
    }
    image = cover_path(event)
    if image is not None:
        data["image"] = [settings.absolute_url(image)]
    locations: list[dict[str, Any]] = []
    if event.venue is not None:
        place: dict[str, Any] = {"@type": "Place", "name": event.venue.name}
        if event.venue.address:
            place["address"] = {
                "@type": "PostalAddress",
                "streetAddress": " ".join(event.venue.address.split()),
            }
        if event.venue.latitude is not None and event.venue.longitude is not None:
            place["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": event.venue.latitude,
                "longitude": event.venue.longitude,
            }
        locations.append(place)
    if event.online_url:
        locations.append({"@type": "VirtualLocation", "url": event.online_url})
    if event.venue is not None and event.online_url:
        data["eventAttendanceMode"] = SCHEMA + "MixedEventAttendanceMode"
    elif event.online_url:
        data["eventAttendanceMode"] = SCHEMA + "OnlineEventAttendanceMode"
    else:
        data["eventAttendanceMode"] = SCHEMA + "OfflineEventAttendanceMode"
    if locations:
        data["location"] = locations[0] if len(locations) == 1 else locations
    data["organizer"] = {
        "@type": "Organization",
        "name": event.community.name,
        "url": settings.absolute_url(f"/g/{event.community.slug}"),
    }
    if event.capacity is not None:
        data["maximumAttendeeCapacity"] = event.capacity
        data["remainingAttendeeCapacity"] = event.places_left
    if event.description_text:
        data["description"] = summary(event.description_text)
    return _json_for_script(data)


#: Stand-ins in the cached registration form for what differs per visitor (the template
#: puts the request's CSRF field and a fresh form nonce in their place).
CSRF_MARK = "<!--rencontres:csrf-input-->"
REQUEST_KEY_MARK = "rencontres-request-key-mark"


@dataclass(frozen=True)
class EventPageParts:
    """The cacheable parts of an event page, around its registration section."""

    title: str
    head: str
    top: str
    #: The registration section with CSRF_MARK and REQUEST_KEY_MARK still to fill in.
    registration: str
    bottom: str


def render_event_parts(
    request: Request, session: Session, event: Event, settings: Settings, *, now: datetime
) -> EventPageParts:
    """The page's parts for ``event`` (loaded with its programme), nothing per visitor."""
    over = is_over(event, now)
    parts: dict[str, Any] = {
        "event": event,
        "is_over": over,
        "cancelled": event.status is EventStatus.CANCELLED,
        # The community's calls for proposals this evening (or its series) belongs to.
        "calls": CallService(session).current_for(
            event.community, series_id=event.series_id, event_id=event.id, now=now
        ),
        # The open-space board's link, when it is on.
        "board_on": BoardService(session).is_on(event),
        # Offers & needs, when on: the public board, or how people registered get in.
        "offers_board": open_board(session, event, now),
        # The "help us" section: shifts that still need people.
        "help": [] if over else VolunteerService(session).roles(event),
        "programme": schedule(list(event.programme)),
        "panel": registration_panel(event, now=now),
        "calendar": event_links(settings, event),
        "json_ld": event_json_ld(event, settings),
        "canonical_url": settings.absolute_url(f"/e/{event.slug}"),
        "summary": summary(event.description_text),
        "og_locale": OG_LOCALES.get(current_locale.get(), "en_GB"),
        "cover_url": cover_path(event),
        "og_image": (settings.absolute_url(path) if (path := cover_path(event)) else None),
        **VIEW_HELPERS,
    }
    # The registration form, drawn with stand-ins for the two per-visitor values.
    blank = replace(parts["panel"], request_key=REQUEST_KEY_MARK)
    return EventPageParts(
        title=event.title,
        head=render_to_string(request, "public/_event_head.html", **parts),
        top=render_to_string(request, "public/_event_top.html", **parts),
        registration=""
        if event.is_external
        else render_to_string(
            request,
            "registrations/_registration.html",
            event=event,
            registration=blank,
            csrf_input=CSRF_MARK,
        ),
        bottom=render_to_string(request, "public/_event_bottom.html", **parts),
    )


def event_page_context(request: Request, parts: EventPageParts, **extra: Any) -> dict[str, Any]:
    """What ``public/event.html`` needs: the parts and this visitor's two values (left as
    the nonce's mark when the page is rendered to be kept whole, web/whole_pages.py)."""
    return {
        "parts": parts,
        "marks": {"csrf": CSRF_MARK, "request_key": REQUEST_KEY_MARK},
        "request_key": REQUEST_KEY_MARK if rendering_shell(request) else new_request_key(),
        **extra,
    }
