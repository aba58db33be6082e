"""Input cleaning shared by every service: one rule for text, one for e-mail addresses,
one for time zones.

Each function returns the cleaned value or raises ``ValidationFailed`` naming the field
and a code (``required``, ``too_long``, ``invalid_characters``, ``invalid_email``...).

Time zones (:func:`clean_timezone`, used by every form, the API and the imports): only
IANA's canonical *region* zones are accepted, the ``Area/City`` names that tzdata's
``zone.tab`` and ``zone1970.tab`` list for the countries of the world (``Europe/Paris``,
``America/Argentina/Buenos_Aires``), plus ``UTC`` (``Etc/UTC``, the same zone, is stored
as ``UTC``). Refused, though ``zoneinfo`` would load them: ``Factory`` (no time at all),
``localtime`` (whatever the server's clock says), POSIX-style legacy zones (``EST5EDT``,
``CET``), fixed offsets (``Etc/GMT+5``, whose sign is the opposite of what people expect),
backward-compatibility aliases (``US/Eastern``, ``Europe/Kiev``, ``Asia/Calcutta``) and the
other spellings of UTC (``GMT``, ``Zulu``, ``Etc/Universal``). A stored zone is thus always
one a person would pick from a list, and the same place always has the same name.
Imported calendars may carry the old names: :func:`canonical_timezone` translates an alias
to the zone it stands for (``US/Eastern`` → ``America/New_York``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from events.errors import NotFound, ValidationFailed

T = TypeVar("T")

# A pragmatic address check: one @, a dot in the domain, no spaces or control characters.
# Deliverability is proven by the confirmation mail, not by a regex.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAX_EMAIL_LENGTH = 254
#: A person's name (registrants, walk-ins).
NAME_MAX_LENGTH = 120
_LOCALE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,4})?$")


def _has_control_characters(value: str, *, multiline: bool) -> bool:
    allowed = {"\n", "\t"} if multiline else set()
    return any(
        unicodedata.category(ch) in {"Cc", "Cs"} and ch not in allowed and ch != "\r"
        for ch in value
    ) or (not multiline and ("\r" in value or "\n" in value))


def clean_text(
    field: str,
    value: str | None,
    *,
    max_length: int,
    required: bool = True,
    multiline: bool = False,
) -> str:
    value = (value or "").strip()
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not value:
        if required:
            raise ValidationFailed({field: "required"})
        return ""
    if len(value) > max_length:
        raise ValidationFailed({field: "too_long"})
    if _has_control_characters(value, multiline=multiline):
        raise ValidationFailed({field: "invalid_characters"})
    return unicodedata.normalize("NFC", value)


def clean_email(field: str, value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed({field: "required"})
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValidationFailed({field: "too_long"})
    if _has_control_characters(value, multiline=False) or not _EMAIL.match(value):
        raise ValidationFailed({field: "invalid_email"})
    return value.lower()


#: What a ticked checkbox (``on``, what browsers send) or a true-ish API value may send.
CHECKED_VALUES = frozenset({"on", "true", "1", "yes", "y"})


def is_checked(value: str | bool | None) -> bool:
    """A ticked checkbox or a true-ish value from the API; anything else is not."""
    if isinstance(value, bool):
        return value
    return (value or "").strip().lower() in CHECKED_VALUES


class FieldErrors:
    """Collects every field's error so a form shows them all at once, not one per submit."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, clean: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return clean(*args, **kwargs)
        except ValidationFailed as failed:
            self.errors.update(failed.errors)
            return None  # type: ignore[return-value]

    def add(self, field: str, code: str) -> None:
        self.errors.setdefault(field, code)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def is_placeholder_email(address: str) -> bool:
    """A stand-in address under the reserved ``.invalid`` TLD (RFC 2606): a walk-in
    registered at the door without an address, an erased registrant. Never mailed, never
    shown (lists and exports say there is no e-mail)."""
    return address.lower().endswith(".invalid")


def clean_locale(value: str | None) -> str:
    """A language tag like ``fr`` or ``pt-BR``, else ``en`` (never reported: the visitor did
    not type it, their browser or page did)."""
    locale = (value or "").strip()
    return locale if len(locale) <= 8 and _LOCALE.match(locale) else "en"


