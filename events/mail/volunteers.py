"""Volunteers' mails: queued by events/services/volunteers.py in the caller's transaction,
rendered by the mail worker (events/mail/prepare.py) like the registrations' mails.

Links (``B`` = ``BASE_URL``): the sign-up's private page ``B/v/{token}`` (cancel, my
shifts, their ``.ics``) and, for a door shift, the door link ``B/door/{event}/link/{token}``;
both only in the mail sent when they were issued (only hashes are stored), so a reminder
points to the first mail.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from events.mail.i18n import format_moment, format_when, mail_locale, translations
from events.mail.notify import SUBJECT_MAX_LENGTH, enqueue, one_line
from events.mail.render import render
from events.mail.settings import MailSettings
from events.models import DoorLink, Event, RoleKind, Shift, ShiftSignup
from events.validation import is_placeholder_email


class VolunteerMail(enum.StrEnum):
    #: Confirmed on a shift: the private link, and the door link for a door shift.
    SIGNED_UP = "volunteer_signed_up"
    #: Receipt of the volunteer's own cancellation.
    CANCELLED = "volunteer_cancelled"
    #: An organiser took them off the shift.
    REMOVED = "volunteer_removed"
    REMINDER = "volunteer_reminder"


SPEC_KEY = "volunteer"


def is_volunteer_mail(spec: dict[str, Any]) -> bool:
    return SPEC_KEY in spec


def queue_volunteer_mail(
    session: Session,
    event: Event,
    signup: ShiftSignup,
    kind: VolunteerMail,
    *,
    token: str | None = None,
    door_token: str | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> UUID | None:
    """Queue a ``kind`` mail to the volunteer of ``signup``; ``token`` and ``door_token``
    (known only when just issued) add the private link and the door link."""
    if is_placeholder_email(signup.email):
        return None
    spec = {
        "kind": kind.value,
        SPEC_KEY: {
            "signup_id": str(signup.id),
            "shift_id": str(signup.shift_id),
            "name": signup.name,
            "locale": signup.locale,
        },
        "token": token,
        "door_token": door_token,
    }
    return enqueue(
        session,
        kind=kind.value,
        to_address=signup.email,
        subject="",
        text_body="",
        render_spec=spec,
        community_id=event.community_id,
        event_id=event.id,
        # A sign-up made with a ticket: erasing that registration drops its queued mails.
        registration_id=signup.registration_id,
        dedupe_key=dedupe_key,
        now=now,
    )


@dataclass(frozen=True)
class VolunteerMailBody:
    subject: str
    text_body: str
    html_body: str


def render_volunteer_mail(
    session: Session,
    spec: dict[str, Any],
    event: Event,
    settings: MailSettings,
    event_view: Callable[[str], dict[str, Any]],
) -> VolunteerMailBody:
    """The mail ``spec`` describes, with the shift as it is now; ``event_view(locale)``
    gives the event's details block (shared by a batch's mails)."""
    kind = VolunteerMail(spec["kind"])
    volunteer = spec[SPEC_KEY]
    locale = mail_locale(volunteer.get("locale"))
    gettext = translations(locale).gettext
    shift = session.get(Shift, UUID(volunteer["shift_id"]))
    if shift is None:
        raise LookupError("the shift was deleted before the mail was written")
    role = shift.role
    token, door_token = spec.get("token"), spec.get("door_token")
    door_opens = ""
    if door_token:
        link = session.scalar(
            select(DoorLink)
            .where(DoorLink.shift_signup_id == UUID(volunteer["signup_id"]))
            .order_by(DoorLink.created_at.desc())
            .limit(1)
        )
        if link is not None and link.valid_from is not None:
            door_opens = format_moment(link.valid_from, event.timezone, locale)
    private = settings.url(f"/v/{token}") if token else ""
    context = {
        "kind": kind.value,
        "locale": locale,
        "name": volunteer["name"],
        "role": role.name_in(locale, gettext),
        "is_door": role.kind is RoleKind.DOOR,
        "shift_when": format_when(shift.starts_at, shift.ends_at, event.timezone, locale),
        "event": event_view(locale),
        "private_url": private,
        "ics_url": f"{private}/shifts.ics" if token else "",
        "door_url": settings.url(f"/door/{event.slug}/link/{door_token}") if door_token else "",
        "door_opens": door_opens,
        "help_url": settings.url(f"/g/{event.community.slug}/volunteer"),
    }
    text, html = render(kind.value, locale, context)
    subjects = {
        VolunteerMail.SIGNED_UP: gettext("Your volunteer shift at %(title)s"),
        VolunteerMail.CANCELLED: gettext("Your volunteer shift at %(title)s is cancelled"),
        VolunteerMail.REMOVED: gettext("You are no longer on a shift at %(title)s"),
        VolunteerMail.REMINDER: gettext("Reminder: your volunteer shift at %(title)s"),
    }
    subject = one_line(subjects[kind] % {"title": one_line(event.title)})[:SUBJECT_MAX_LENGTH]
    return VolunteerMailBody(subject=subject, text_body=text, html_body=html)
