"""Volunteer sign-ups as the web shows them outside the volunteer pages: in data exports
(the volunteer's own ``/v/{token}/data.json`` and a registrant's ``/r/{token}/data.json``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from events.models import Event, ShiftSignup
from web.messages import volunteer_role_name
from web.settings import Settings


def shift_data(session: Session, signup: ShiftSignup, settings: Settings) -> dict[str, Any]:
    """One sign-up in a data export: what, when, its status; no other volunteer."""
    event = session.get(Event, signup.event_id)
    shift = signup.shift

    def moment(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "role": volunteer_role_name(shift.role),
        "event": event.title if event else "",
        "event_url": settings.absolute_url(f"/e/{event.slug}") if event else "",
        "starts_at": moment(shift.starts_at),
        "ends_at": moment(shift.ends_at),
        "status": signup.status.value,
        "signed_up_at": moment(signup.created_at),
        "confirmed_at": moment(signup.confirmed_at),
        "cancelled_at": moment(signup.cancelled_at),
        "with_ticket": signup.registration_id is not None,
    }
