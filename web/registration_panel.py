"""What the registration section of an event page shows: whether one can register (and
how), and the form with its typed values and errors.

Used by the event page (web/controllers/public_events.py) and by the registration
controller when it re-renders the form (web/controllers/registrations.py).
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from events.clock import utcnow
from events.models import Event, EventStatus


class PanelState(enum.StrEnum):
    OPEN = "open"
    #: Full, and new registrations join the waitlist.
    WAITLIST = "waitlist"
    #: Full, no waitlist: the form is not shown.
    FULL = "full"
    CLOSED = "closed"


def new_request_key() -> str:
    """A fresh nonce for one rendered form: submitting it twice registers once."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class RegistrationPanel:
    state: PanelState
    #: Why registration is closed: "cancelled", "over" or "draft" ("" when open).
    reason: str
    places_left: int | None
    request_key: str
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        return self.state is PanelState.CLOSED

    @property
    def shows_form(self) -> bool:
        return self.state in {PanelState.OPEN, PanelState.WAITLIST}


def registration_panel(
    event: Event,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> RegistrationPanel:
    """The panel for ``event`` as it stands; a new ``request_key`` on every call.

    The registration service decides for real (under the event's lock); this only chooses
    what to show, with the same rules: open while published and not ended, full when no
    place is left."""
    now = now or utcnow()
    reason = ""
    if event.status is EventStatus.DRAFT:
        reason = "draft"
    elif event.status is EventStatus.CANCELLED:
        reason = "cancelled"
    elif event.ends_at <= now:
        reason = "over"
    places_left = event.places_left
    if reason:
        state = PanelState.CLOSED
    elif places_left is not None and places_left <= 0:
        state = PanelState.WAITLIST if event.waitlist_enabled else PanelState.FULL
    else:
        state = PanelState.OPEN
    return RegistrationPanel(
        state=state,
        reason=reason,
        places_left=places_left,
        request_key=new_request_key(),
        values=dict(values or {}),
        errors=dict(errors or {}),
    )
