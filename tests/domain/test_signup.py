"""Sign-up without telling whether an address has an account (events/services/signup.py;
security review, issue 13 item 8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from events import passwords
from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, NotFound, ValidationFailed
from events.models import OutboxMessage, SignupRequest
from events.services import signup as signup_module
from events.services.signup import SIGNUP_VALID_FOR, SignupService
from tests.factories import Factories

FIELDS = {"display_name": "Zoé", "password": "quatre chats sur le toit", "locale": "fr"}


def request(db: Database, email: str, **overrides: str) -> None:
    with db.transaction() as session:
        SignupService(session).request(email=email, **{**FIELDS, **overrides})


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_both_answers_do_the_same_work(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    make.user(email="taken@example.org")
    hashed: list[str] = []
    monkeypatch.setattr(
        signup_module, "hash_password", lambda p: hashed.append(p) or passwords.hash_password(p)
    )
    request(db, "taken@example.org")
    request(db, "free@example.org")
    assert hashed == [FIELDS["password"]] * 2  # one argon2 hash each: the same time
    with db.session() as session:
        kinds = dict(session.execute(select(OutboxMessage.to_address, OutboxMessage.kind)).all())
    assert kinds == {"taken@example.org": "signup_exists", "free@example.org": "signup_confirm"}
    assert count(db, SignupRequest) == 1


def test_the_mails_are_in_the_language_of_the_sign_up_or_of_the_account(
    db: Database, make: Factories
) -> None:
    owner = make.user(email="taken@example.org")
    request(db, "free@example.org")
    request(db, "taken@example.org", locale="en")
    with db.session() as session:
        mails = {m.to_address: m for m in session.scalars(select(OutboxMessage))}
    assert mails["free@example.org"].subject.startswith("Terminez la création de votre compte")
    assert "Bonjour Zoé" in mails["free@example.org"].text_body
    assert mails["taken@example.org"].subject == "Someone tried to sign up with your address"
    assert f"Hello {owner.display_name}," in mails["taken@example.org"].text_body


def test_a_bad_field_is_refused_before_the_address_is_looked_at(
    db: Database, make: Factories
) -> None:
    make.user(email="taken@example.org")
    for email in ("taken@example.org", "free@example.org"):
        with pytest.raises(ValidationFailed) as refused:
            request(db, email, password="password1234")
        assert refused.value.errors == {"password": "password_too_common"}
    assert count(db, OutboxMessage) == count(db, SignupRequest) == 0


def test_expired_requests_are_deleted_and_their_links_refused(db: Database) -> None:
    request(db, "old@example.org")
    later = utcnow() + SIGNUP_VALID_FOR + timedelta(minutes=1)
    with db.transaction() as session:
        [waiting] = session.scalars(select(SignupRequest))
        token_hash = waiting.token_hash
        service = SignupService(session)
        service.request(email="new@example.org", now=later, **FIELDS)
    with db.session() as session:
        emails = session.scalars(select(SignupRequest.email)).all()
        assert emails == ["new@example.org"]
        assert token_hash not in session.scalars(select(SignupRequest.token_hash)).all()
        with pytest.raises(NotFound):
            SignupService(session).waiting("x" * 101)


def test_completing_for_an_address_that_got_an_account_meanwhile(
    db: Database, make: Factories
) -> None:
    with db.transaction() as session:
        service = SignupService(session)
        service.request(email="race@example.org", **FIELDS)
    with db.session() as session:
        body = session.scalars(select(OutboxMessage.text_body)).one()
    token = body.split("/signup/confirm/")[1].split()[0]
    make.user(email="race@example.org")
    with db.transaction() as session, pytest.raises(Conflict) as taken:
        SignupService(session).complete(token)
    assert taken.value.code == "email_taken"
