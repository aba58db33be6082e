"""The public registration form's use case: register for the event behind a slug.

One call is one unit of the web layer's group-commit batch (web/write_batch.py): several
registrations share one transaction, so the event is loaded once per session — without its
tags and cover, which the answer never shows (loading them was a quarter of each
registration's time). Its counter and settings are re-read under the lock by
``RegistrationService.register`` anyway, so a batch never decides on stale values.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from events.models import Event
from events.services.events import WITHOUT_COLLECTIONS, EventService
from events.services.registrations import (
    RegistrationInput,
    RegistrationResult,
    RegistrationService,
)

#: ``session.info`` key of the events a batch already loaded, by slug: a cache that lives
#: exactly as long as the transaction.
_LOADED = "rencontres.events_by_slug"


@dataclass(frozen=True)
class Registered:
    """What the answer to a registration needs, read inside its transaction."""

    event: Event
    result: RegistrationResult
    #: The rank on the waitlist (1 = next), when the party waits.
    rank: int | None


def register_for_event(
    session: Session, slug: str, data: RegistrationInput, *, lock: bool = True
) -> Registered:
    """Register ``data`` for the public event ``slug`` (``NotFound`` for a draft or unknown
    event; every rule and error of ``RegistrationService.register``). ``lock=False`` is the
    TEST-ONLY negative control of events/services/places.py."""
    loaded: dict[str, Event] = session.info.setdefault(_LOADED, {})
    if slug not in loaded:
        loaded[slug] = EventService(session).by_slug(slug, options=WITHOUT_COLLECTIONS)
    event = loaded[slug]
    service = RegistrationService(session, lock=lock)
    result = service.register(event, data)
    return Registered(event, result, service.waitlist_rank(result.registration))
