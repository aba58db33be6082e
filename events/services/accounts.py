"""Organiser accounts: sign-up, authentication, lookup."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from events.errors import ValidationFailed
from events.models import User
from events.passwords import clean_password, hash_password, needs_rehash, verify_password
from events.validation import FieldErrors, clean_email, clean_text

DISPLAY_NAME_MAX_LENGTH = 120


def clean_new_account(
    email: str | None, display_name: str | None, password: str | None
) -> tuple[str, str, str]:
    """The cleaned address, name and password of a new account; ``ValidationFailed`` lists
    every bad field at once. Never looks at existing accounts (see events/services/signup.py)."""
    errors = FieldErrors()
    clean_address = errors.check(clean_email, "email", email)
    name = errors.check(
        clean_text, "display_name", display_name, max_length=DISPLAY_NAME_MAX_LENGTH
    )
    secret = errors.check(clean_password, "password", password, personal=(email, display_name))
    errors.raise_if_any()
    return clean_address, name, secret


class AccountService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: UUID) -> User | None:
        return self.session.get(User, user_id)

    def by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email.strip().lower()))

    def sign_up(
        self,
        *,
        email: str | None,
        display_name: str | None,
        password: str | None,
        locale: str | None = None,
    ) -> User:
        """Create an organiser account at once (the command line, the demo): the web's
        sign-up goes through :mod:`events.services.signup` instead, which never says
        whether an address has an account. ``ValidationFailed`` lists every bad field,
        ``email_taken`` included."""
        address, name, secret = clean_new_account(email, display_name, password)
        if self.by_email(address):
            raise ValidationFailed({"email": "email_taken"})
        return self.create(
            email=address, display_name=name, password_hash=hash_password(secret), locale=locale
        )

    def create(
        self, *, email: str, display_name: str, password_hash: str, locale: str | None
    ) -> User:
        """Add an account from values already cleaned (and a password already hashed)."""
        user = User(
            email=email, display_name=display_name, password_hash=password_hash, locale=locale
        )
        self.session.add(user)
        self.session.flush()
        return user

    def authenticate(self, email: str | None, password: str | None) -> User | None:
        """The user whose credentials these are, or None (same cost either way)."""
        user = self.by_email(email or "") if email and len(email) <= 320 else None
        if not verify_password(user.password_hash if user else None, (password or "")[:1024]):
            return None
        assert user is not None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password or "")
        return user
