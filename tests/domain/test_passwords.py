"""Which new passwords are accepted (events/passwords.py): long enough, not easily guessed
(security review, issue 13 item 8)."""

from __future__ import annotations

import pytest

from events.errors import ValidationFailed
from events.passwords import clean_password

PERSONAL = ("alice.martin@example.org", "Alice Martin")


@pytest.mark.parametrize(
    "password",
    [
        "password1234",  # the most common passwords, with a suffix
        "123456789012",
        "motdepasse123",
        "azertyuiop",  # keyboard rows
        "qwertyuiop12",
        "aaaaaaaaaaaa",  # repeated
        "abcabcabcabc",
        "0123456789ab",  # sequences
        "iloveyou1234",
        "bonjour12345",
        "alice.martin@example.org",  # the account's own address or name
        "Alice Martin 1",
    ],
)
def test_easily_guessed_passwords_are_refused(password: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_password("password", password, personal=PERSONAL)
    assert refused.value.errors == {"password": "password_too_common"}


@pytest.mark.parametrize(
    "password",
    [
        "quatre chats sur le toit",
        "a long enough password",
        "Zoé est là ce soir",
        "soleil2024!!",
        "nous-irons-au-bois",
        "Tr0ub4dor&3xx",
        "correct horse battery staple " * 30,  # 870 characters: the first 72 are judged
    ],
)
def test_passwords_people_choose_well_are_accepted(password: str) -> None:
    assert clean_password("password", password, personal=PERSONAL) == password


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("", "password_too_short"),
        ("short", "password_too_short"),
        ("x" * 1025, "too_long"),
        ("a long\x00enough password", "invalid_characters"),
    ],
)
def test_the_length_rules_come_first(password: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_password("password", password)
    assert refused.value.errors == {"password": code}
