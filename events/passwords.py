"""Passwords: what is accepted, and hashing with argon2id (argon2-cffi's parameters).

A new password must have at least 10 characters (a short sentence is easy to remember)
and must not be easy to guess: :func:`clean_password` asks zxcvbn (the password-strength
estimator Dropbox published, with its lists of the passwords most used in leaks, common
words and names, and its detection of repeats, sequences and keyboard rows) and refuses a
password it expects to be found in fewer than a million guesses (its score 0 or 1):
``password1234``, ``azertyuiop``, ``motdepasse123``, ``aaaaaaaaaaaa``, ``0123456789ab``,
or the account's own name or address. Only the first 72 characters are judged (zxcvbn's
limit; a longer password is not the problem). Existing passwords keep working.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from events.errors import ValidationFailed

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash("rencontres-timing-equaliser")

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
#: zxcvbn's score: 0 and 1 mean fewer than 10⁶ guesses.
MIN_STRENGTH_SCORE = 2
#: zxcvbn judges at most this many characters.
JUDGED_LENGTH = 72


def _personal_words(personal: Iterable[str | None]) -> list[str]:
    """The account's name and address, whole and in words, for zxcvbn to penalise."""
    words: list[str] = []
    for value in personal:
        text = (value or "").strip().lower()
        if text:
            words += [text, *(word for word in re.split(r"[^\w]+", text) if len(word) > 2)]
    return words


def clean_password(field: str, password: str | None, *, personal: Iterable[str | None] = ()) -> str:
    """``password`` if it may be chosen, else ``ValidationFailed`` with ``password_too_short``,
    ``too_long``, ``invalid_characters`` or ``password_too_common``; ``personal``: the
    account's name and address (a password made of them is too easy to guess)."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({field: "password_too_short"})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed({field: "too_long"})
    if "\x00" in password:
        raise ValidationFailed({field: "invalid_characters"})
    judged = password[:JUDGED_LENGTH]
    if zxcvbn(judged, user_inputs=_personal_words(personal))["score"] < MIN_STRENGTH_SCORE:
        raise ValidationFailed({field: "password_too_common"})
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