def parse_local_datetime(field: str, value: str | None) -> datetime:
    """``2026-12-03T19:00`` (what ``<input type=datetime-local>`` sends) as a naive datetime."""
    value = (value or "").strip()
    if not value:
        raise ValidationFailed({field: "required"})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({field: "invalid_datetime"}) from None
    if parsed.tzinfo is not None or not 1900 < parsed.year < 2200:
        raise ValidationFailed({field: "invalid_datetime"})
    return parsed.replace(second=0, microsecond=0)


def parse_int(
    field: str, value: str | int | None, *, minimum: int, maximum: int, required: bool = False
) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        if required:
            raise ValidationFailed({field: "required"})
        return None
    try:
        number = int(text)
    except ValueError:
        raise ValidationFailed({field: "invalid_number"}) from None
    if not minimum <= number <= maximum:
        raise ValidationFailed({field: "out_of_range"})
    return number


#: The one spelling of UTC that is stored; ``Etc/UTC`` is accepted as the same zone.
UTC_ZONE = "UTC"
_UTC_SPELLINGS = frozenset({"UTC", "Etc/UTC"})


def _tzdata_text(name: str) -> str:
    # The tzdata package (the IANA database for Python) ships the zone tables as files.
    return files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")


def _loads(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@cache
def canonical_timezones() -> frozenset[str]:
    """Every accepted zone name: the region zones of ``zone.tab`` and ``zone1970.tab`` that
    this system's ``zoneinfo`` can load, and ``UTC``."""
    names: set[str] = set()
    for table in ("zone.tab", "zone1970.tab"):
        for line in _tzdata_text(table).splitlines():
            columns = line.split("\t")
            if not line.startswith("#") and len(columns) >= 3:
                names.add(columns[2].strip())
    return frozenset({UTC_ZONE, *(name for name in names if _loads(name))})


@cache
def _aliases() -> dict[str, str]:
    """Link name → the zone it points to, from tzdata's ``L target link`` lines."""
    links: dict[str, str] = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L":
            links[parts[2]] = parts[1]
    return links


def canonical_timezone(name: str | None) -> str | None:
    """The accepted name ``name`` stands for: itself, ``UTC`` for ``Etc/UTC``, the zone an
    alias points to (``US/Eastern`` → ``America/New_York``), or None (``Factory``,
    ``Etc/GMT+5``, an unknown name)."""
    name = (name or "").strip()
    for _hop in range(4):  # links point at zones, at most a link or two away
        if name in _UTC_SPELLINGS:
            return UTC_ZONE
        if name in canonical_timezones():
            return name
        if name not in _aliases():
            return None
        name = _aliases()[name]
    return None


def timezone_choices() -> list[str]:
    """The accepted zones for a ``<select>``: region zones by name, then ``UTC``."""
    return [*sorted(canonical_timezones() - {UTC_ZONE}), UTC_ZONE]


def clean_timezone(field: str, value: str | None) -> str:
    """A canonical IANA region zone or ``UTC`` (see the module docstring), else
    ``invalid_timezone``; ``Etc/UTC`` comes back as ``UTC``."""
    name = (value or "").strip()
    if not name:
        raise ValidationFailed({field: "required"})
    if name in _UTC_SPELLINGS:
        return UTC_ZONE
    if name not in canonical_timezones():
        raise ValidationFailed({field: "invalid_timezone"})
    return name


def clean_url(field: str, value: str | None, *, required: bool = False) -> str:
    url = clean_text(field, value, max_length=500, required=required)
    if url and not re.match(r"^https?://[^\s/$.?#][^\s]*$", url, re.IGNORECASE):
        raise ValidationFailed({field: "invalid_url"})
    return url


def clean_color(field: str, value: str | None) -> str:
    color = (value or "").strip()
    if color and not _COLOR.match(color):
        raise ValidationFailed({field: "invalid_color"})
    return color.lower()


def clean_tag_names(field: str, value: str | None) -> list[str]:
    """Comma-separated tags: at most 10, each at most 40 characters, duplicates merged."""
    names: list[str] = []
    for raw in (value or "").split(","):
        name = clean_text(field, raw, max_length=40, required=False)
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    if len(names) > 10:
        raise ValidationFailed({field: "too_many"})
    return names


def id_or_not_found(value: object) -> UUID:
    """The id a form or a path names; ``NotFound`` when it is not an id at all (a
    malformed id names nothing, exactly like an unknown one)."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound() from None
