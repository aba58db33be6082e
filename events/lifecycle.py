"""When things may happen to an event and its registrations: one predicate per question.

One boundary convention, everywhere (pages, services, door, feeds, discovery queries):

- an event has **started** once ``now >= starts_at``;
- an event is **over** once ``now >= ends_at``: its end instant already belongs to the past.
  ``is_upcoming_clause`` / ``is_over_clause`` state the same thing in SQL.

The questions, and who asks them:

- **registration open** (``registration_open``): the event is published, not mirrored from
  another calendar, and not over. Registering, confirming an address, and walk-ins at the
  door need it.
- **registration changeable** (``registration_changeable``): the registration is active,
  nobody of the party has been let in yet, and the event is published and not over.
  Cancelling, declining, changing guests, promoting from the waitlist and approving need
  it, **whoever asks** (the registrant or an organiser): after the end, or once someone came
  in, the door's figures, its log, the arrival chart and the exports describe what
  happened, and nothing may rewrite them.
- **capacity changeable** (``capacity_changeable``): raising the capacity promotes from the
  waitlist, so it follows the same rule as a change of registration: not after the end.
- **offers & needs open** (``exchange_open``): an event's offers & needs board takes
  listings and requests while the event is published and until ``expire_days`` after its
  end (``exchange_closes_at``): people meet at the event and write to each other after.
  Listings posted for it expire then.

Each ``require_*`` raises the ``Conflict`` code the pages translate (web/messages.py).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from events.errors import Conflict
from events.models import Event, EventStatus, Registration

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement


class Phase(enum.StrEnum):
    BEFORE = "before"
    DURING = "during"
    AFTER = "after"


def has_started(event: Event, now: datetime) -> bool:
    return now >= event.starts_at


def is_over(event: Event, now: datetime) -> bool:
    return now >= event.ends_at


def phase(event: Event, now: datetime) -> Phase:
    if is_over(event, now):
        return Phase.AFTER
    return Phase.DURING if has_started(event, now) else Phase.BEFORE


def is_upcoming_clause(now: datetime) -> ColumnElement[bool]:
    """SQL for "not over yet" (the same boundary as ``is_over``)."""
    return Event.ends_at > now


def is_over_clause(now: datetime) -> ColumnElement[bool]:
    return Event.ends_at <= now


def registration_closed_reason(event: Event, now: datetime) -> str | None:
    """Why nobody can register now ("draft", "cancelled", "external", "over"), or None."""
    if event.status is EventStatus.DRAFT:
        return "draft"
    if event.status is EventStatus.CANCELLED:
        return "cancelled"
    if event.is_external:  # mirrored from another calendar: people register there
        return "external"
    if is_over(event, now):
        return "over"
    return None


def registration_open(event: Event, now: datetime) -> bool:
    return registration_closed_reason(event, now) is None


def require_registration_open(event: Event, now: datetime) -> None:
    if not registration_open(event, now):
        raise Conflict("registration_closed")


def registration_unchangeable_reason(
    registration: Registration, event: Event, now: datetime
) -> str | None:
    """The ``Conflict`` code refusing a change of ``registration`` now, or None."""
    if not registration.status.is_active:
        return "registration_cancelled"
    if registration.arrived > 0:
        return "already_checked_in"
    if event.status is not EventStatus.PUBLISHED or is_over(event, now):
        return "registration_closed"
    return None


def registration_changeable(registration: Registration, event: Event, now: datetime) -> bool:
    return registration_unchangeable_reason(registration, event, now) is None


def require_registration_changeable(
    registration: Registration, event: Event, now: datetime
) -> None:
    reason = registration_unchangeable_reason(registration, event, now)
    if reason is not None:
        raise Conflict(reason)


def capacity_changeable(event: Event, now: datetime) -> bool:
    return not is_over(event, now)


def require_capacity_changeable(event: Event, now: datetime) -> None:
    if not capacity_changeable(event, now):
        raise Conflict("event_over")


def exchange_closes_at(event: Event, expire_days: int) -> datetime:
    """When the offers & needs posted for ``event`` expire."""
    return event.ends_at + timedelta(days=max(expire_days, 0))


def exchange_closed_reason(event: Event, expire_days: int, now: datetime) -> str | None:
    """Why ``event``'s offers & needs are closed ("exchange_closed"), or None."""
    if event.status is not EventStatus.PUBLISHED or now >= exchange_closes_at(event, expire_days):
        return "exchange_closed"
    return None
