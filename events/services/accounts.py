"""Organiser accounts: sign-up, authentication, lookup."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.errors import ValidationFailed
from events.models import User
from events.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from events.validation import FieldErrors, clean_email, clean_text


def _clean_password(field: str, password: str | None) -> str:
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({field: "password_too_short"})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed({field: "too_long"})
    if "\x00" in password:
        raise ValidationFailed({field: "invalid_characters"})
    return password


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
        """Create an organiser account; ``ValidationFailed`` lists every bad field."""
        errors = FieldErrors()
        email = errors.check(clean_email, "email", email)
        name = errors.check(clean_text, "display_name", display_name, max_length=120)
        password = errors.check(_clean_password, "password", password)
        if email and self.session.scalar(
            select(func.count()).select_from(User).where(User.email == email)
        ):
            errors.add("email", "email_taken")
        errors.raise_if_any()
        user = User(
            email=email, display_name=name, password_hash=hash_password(password), locale=locale
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
