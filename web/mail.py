"""From the environment's settings to the background worker: mail links, SMTP, the jobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from events.database import Database
from events.jobs.periodic import JobSettings, periodic_jobs
from events.jobs.webhooks import WEBHOOK_POLICY
from events.jobs.worker import BackgroundWorker
from events.mail.sender import SmtpConfig
from events.mail.settings import MailSettings
from web.imports import fetch_policy
from web.settings import Settings


def mail_settings(settings: Settings) -> MailSettings:
    return MailSettings(base_url=settings.base_url)


def job_settings(settings: Settings) -> JobSettings:
    return JobSettings(
        reminder_before=timedelta(hours=settings.reminder_hours),
        anonymise_after_days=settings.anonymise_after_days,
        import_policy=fetch_policy(settings),
        import_every=timedelta(minutes=settings.import_refresh_minutes),
        webhook_policy=replace(WEBHOOK_POLICY, allow_private=settings.webhook_allow_private),
        base_url=settings.base_url,
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
        connections=smtp.connections,
    )


def background_worker(
    settings: Settings, db: Database, step_aside: Callable[[], object] | None = None
) -> BackgroundWorker:
    """The loop that renders and sends mail and runs the periodic jobs (events/jobs).
    ``step_aside``: inside a server process, its writes' and requests'
    (events/write_activity.py)."""
    return BackgroundWorker(
        db,
        mail=mail_settings(settings),
        smtp=smtp_config(settings),
        jobs=periodic_jobs(db, job_settings(settings)),
        step_aside=step_aside,
    )
