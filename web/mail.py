"""From the environment's settings to the domain's mail objects, and the in-process worker."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from events.database import Database
from events.mail.sender import SmtpConfig
from events.mail.settings import MailSettings
from events.mail.worker import Job, MailWorker
from events.services.privacy import anonymise_past_registrations
from events.services.series import SeriesService
from web.imports import refresh_imports
from web.settings import Settings


def mail_settings(settings: Settings) -> MailSettings:
    return MailSettings(
        base_url=settings.base_url, reminder_before=timedelta(hours=settings.reminder_hours)
    )


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """The SMTP server to send through, or None (mails then stay in the outbox)."""
    smtp = settings.smtp
    if not smtp.configured:
        return None
    return SmtpConfig(
        host=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password,
        security=smtp.security,
        sender=smtp.sender,
    )


def periodic_jobs(settings: Settings, db: Database) -> list[Job]:
    """What the background worker runs besides mail, every housekeeping round."""

    def anonymise(now: datetime) -> None:
        with db.transaction() as session:
            anonymise_past_registrations(session, now=now, after_days=settings.anonymise_after_days)

    last_extended: list[date] = []

    def extend_series(now: datetime) -> None:
        # Daily: the rolling horizon moves by a day at a time.
        today = now.date()  # UTC: a day early or late at midnight changes nothing here
        if last_extended and last_extended[0] == today:
            return
        with db.transaction() as session:
            SeriesService(session).extend_all(today)
        last_extended[:] = [today]

    def refresh_calendars(now: datetime) -> None:
        refresh_imports(settings, db, now=now)  # each subscription at most once an interval

    return [anonymise, extend_series, refresh_calendars]


def mail_worker(settings: Settings, db: Database) -> MailWorker:
    return MailWorker(db, smtp_config(settings), jobs=periodic_jobs(settings, db))
