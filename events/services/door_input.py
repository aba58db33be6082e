"""What the door accepts, cleaned once.

Every field a door request carries (a scan, a check-in by name, an undo, a walk-in, a
search) becomes a typed input here, or a ``ValidationFailed`` naming each bad field with a
code (all of a request's bad fields at once). The web layer only turns a body (JSON or a
plain form) into a dict; nothing else cleans door input, and ``DoorService`` takes these
types, never raw values. JSON numbers are accepted wherever a form sends digits.

The policy
----------
- ``nonce``, the idempotency key of a scan or walk-in: 8 to 64 of ``A-Z a-z 0-9 _ -``. A
  missing or empty nonce gets a fresh one from the server (``srv-`` and 32 hex digits): the
  request counts, but a retry of it would count again (a plain form posted without the
  page's nonce). Anything else is refused (``invalid_characters``), never rewritten: a
  rewritten key would silently stop matching its retry. ``srv-`` and ``undo-`` are the
  server's own prefixes, refused from clients so that no client key can take theirs.
- ``device``, the phone's label: control characters become spaces, runs of white space one
  space, cut to 60 characters; empty means ``door``. A label is never refused for its text.
- ``device_key``, a random key the phone keeps (the same phone renamed is the same
  device): 8 to 64 of ``A-Z a-z 0-9 _ -``, or nothing (a plain form).
- ``people``, a partial arrival: absent, empty or ``all`` admits everyone of the party not
  yet in; otherwise a whole number from 1 to 1000.
- ``scanned_at``, the real time of an offline scan: ISO 8601, UTC when it has no offset.
  More than a minute ahead of the server (a wrong phone clock) or older than two days: the
  server's time is recorded instead; within that minute ahead, now.
- ``offline``: true (JSON ``true``, or ``on``/``true``/``1`` from a form) or false.
- ``scanned``, what the camera or the keyboard read: required; any text is a scan, and text
  that cannot hold a ticket code (a stray QR code, garbage, over 2,000 characters) answers
  "unknown ticket" and is logged as such rather than refused: that is what the volunteer
  holding the phone needs to hear.
- search term: white space collapsed, cut to 120 characters; under two characters it finds
  nobody (``too_short``).
- walk-in: ``name`` required, one line, at most 120 characters; ``guests`` a whole number
  from 0 (empty means 0; the event's own allowance is ``DoorService.walk_in``'s rule);
  ``email`` optional, a valid address.
- ``check_in_id`` of an undo: a UUID.
- A text field sent as anything but a string (a JSON number, a list...) is ``not_text``.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from events import tickets
from events.errors import ValidationFailed
from events.folding import fold
from events.validation import NAME_MAX_LENGTH, FieldErrors, clean_email, clean_text

#: Longest scanner input looked at: a ticket URL is far shorter; anything longer is garbage.
MAX_SCAN_LENGTH = 2000
DEVICE_MAX_LENGTH = 60
DEFAULT_DEVICE = "door"
#: A search term longer than the longest name cannot find anybody.
SEARCH_MAX_LENGTH = NAME_MAX_LENGTH
SEARCH_MIN_LENGTH = 2
#: Most people one request may admit, and most guests a walk-in may bring (the event's
#: guest allowance is the real limit; this only bounds the number itself).
MAX_PEOPLE = 1000
#: An offline scan older than this, or more than ``CLOCK_SKEW`` ahead of the server, is
#: recorded at the time the server receives it.
MAX_OFFLINE_AGE = timedelta(days=2)
CLOCK_SKEW = timedelta(minutes=1)
MAX_DATETIME_LENGTH = 40
_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
#: Digits as a form sends them; a dozen at most (``int()`` of a long string is slow).
_DIGITS = re.compile(r"[+-]?[0-9]{1,12}")
#: Prefixes of the nonces the server writes itself (a missing nonce, an undo).
SERVER_NONCE_PREFIX = "srv-"
UNDO_NONCE_PREFIX = "undo-"
_TRUE = {"on", "true", "1"}
_WHOLE_PARTY = {"", "all"}

Data = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Arrival:
    """How people come in: by ticket (``ScanInput``) or found by name."""

    nonce: str
    device: str
    #: The phone's own key; None when it sent none.
    device_key: str | None = None
    #: None: everyone of the party not yet in; a number: that many (partial arrival).
    people: int | None = None
    #: UTC, the real time of an offline scan; None: now.
    scanned_at: datetime | None = None
    offline: bool = False


@dataclass(frozen=True, slots=True)
class ScanInput(Arrival):
    #: The ticket code in what was scanned; "" when it cannot be one (answers unknown).
    code: str = ""


@dataclass(frozen=True, slots=True)
class UndoInput:
    check_in_id: UUID
    device: str


@dataclass(frozen=True, slots=True)
class WalkInInput:
    name: str
    guests: int
    #: "" when none was given.
    email: str
    nonce: str
    device: str

    @property
    def people(self) -> int:
        return 1 + self.guests


@dataclass(frozen=True, slots=True)
class SearchTerm:
    #: White space collapsed, at most ``SEARCH_MAX_LENGTH`` characters (what was searched).
    text: str

    @property
    def folded(self) -> str:
        return fold(self.text)

    @property
    def too_short(self) -> bool:
        """Something was typed, but too little to search for."""
        return 0 < len(self.folded) < SEARCH_MIN_LENGTH

    @property
    def searchable(self) -> bool:
        return len(self.folded) >= SEARCH_MIN_LENGTH


# -- the operations' inputs -----------------------------------------------------------------
def scan_input(data: Data, *, now: datetime) -> ScanInput:
    """A scan (``scanned`` and the arrival fields); ``now`` is the server's time."""
    errors = FieldErrors()
    scanned = errors.check(_scanned, data.get("scanned"))
    arrival = errors.check(arrival_input, data, now=now)
    errors.raise_if_any()
    return ScanInput(
        nonce=arrival.nonce,
        device=arrival.device,
        device_key=arrival.device_key,
        people=arrival.people,
        scanned_at=arrival.scanned_at,
        offline=arrival.offline,
        code=ticket_code_from(scanned),
    )


