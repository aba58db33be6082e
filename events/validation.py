"""Input cleaning shared by every service: one rule for text, one for e-mail addresses.

Each function returns the cleaned value or raises ``ValidationFailed`` naming the field
and a code (``required``, ``too_long``, ``invalid_characters``, ``invalid_email``...).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

from events.errors import ValidationFailed

T = TypeVar("T")

# A pragmatic address check: one @, a dot in the domain, no spaces or control characters.
# Deliverability is proven by the confirmation mail, not by a regex.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAX_EMAIL_LENGTH = 254


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
