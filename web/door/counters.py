"""The door's counters as plain data: JSON for the live stream, context for the scanner's
and the organiser's pages. The figures are ``DoorService.counters``; this only shapes
them (the arrival curve as bars in the event's time zone)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import Event
from events.services.door import DoorCounters, DoorService
from web.i18n import format_time


def arrival_bars(arrivals: list[tuple[datetime, int]], zone: str) -> list[dict[str, Any]]:
    """One bar per 10-minute bucket: its start in the event's zone, the people admitted,
    and a level from 0 to 10 relative to the busiest bucket."""
    peak = max((count for _moment, count in arrivals), default=0)
    return [
        {
            "time": format_time(moment, zone),
            "count": count,
            "level": round(10 * count / peak) if peak else 0,
        }
        for moment, count in arrivals
    ]


def counters_view(counters: DoorCounters, event: Event) -> dict[str, Any]:
    return {
        "checked_in": counters.checked_in,
        "expected": counters.expected,
        "walk_ins": counters.walk_ins,
        "parties_checked_in": counters.parties_checked_in,
        "conflicts": counters.conflicts,
        "arrivals": arrival_bars(counters.arrivals, event.timezone),
    }


def counters_of(session: Session, event: Event) -> dict[str, Any]:
    return counters_view(DoorService(session).counters(event, now=utcnow()), event)
