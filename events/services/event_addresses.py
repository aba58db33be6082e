"""An event's address follows its date.

An event's slug ends with its local day (``jam-session-2026-12-03``; a series' occurrence
``jeudis-2026-12-03``), so a link says which evening it is. When an event moves to another
day, it takes the address of its new day, and the old one is kept
(``event_slug_redirect``): ``/e/{old}`` answers with a permanent redirect to the new page,
so the links already in mails, calendars and on posters keep working. Moving back gives
the event its former address again. A slug whose date part is not the event's former day
(none yet, but an organiser-chosen slug would be one) is left alone.

New slugs never take an address that still redirects to another event.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from events.models import Event, EventSlugRedirect
from events.services.slugs import available_slug

SLUG_MAX_LENGTH = 80


def local_day(event: Event) -> date:
    """The day the event starts, in its own time zone (the date in its address)."""
    return event.starts_at.astimezone(ZoneInfo(event.timezone)).date()


def new_event_slug(session: Session, wanted: str) -> str:
    """``wanted`` made unique among the events' slugs and the addresses that redirect."""
    base = wanted[:SLUG_MAX_LENGTH].strip("-")
    redirecting = session.scalars(
        select(EventSlugRedirect.old_slug).where(
            (EventSlugRedirect.old_slug == base) | EventSlugRedirect.old_slug.like(f"{base}-%")
        )
    )
    return available_slug(
        session,
        Event.slug,
        wanted,
        fallback="event",
        max_length=SLUG_MAX_LENGTH,
        reserved=set(redirecting),
    )


def follow_the_date(session: Session, event: Event, previous_day: date) -> str | None:
    """Give ``event`` the address of its day if it moved off ``previous_day``, keeping the
    old one as a redirect; returns the old slug when the address changed."""
    day = local_day(event)
    if day == previous_day:
        return None
    found = re.fullmatch(rf"(.+)-{previous_day.isoformat()}(-\d+)?", event.slug)
    if found is None:
        return None
    wanted = f"{found.group(1)}-{day.isoformat()}"
    # Back to a day it had before: that address is its own again, no longer a redirect.
    own = session.scalar(
        select(EventSlugRedirect).where(
            EventSlugRedirect.old_slug == wanted, EventSlugRedirect.event_id == event.id
        )
    )
    if own is not None:
        session.delete(own)
        session.flush()
    old = event.slug
    event.slug = new_event_slug(session, wanted)
    session.add(EventSlugRedirect(event_id=event.id, old_slug=old))
    session.flush()
    return old


def current_slug(session: Session, old_slug: str) -> str | None:
    """Where an address an event left now lives (None: it never redirected)."""
    return session.scalar(
        select(Event.slug)
        .join(EventSlugRedirect, EventSlugRedirect.event_id == Event.id)
        .where(EventSlugRedirect.old_slug == old_slug)
    )