def arrival_input(data: Data, *, now: datetime) -> Arrival:
    """A check-in of someone found by name: nonce, device, people, time, offline flag."""
    errors = FieldErrors()
    arrival = Arrival(
        nonce=errors.check(clean_nonce, data.get("nonce")),
        device=errors.check(clean_device, data.get("device")),
        device_key=errors.check(_device_key, data.get("device_key")),
        people=errors.check(_people, data.get("people")),
        scanned_at=errors.check(_scanned_at, data.get("scanned_at"), now),
        offline=_flag(data.get("offline")),
    )
    errors.raise_if_any()
    return arrival


def scanned_code(data: Data) -> str:
    """Careful mode's question (what would this scan answer?): the ticket code in
    ``scanned``, "" when it cannot be one."""
    return ticket_code_from(_scanned(data.get("scanned")))


def undo_input(data: Data) -> UndoInput:
    errors = FieldErrors()
    check_in_id = errors.check(_uuid, "check_in_id", data.get("check_in_id"))
    device = errors.check(clean_device, data.get("device"))
    errors.raise_if_any()
    return UndoInput(check_in_id=check_in_id, device=device)


def walk_in_input(data: Data) -> WalkInInput:
    errors = FieldErrors()
    name = errors.check(_text, "name", data.get("name"))
    email = errors.check(_text, "email", data.get("email"))
    walk_in = WalkInInput(
        name=errors.check(clean_text, "name", name, max_length=NAME_MAX_LENGTH)
        if name is not None
        else "",
        guests=errors.check(_whole_number, "guests", data.get("guests"), minimum=0, empty=0),
        email=errors.check(clean_email, "email", email) if email and email.strip() else "",
        nonce=errors.check(clean_nonce, data.get("nonce")),
        device=errors.check(clean_device, data.get("device")),
    )
    errors.raise_if_any()
    return walk_in


