"""What the domain needs to know to write a mail: where links point, when reminders go.

A :class:`MailSettings` travels with the :class:`~events.database.Database` in every
session's ``info`` (``session.info["mail"]``), so services that queue mails need no extra
argument. The SMTP side (host, credentials, sender address) is the sender's business, see
:mod:`events.mail.sender`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

SESSION_KEY = "mail"


@dataclass(frozen=True)
class MailSettings:
    #: The public address every link in a mail starts with (``BASE_URL``).
    base_url: str = "http://127.0.0.1:8000"
    #: How long before an event starts its reminder is queued; zero turns reminders off.
    reminder_before: timedelta = timedelta(hours=24)

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}"


def mail_settings(session: Session) -> MailSettings:
    """The settings of the database this session belongs to (defaults outside one)."""
    settings = session.info.get(SESSION_KEY)
    return settings if isinstance(settings, MailSettings) else MailSettings()
