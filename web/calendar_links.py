"""Links that put events into people's calendars: subscribe to a feed (webcal://, Google,
Outlook, a URL to copy) or add one event (.ics download, Google, Outlook).

Only links: nothing is loaded from another host.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from events.models import Event
from web.settings import Settings

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.live.com/calendar/0"  # Outlook.com (personal accounts)
OFFICE365 = "https://outlook.office.com/calendar/0"  # Microsoft 365 (work accounts)


@dataclass(frozen=True)
class FeedLinks:
    url: str
    webcal: str
    google: str
    outlook: str
    office365: str
    atom: str | None


@dataclass(frozen=True)
class EventLinks:
    ics: str
    google: str
    outlook: str
    office365: str


def webcal(url: str) -> str:
    """The same feed under the scheme calendar apps open as a subscription."""
    return "webcal://" + url.split("://", 1)[1]


def feed_links(settings: Settings, path: str, *, name: str, atom_path: str = "") -> FeedLinks:
    url = settings.absolute_url(path)
    subscribe = urlencode({"url": url, "name": name})
    return FeedLinks(
        url=url,
        webcal=webcal(url),
        google=f"{GOOGLE}?{urlencode({'cid': webcal(url)})}",
        outlook=f"{OUTLOOK}/addfromweb?{subscribe}",
        office365=f"{OFFICE365}/addfromweb?{subscribe}",
        atom=settings.absolute_url(atom_path) if atom_path else None,
    )


def _compact_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _where(event: Event) -> str:
    if event.venue is None:
        return event.online_url or ""
    return ", ".join(part for part in (event.venue.name, event.venue.address) if part)


def event_links(settings: Settings, event: Event) -> EventLinks:
    page = settings.absolute_url(f"/e/{event.slug}")
    google = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{_compact_utc(event.starts_at)}/{_compact_utc(event.ends_at)}",
        "ctz": event.timezone,
        "details": page,
        "location": _where(event),
    }
    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.title,
        "startdt": _iso_utc(event.starts_at),
        "enddt": _iso_utc(event.ends_at),
        "body": page,
        "location": _where(event),
    }
    return EventLinks(
        ics=f"/e/{event.slug}.ics",
        google=f"{GOOGLE}?{urlencode(google)}",
        outlook=f"{OUTLOOK}/deeplink/compose?{urlencode(outlook)}",
        office365=f"{OFFICE365}/deeplink/compose?{urlencode(outlook)}",
    )