def search_term(value: object) -> SearchTerm:
    """What the name search looks for; anything but text searches for nothing."""
    text = value if isinstance(value, str) else ""
    return SearchTerm(" ".join(text.split())[:SEARCH_MAX_LENGTH])


# -- one field each ---------------------------------------------------------------------------
def clean_nonce(value: object) -> str:
    if value is None or value == "":
        return SERVER_NONCE_PREFIX + secrets.token_hex(16)
    if not isinstance(value, str):
        raise ValidationFailed({"nonce": "not_text"})
    if not _KEY.fullmatch(value) or value.startswith((SERVER_NONCE_PREFIX, UNDO_NONCE_PREFIX)):
        raise ValidationFailed({"nonce": "invalid_characters"})
    return value


def clean_device(value: object) -> str:
    if value is None:
        return DEFAULT_DEVICE
    if not isinstance(value, str):
        raise ValidationFailed({"device": "not_text"})
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in value)
    return " ".join(text.split())[:DEVICE_MAX_LENGTH].strip() or DEFAULT_DEVICE


def _device_key(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationFailed({"device_key": "not_text"})
    if not _KEY.fullmatch(value):
        raise ValidationFailed({"device_key": "invalid_characters"})
    return value


def ticket_code_from(scanned: str | None) -> str:
    """The ticket code in what a scanner read: a full ticket URL ``.../t/{code}`` (any
    host), a bare code, upper case, spaces or dashes. "" when it cannot be a code."""
    if not isinstance(scanned, str) or len(scanned) > MAX_SCAN_LENGTH:
        return ""
    return tickets.normalise_ticket_code(scanned) or ""


def _scanned(value: object) -> str:
    text = _text("scanned", value)
    if not text.strip():
        raise ValidationFailed({"scanned": "required"})
    return text


def _text(field: str, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed({field: "not_text"})
    return value


def _people(value: object) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in _WHOLE_PARTY):
        return None
    return _whole_number("people", value, minimum=1)


def _whole_number(field: str, value: object, *, minimum: int, empty: int | None = None) -> int:
    """A JSON number or the digits a form sends, from ``minimum`` to ``MAX_PEOPLE``."""
    if isinstance(value, bool):  # JSON true is not a number, although Python says 1
        raise ValidationFailed({field: "invalid_number"})
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text and empty is not None:
            return empty
        if not _DIGITS.fullmatch(text):
            raise ValidationFailed({field: "invalid_number"})
        value = int(text)
    if value is None and empty is not None:
        return empty
    if not isinstance(value, int):
        raise ValidationFailed({field: "invalid_number"})
    if not minimum <= value <= MAX_PEOPLE:
        raise ValidationFailed({field: "out_of_range"})
    return value


def _scanned_at(value: object, now: datetime) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and len(value) <= MAX_DATETIME_LENGTH:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed({"scanned_at": "invalid_datetime"}) from None
    else:
        raise ValidationFailed({"scanned_at": "invalid_datetime"})
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # year 1 at +14:00: before any representable UTC time
        raise ValidationFailed({"scanned_at": "invalid_datetime"}) from None
    if moment > now + CLOCK_SKEW or moment < now - MAX_OFFLINE_AGE:
        return None  # a wrong device clock: the server's time is better than nonsense
    return min(moment, now)


def _flag(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def _uuid(field: str, value: object) -> UUID:
    if value is None or value == "":
        raise ValidationFailed({field: "required"})
    if not isinstance(value, str):
        raise ValidationFailed({field: "not_text"})
    try:
        return UUID(value.strip())
    except ValueError:
        raise ValidationFailed({field: "invalid_choice"}) from None
