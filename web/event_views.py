"""How an event's time and place read on a page: the helpers every event template uses
(public pages, registration pages, tickets), passed to them as :data:`VIEW_HELPERS`.

Times are shown in the event's own zone, whatever the visitor's; a place links to
OpenStreetMap (its coordinates when known, else a search for its address).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from events.models import Event, Venue


def local_iso(moment: datetime, zone: str) -> str:
    """``2026-12-03T19:00:00+01:00``: the instant as wall-clock time in ``zone``."""
    return moment.astimezone(ZoneInfo(zone)).isoformat()


def same_local_day(event: Event) -> bool:
    zone = ZoneInfo(event.timezone)
    return event.starts_at.astimezone(zone).date() == event.ends_at.astimezone(zone).date()


def map_url(venue: Venue) -> str | None:
    """OpenStreetMap at the venue's coordinates, or a search for its address."""
    if venue.latitude is not None and venue.longitude is not None:
        lat, lon = venue.latitude, venue.longitude
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
    address = " ".join(venue.address.split())
    if address:
        return f"https://www.openstreetmap.org/search?query={quote(address, safe='')}"
    return None


#: The context every template that shows an event receives.
VIEW_HELPERS = {"local_iso": local_iso, "same_local_day": same_local_day, "map_url": map_url}
