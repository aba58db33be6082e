from __future__ import annotations

import pytest

from events.database import Database
from events.errors import ValidationFailed
from events.services.accounts import AccountService
from tests.factories import DEFAULT_PASSWORD, Factories


def sign_up(db: Database, **fields: str) -> None:
    values = {"email": "ada@example.org", "display_name": "Ada", "password": "long enough pw"}
    values.update(fields)
    with db.transaction() as session:
        AccountService(session).sign_up(**values)


def test_sign_up_stores_a_lowercase_email_and_an_argon2_hash(db: Database) -> None:
    sign_up(db, email="Ada@Example.ORG")
    with db.session() as session:
        user = AccountService(session).by_email("ada@example.org")
    assert user is not None
    assert user.email == "ada@example.org"
    assert user.password_hash.startswith("$argon2id$")


def test_sign_up_reports_every_bad_field_at_once(db: Database) -> None:
    with pytest.raises(ValidationFailed) as failed:
        sign_up(db, email="not-an-address", display_name="", password="short")
    assert failed.value.errors == {
        "email": "invalid_email",
        "display_name": "required",
        "password": "password_too_short",
    }


def test_same_email_in_another_case_is_taken(db: Database) -> None:
    sign_up(db)
    with pytest.raises(ValidationFailed) as failed:
        sign_up(db, email="ADA@example.org")
    assert failed.value.errors == {"email": "email_taken"}


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("x" * 10_000, "too_long"),
        ("Ada\r\nBcc: victim@example.org", "invalid_characters"),
        ("Ada\x00", "invalid_characters"),
        ("   ", "required"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_stored(db: Database, name: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        sign_up(db, display_name=name)
    assert failed.value.errors == {"display_name": code}
    with db.session() as session:
        assert AccountService(session).by_email("ada@example.org") is None


def test_unicode_and_emoji_names_are_kept(db: Database) -> None:
    sign_up(db, display_name="Zoé 🎉 Łukasz")
    with db.session() as session:
        user = AccountService(session).by_email("ada@example.org")
    assert user is not None and user.display_name == "Zoé 🎉 Łukasz"


def test_authenticate_accepts_the_right_password_only(make: Factories, db: Database) -> None:
    user = make.user(email="bob@example.org")
    with db.session() as session:
        service = AccountService(session)
        assert service.authenticate("BOB@example.org", DEFAULT_PASSWORD).id == user.id
        assert service.authenticate("bob@example.org", "wrong password") is None
        assert service.authenticate("nobody@example.org", DEFAULT_PASSWORD) is None
        assert service.authenticate("", "") is None
        assert service.authenticate("x" * 5000, "y" * 5000) is None
