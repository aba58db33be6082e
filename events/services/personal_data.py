"""A registrant's personal data, declared once: what "download my data" gives them and what
erasing ("delete my data") or anonymising a registration clears.

Every column of ``Registration`` belongs to exactly one group (tests/domain/
test_personal_data.py fails on a column that belongs to none, so a new column is classified
here, where its export and its erasure are written):

- :data:`IDENTIFYING`: who the person is (name, address, language, opt-in, their answers to
  the organiser's questions, their ticket). Exported, and cleared by
  :func:`clear_personal_data`;
- :data:`ABOUT_THE_PARTY`: what happened to the registration (party size, status, dates,
  arrivals). Exported, and kept after erasure: an anonymous party keeps the event's figures
  true;
- :data:`LINK_STATE`: what lets someone act for the registrant (the manage link's hash, the
  form's nonce, the confirmation deadline). Secrets or noise, never exported; cleared, so
  nothing can act for an erased person any more;
- :data:`BOOKKEEPING`: the row's identity and its event. Neither.

:func:`export_personal_data` returns plain JSON-ready data; the web layer only serialises it.

What the registrant contributed with the ticket is theirs too, exported with the
registration:

- volunteer shifts (``ShiftSignup``: the name and address again): cancelled (while still to
  come) and cleared when the registration is erased, cleared when the event's registrations
  are anonymised;
- their feedback (``Feedback``): deleted when the registration is erased; when anonymised,
  its free text and answers go (they may say anything about a person) and its ratings stay.

:func:`erase_contributions` and :func:`anonymise_contributions` do both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import NotFound
from events.mail.i18n import mail_locale, translations
from events.models import (
    Event,
    Feedback,
    Registration,
    RegistrationLink,
    ShiftSignup,
    SignupStatus,
)
from events.services.door_links import DoorLinkService
from events.services.exchange_privacy import export_exchange
from events.services.places import SHIFT_SPOTS, release_spot
from events.services.questions import answered_questions
from events.tickets import ticket_url
from events.tokens import hash_token, new_token

IDENTIFYING = ("name", "email", "locale", "opt_in", "answers", "ticket_code")
ABOUT_THE_PARTY = (
    "guests",
    "status",
    "waitlist_position",
    "walk_in",
    "arrived",
    "created_at",
    "consent_at",
    "confirmed_at",
    "cancelled_at",
)
LINK_STATE = ("manage_token_hash", "request_key", "hold_expires_at")
#: ``sa_orm_sentinel``: SQLAlchemy's marker for bulk inserts (advanced-alchemy's base).
BOOKKEEPING = ("id", "event_id", "updated_at", "sa_orm_sentinel")

ANONYMISED_NAME = "Anonymised"
ANONYMISED_DOMAIN = "anonymised.invalid"  # .invalid can never be a real address (RFC 2606)


def placeholder_email(registration: Registration) -> str:
    """The erased address: unique per row (the one-active-address-per-event index holds for
    anonymous parties of a past event), never deliverable."""
    return f"{registration.id.hex}@{ANONYMISED_DOMAIN}"


def is_anonymised(registration: Registration) -> bool:
    return registration.email == placeholder_email(registration)


def clear_personal_data(registration: Registration) -> None:
    """Clear :data:`IDENTIFYING` and :data:`LINK_STATE` on ``registration`` (the manage
    token's hash becomes that of a token nobody knows: the private link stops working).
    The caller flushes, and deals with what lies outside the row (queued mails, feeds)."""
    registration.name = ANONYMISED_NAME
    registration.email = placeholder_email(registration)
    registration.locale = "en"
    registration.opt_in = False
    registration.answers = {}
    registration.ticket_code = None
    registration.manage_token_hash = hash_token(new_token())
    registration.request_key = None
    registration.hold_expires_at = None


def forget_private_links(session: Session, registration_ids: list[UUID]) -> None:
    """Delete the further private links of these registrations (``RegistrationLink``:
    :data:`LINK_STATE` kept beside the row); their first link is cleared with the row."""
    session.execute(
        delete(RegistrationLink).where(RegistrationLink.registration_id.in_(registration_ids))
    )


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_personal_data(
    session: Session,
    registration: Registration,
    *,
    base_url: str,
    retention_days: int,
    now: datetime,
) -> dict[str, Any]:
    """Everything stored about ``registration``'s person, as JSON-ready data: the
    registration (:data:`IDENTIFYING` and :data:`ABOUT_THE_PARTY`), the answers with their
    questions as they read, the event, the arrivals at the door (never the volunteer's
    device), and how long it is kept. Never the manage token or anything of
    :data:`LINK_STATE`. ``base_url`` makes the addresses absolute."""
    # Imported here: the door service imports the registration service, which clears
    # personal data through this module.
    from events.services.door import DoorService

    event = session.get(Event, registration.event_id)
    if event is None:
        raise NotFound()
    site = base_url.rstrip("/")
    code = registration.ticket_code
    return {
        "registration": {
            "name": registration.name,
            "email": registration.email,
            "guests": registration.guests,
            "status": registration.status.value,
            "waitlist_position": registration.waitlist_position,
            "language": registration.locale,
            "hear_about_next_events": registration.opt_in,
            "registered_at_the_door": registration.walk_in,
            "people_arrived": registration.arrived,
            "registered_at": _moment(registration.created_at),
            "consent_given_at": _moment(registration.consent_at),
            "confirmed_at": _moment(registration.confirmed_at),
            "cancelled_at": _moment(registration.cancelled_at),
            "ticket": ticket_url(site, code) if code else None,
        },
        # The answers to the organiser's questions, each with the question as it reads.
        "answers": [
            {"question": item.label, "answer": item.answer, "still_asked": not item.removed}
            for item in answered_questions(event, registration.answers)
        ],
        "event": {
            "title": event.title,
            "url": f"{site}/e/{event.slug}",
            "starts_at": _moment(event.starts_at),
            "ends_at": _moment(event.ends_at),
            "timezone": event.timezone,
            "organised_by": event.community.name,
        },
        # Arrival at the door (time, people let in; not the volunteer's device).
        "arrivals": [
            {
                "scanned_at": _moment(line.scanned_at),
                "recorded_at": _moment(line.recorded_at),
                "action": line.action,
                "verdict": line.verdict,
                "people": line.people,
                "offline": line.offline,
                "undone": line.undone,
            }
            for line in reversed(DoorService(session).log(event, registration_id=registration.id))
        ],
        "feedback": feedback_data(session, registration),
        # Volunteer shifts taken with this ticket.
        "volunteer_shifts": [
            signup_data(session, signup, site)
            for signup in session.scalars(
                select(ShiftSignup)
                .where(ShiftSignup.registration_id == registration.id)
                .order_by(ShiftSignup.created_at)
            )
        ],
        # Their offers & needs (events/services/exchange_privacy.py), if they took part.
        "offers_and_needs": export_exchange(session, registration),
        "retention": {
            "personal_data_anonymised_days_after_event": retention_days,
            "privacy_notice": f"{site}/privacy",
        },
        "exported_at": _moment(now),
    }


def signup_data(session: Session, signup: ShiftSignup, site: str) -> dict[str, Any]:
    """One volunteer sign-up in a data export: the role (in the volunteer's language), the
    shift, its status; never another volunteer. ``site``: the base URL."""
    event = session.get(Event, signup.event_id)
    shift = signup.shift
    gettext = translations(mail_locale(signup.locale)).gettext
    return {
        "role": shift.role.name_in(mail_locale(signup.locale), gettext),
        "event": event.title if event else "",
        "event_url": f"{site}/e/{event.slug}" if event else "",
        "starts_at": _moment(shift.starts_at),
        "ends_at": _moment(shift.ends_at),
        "status": signup.status.value,
        "signed_up_at": _moment(signup.created_at),
        "confirmed_at": _moment(signup.confirmed_at),
        "cancelled_at": _moment(signup.cancelled_at),
        "with_ticket": signup.registration_id is not None,
    }


def anonymise_contributions(session: Session, events: Any) -> int:
    """For ``events`` (ids, or a query of them): clear name, address and private link of
    the volunteers' sign-ups (the shifts' figures stay) and the free text and answers of
    the feedback (its ratings stay). Returns how many sign-ups were cleared."""
    # JSON compares as its text on both databases ("{}": nothing answered).
    answered = cast(Feedback.answers, String) != "{}"
    session.execute(
        update(Feedback)
        .where(
            Feedback.event_id.in_(events),
            or_(Feedback.keep != "", Feedback.change != "", answered),
        )
        .values(keep="", change="", answers={})
    )
    signups = list(
        session.scalars(
            select(ShiftSignup).where(
                ShiftSignup.event_id.in_(events),
                ShiftSignup.email.not_like(f"%@{ANONYMISED_DOMAIN}"),
            )
        )
    )
    for signup in signups:
        _clear_signup(signup)
    session.flush()
    return len(signups)


def erase_contributions(session: Session, registration_id: UUID) -> None:
    """The registrant erased their data: their feedback is deleted; the sign-ups made with
    their ticket are cancelled while their shift is still to come (spot freed, door link
    revoked), then cleared."""
    session.execute(delete(Feedback).where(Feedback.registration_id == registration_id))
    signups = list(
        session.scalars(select(ShiftSignup).where(ShiftSignup.registration_id == registration_id))
    )
    now = utcnow()
    for signup in signups:
        if signup.status is not SignupStatus.CANCELLED and now < signup.shift.starts_at:
            SHIFT_SPOTS.lock(session, signup.shift_id)
            session.refresh(signup)
            release_spot(session, signup)
            DoorLinkService(session).revoke_for_signup(signup.id)
        _clear_signup(signup)
    session.flush()


def _clear_signup(signup: ShiftSignup) -> None:
    signup.name = ANONYMISED_NAME
    signup.email = f"{signup.id.hex}@{ANONYMISED_DOMAIN}"
    signup.manage_token_hash = hash_token(new_token())
    signup.locale = "en"
    signup.registration_id = None


def export_volunteer_data(
    session: Session,
    signup: ShiftSignup,
    shifts: list[ShiftSignup],
    *,
    base_url: str,
    now: datetime,
) -> dict[str, Any]:
    """What a volunteer's private link (``/v/{token}``) downloads: who they are and their
    ``shifts`` (events/services/volunteers.py ``my_shifts``)."""
    site = base_url.rstrip("/")
    return {
        "volunteer": {"name": signup.name, "email": signup.email, "language": signup.locale},
        "shifts": [signup_data(session, mine, site) for mine in shifts],
        "exported_at": _moment(now),
    }


def feedback_data(session: Session, registration: Registration) -> dict[str, Any] | None:
    """The registrant's feedback as they gave it (None when they gave none)."""
    feedback = session.scalar(select(Feedback).where(Feedback.registration_id == registration.id))
    if feedback is None:
        return None
    return {
        "rating": feedback.rating,
        "keep": feedback.keep,
        "change": feedback.change,
        "session_ratings": feedback.session_ratings,
        "answers": feedback.answers,
        "given_at": _moment(feedback.created_at),
        "changed_at": _moment(feedback.updated_at),
    }
