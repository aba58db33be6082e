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
from events.lifecycle import registration_closed_reason
from events.models import Event
from events.services.questions import QuestionKind, form_questions
from web.i18n import gettext as _
from web.messages import field_errors


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
    #: Why registration is closed: "cancelled", "over", "draft" or "external" ("" when
    #: open; events/lifecycle.py decides).
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
    what to show, with the same rule (events/lifecycle.py), and "full" when no place is
    left."""
    reason = registration_closed_reason(event, now or utcnow()) or ""
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


def registration_errors(event: Event, errors: Mapping[str, str]) -> dict[str, str]:
    """The registration form's messages for the domain's field codes: where a required
    box or question was left empty, each says what to do (tick, choose, answer) instead
    of "This field is required."."""
    asks = {
        QuestionKind.SHORT_TEXT: _("Answer this question to register."),
        QuestionKind.LONG_TEXT: _("Answer this question to register."),
        QuestionKind.SINGLE_CHOICE: _("Choose one answer to register."),
        QuestionKind.MULTIPLE_CHOICE: _("Choose at least one answer to register."),
        QuestionKind.CHECKBOX: _("Tick this box to register."),
    }
    kinds = {question.field_name: question.kind for question in form_questions(event)}
    messages = field_errors(dict(errors))
    for name, code in errors.items():
        if code != "required":
            continue
        if name == "consent":
            messages[name] = _("Tick the box to accept the privacy notice.")
        elif name in kinds:
            messages[name] = asks[kinds[name]]
    return messages
