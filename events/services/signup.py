"""Organiser sign-up that never tells whether an address already has an account.

:meth:`SignupService.request` answers the same way to every well-formed sign-up, and does
the same work either way (the password is hashed, one mail is queued):

- an address without an account: a :class:`~events.models.SignupRequest` (name, password
  hash, language, where to go next) waits ``SIGNUP_VALID_FOR``, and a link to
  ``/signup/confirm/{token}`` is mailed to the address. Opening it shows a button; pressing
  it creates the account (:meth:`SignupService.complete`), and the web logs the person in.
  A button rather than the link alone, because mail scanners open links. A new attempt for
  the same address replaces the waiting one and its link: someone who typed another
  person's address cannot block them, and only the mailbox's owner can finish;
- an address that has an account: its owner is mailed that someone tried to sign up with
  it, with a link to log in. Nothing else changes.

Field errors (a malformed address, a short or easily guessed password: events/passwords.py)
never depend on the address. Expired requests are deleted by the next sign-up. The mails
belong to no community, so no organiser's outbox page lists them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, NotFound
from events.mail.i18n import mail_locale, translations
from events.mail.notify import enqueue
from events.mail.render import render
from events.mail.settings import MailSettings
from events.models import SignupRequest, User
from events.passwords import hash_password
from events.services.accounts import AccountService, clean_new_account
from events.tokens import hash_token, new_token

SIGNUP_VALID_FOR = timedelta(hours=24)
#: A token never exceeds this; longer input is not a token (and is not hashed).
MAX_TOKEN_LENGTH = 100
NEXT_PATH_MAX_LENGTH = 500


class SignupService:
    def __init__(self, session: Session, mail: MailSettings | None = None) -> None:
        self.session = session
        self.accounts = AccountService(session)
        # The sign-up mails are written here, links included (they are not rendered later
        # like registration mails): the caller says where links point.
        self.mail = mail or MailSettings()

    def request(
        self,
        *,
        email: str | None,
        display_name: str | None,
        password: str | None,
        locale: str | None = None,
        next_path: str = "",
        now: datetime | None = None,
    ) -> None:
        """Mail the address a link to finish signing up, or its owner a warning (see the
        module docstring); ``ValidationFailed`` for bad fields. Returns nothing on purpose:
        the caller must answer the same either way."""
        address, name, password = clean_new_account(email, display_name, password)
        now = now or utcnow()
        password_hash = hash_password(password)  # either way, so both take as long
        self.session.execute(delete(SignupRequest).where(SignupRequest.expires_at < now))
        owner = self.accounts.by_email(address)
        if owner is not None:
            self._mail_owner(owner, locale, now)
            return
        token = new_token()
        waiting = self.session.scalar(select(SignupRequest).where(SignupRequest.email == address))
        if waiting is None:
            waiting = SignupRequest(email=address)
            self.session.add(waiting)
        waiting.display_name = name
        waiting.password_hash = password_hash
        waiting.locale = locale
        waiting.next_path = next_path[:NEXT_PATH_MAX_LENGTH]
        waiting.token_hash = hash_token(token)
        waiting.expires_at = now + SIGNUP_VALID_FOR
        self.session.flush()
        self._mail(
            "signup_confirm",
            address,
            locale,
            {
                "name": name,
                "confirm_url": self.mail.url(f"/signup/confirm/{token}"),
            },
            now,
        )

    def waiting(self, token: str | None, *, now: datetime | None = None) -> SignupRequest:
        """The sign-up the mailed link stands for; ``NotFound`` if unknown or expired."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise NotFound()
        found = self.session.scalar(
            select(SignupRequest).where(SignupRequest.token_hash == hash_token(token))
        )
        if found is None or found.expires_at <= (now or utcnow()):
            raise NotFound()
        return found

    def complete(self, token: str | None, *, now: datetime | None = None) -> tuple[User, str]:
        """Create the account of the sign-up behind ``token`` (the link works once); returns
        it and where to go next. ``Conflict("email_taken")`` if the address got an account
        meanwhile (whoever holds the link reads that address's mail: they may know)."""
        waiting = self.waiting(token, now=now)
        self.session.delete(waiting)
        if self.accounts.by_email(waiting.email) is not None:
            raise Conflict("email_taken")
        user = self.accounts.create(
            email=waiting.email,
            display_name=waiting.display_name,
            password_hash=waiting.password_hash,
            locale=waiting.locale,
        )
        return user, waiting.next_path

    def _mail_owner(self, owner: User, locale: str | None, now: datetime) -> None:
        context = {
            "name": owner.display_name,
            "login_url": self.mail.url("/login"),
        }
        self._mail("signup_exists", owner.email, owner.locale or locale, context, now)

    def _mail(
        self, kind: str, to: str, locale: str | None, context: dict[str, str], now: datetime
    ) -> None:
        language = mail_locale(locale)
        site = self.mail.base_url
        _ = translations(language).gettext
        subjects = {
            "signup_confirm": _("Finish creating your organiser account"),
            "signup_exists": _("Someone tried to sign up with your address"),
        }
        text, html = render(kind, language, {**context, "site": site, "locale": language})
        enqueue(
            self.session,
            kind=kind,
            to_address=to,
            subject=subjects[kind],
            text_body=text,
            html_body=html,
            now=now,
        )
