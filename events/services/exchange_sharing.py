"""What a participant shows of themselves on an offers & needs board.

Before any match, others see only the **name** they chose (a first name or a pseudonym;
blank reads "Someone") next to their listings and requests. What they **share** with a
match (their registration's e-mail address, a phone number, a note such as "I wear a
green scarf") is stored here and shown only to the people who both said yes with them
(events/services/exchange_contacts.py ``matches``): choosing it changes nothing before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from events.errors import ValidationFailed
from events.models import ExchangeParticipant
from events.services.exchange_access import Seat, enter
from events.validation import FieldErrors, clean_text

NAME_MAX_LENGTH = 60
PHONE_MAX_LENGTH = 40
NOTE_MAX_LENGTH = 200
#: Digits and what people write between them (spaces, dots, dashes, brackets).
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{3,38}$")


@dataclass(frozen=True)
class SharingInput:
    """The sharing form's strings (``share_email`` is a checkbox: "on" when ticked)."""

    display_name: str = ""
    share_email: str = ""
    phone: str = ""
    meet_note: str = ""
    #: "on" when ticked: a mail for each request received.
    notify: str = ""


def _ticked(value: str) -> bool:
    return value.strip().lower() in {"on", "yes", "true", "1"}


def clean_phone(field: str, value: str) -> str:
    phone = clean_text(field, value, max_length=PHONE_MAX_LENGTH, required=False)
    if phone and not _PHONE.match(phone):
        raise ValidationFailed({field: "invalid_phone"})
    return phone


def choose_what_to_share(
    session: Session, seat: Seat, data: SharingInput, now: datetime
) -> ExchangeParticipant:
    """Set the seat's shown name and what their matches see; ``ValidationFailed`` names
    each bad field (``too_long``, ``invalid_characters``, ``invalid_phone``) and changes
    nothing."""
    errors = FieldErrors()
    name = errors.check(
        clean_text, "display_name", data.display_name, max_length=NAME_MAX_LENGTH, required=False
    )
    phone = errors.check(clean_phone, "phone", data.phone)
    note = errors.check(
        clean_text, "meet_note", data.meet_note, max_length=NOTE_MAX_LENGTH, required=False
    )
    errors.raise_if_any()
    participant = enter(session, seat, now, visit=False).require_participant()
    participant.display_name = name
    participant.share_email = _ticked(data.share_email)
    participant.phone = phone
    participant.meet_note = note
    participant.notify = _ticked(data.notify)
    session.flush()
    return participant
