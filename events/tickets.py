"""Ticket codes: what the QR code carries and the door scans.

A code is 27 characters drawn with ``secrets`` from a 31-letter alphabet without look-alikes
(no ``0 o 1 i l``, as pretix does): 27 × log2(31) ≈ 133.8 bits, above the 128 bits the
product asks for. Codes are lower-case; ``normalise_ticket_code`` accepts what a person or a
keyboard-emulating scanner may type (upper case, spaces, dashes, or the whole ticket URL).
The code is not personal data, and it is separate from the private manage token.
"""

from __future__ import annotations

import math
import re
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from events.models import Registration

TICKET_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TICKET_CODE_LENGTH = 27
#: Bits of randomness in one code (≈ 133.8).
TICKET_CODE_BITS = TICKET_CODE_LENGTH * math.log2(len(TICKET_ALPHABET))

_CODE = re.compile(rf"^[{TICKET_ALPHABET}]{{{TICKET_CODE_LENGTH}}}$")


#: Every code is one number below this, written in base 31 with :data:`TICKET_ALPHABET`.
_CODES = len(TICKET_ALPHABET) ** TICKET_CODE_LENGTH


def new_ticket_code() -> str:
    """One uniform draw among all codes: the same distribution as 27 draws of one letter
    each, for one call to the system's random source instead of 27 (they were a twentieth
    of a registration's time)."""
    number = secrets.randbelow(_CODES)
    base = len(TICKET_ALPHABET)
    letters = []
    for _ in range(TICKET_CODE_LENGTH):
        number, digit = divmod(number, base)
        letters.append(TICKET_ALPHABET[digit])
    return "".join(letters)


def ticket_url(base_url: str, code: str) -> str:
    """The absolute URL the QR code encodes: ``{BASE_URL}/t/{code}``."""
    return f"{base_url.rstrip('/')}/t/{code}"


def normalise_ticket_code(value: str | None) -> str | None:
    """The code in ``value`` (a bare code or a ticket URL), or None if it cannot be one."""
    text = (value or "").strip().lower()
    if "/t/" in text:
        text = text.rsplit("/t/", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = re.sub(r"[\s-]", "", text)
    return text if _CODE.match(text) else None


def reissue_ticket(registration: Registration) -> str:
    """Give ``registration`` a new ticket code (the old one stops working); returns it.

    The caller's session flushes it; ``RegistrationService.reissue_ticket`` also logs it.
    """
    registration.ticket_code = new_ticket_code()
    return registration.ticket_code
