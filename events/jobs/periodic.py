"""The periodic jobs the background worker runs besides sending mail, and their settings.

Each job is a named function of the current time that does its work in its own
transactions and returns how much it did (for logs and ``rencontres worker --once``),
with how often it runs. The runner (events/jobs/runner.py) runs each one on one process
at a time across all nodes, at most once per its interval; one failing job never stops
the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from events.attempts import purge_ended_counters
from events.database import Database
from events.fetch import FetchPolicy
from events.jobs.feedback import queue_feedback_invitations
from events.jobs.reminders import queue_due_reminders
from events.jobs.runner import PeriodicJob
from events.jobs.shift_reminders import queue_shift_reminders
from events.jobs.webhooks import WEBHOOK_POLICY, deliver_due_webhooks
from events.mail.outbox import purge_old
from events.services.calendar_refresh import REFRESH_EVERY, CalendarRefresher
from events.services.exchange_privacy import expire_listings
from events.services.privacy import DEFAULT_AFTER_DAYS, anonymise_past_registrations
from events.services.proposal_privacy import anonymise_past, forget_unconfirmed
from events.services.registrations import RegistrationService
from events.services.series import SeriesService

EXPIRE_HOLDS = "expire_holds"
REMINDERS = "reminders"
PURGE_OUTBOX = "purge_outbox"
PURGE_ATTEMPTS = "purge_attempts"
ANONYMISE = "anonymise"
ANONYMISE_PROPOSALS = "anonymise_proposals"
EXTEND_SERIES = "extend_series"
REFRESH_IMPORTS = "refresh_imports"
SHIFT_REMINDERS = "shift_reminders"
FEEDBACK_MAILS = "feedback_mails"
DELIVER_WEBHOOKS = "deliver_webhooks"
EXPIRE_LISTINGS = "expire_listings"


@dataclass(frozen=True)
class JobSettings:
    """What the jobs need of the deployment's configuration (web/mail.py builds it)."""

    #: ``MAIL_REMINDER_HOURS``: how long before the start reminders go (to attendees before
    #: the event, to volunteers before their shift); zero: none.
    reminder_before: timedelta = timedelta(hours=24)
    #: ``ANONYMISE_AFTER_DAYS``.
    anonymise_after_days: int = DEFAULT_AFTER_DAYS
    #: How calendars are fetched, and how often each (``IMPORT_REFRESH_MINUTES``).
    import_policy: FetchPolicy = field(default_factory=FetchPolicy)
    import_every: timedelta = REFRESH_EVERY
    #: How webhooks are posted (``WEBHOOK_ALLOW_PRIVATE``), and the site's address for the
    #: mail that says an endpoint was disabled.
    webhook_policy: FetchPolicy = WEBHOOK_POLICY
    base_url: str = ""


def periodic_jobs(db: Database, settings: JobSettings) -> list[PeriodicJob]:
    """Every periodic job, in the order a round runs them."""

    def expire_holds(now: datetime) -> int:
        with db.queued_transaction() as session:
            return RegistrationService(session).expire_holds(now)

    def reminders(now: datetime) -> int:
        with db.queued_transaction() as session:
            return queue_due_reminders(session, now, lead=settings.reminder_before)

    def shift_reminders(now: datetime) -> int:
        with db.queued_transaction() as session:
            return queue_shift_reminders(session, now, lead=settings.reminder_before)

    def feedback_mails(now: datetime) -> int:
        with db.queued_transaction() as session:
            return queue_feedback_invitations(session, now)

    def purge_outbox(now: datetime) -> int:
        with db.queued_transaction() as session:
            return purge_old(session, now=now)

    def purge_attempts(now: datetime) -> int:
        with db.queued_transaction() as session:
            return purge_ended_counters(session, now)

    def anonymise(now: datetime) -> int:
        with db.queued_transaction() as session:
            return anonymise_past_registrations(
                session, now=now, after_days=settings.anonymise_after_days
            )

    def anonymise_proposals(now: datetime) -> int:
        with db.queued_transaction() as session:
            gone = forget_unconfirmed(session, now=now)
            return gone + anonymise_past(session, now=now, after_days=settings.anonymise_after_days)

    def expire_exchange_listings(now: datetime) -> int:
        with db.queued_transaction() as session:
            return expire_listings(session, now)

    def extend_series(now: datetime) -> int:
        today = now.date()  # UTC: a day early or late at midnight changes nothing here
        with db.queued_transaction() as session:
            return SeriesService(session).extend_all(today)

    def refresh_imports(now: datetime) -> int:
        # Each subscription at most once per ``import_every``. The fetches run in threads
        # of this process, within its slots and deadlines (events/services/
        # calendar_refresh.py); a claim in the database keeps other processes off them.
        # Counts the fetches it started (some were queued earlier, by a page).
        refresher = CalendarRefresher(db, settings.import_policy)
        refresher.refresh_due(now=now, every=settings.import_every)
        return len(refresher.started)

    def deliver_webhooks(now: datetime) -> int:
        return deliver_due_webhooks(
            db, now=now, policy=settings.webhook_policy, base_url=settings.base_url
        )

    minute, hour = timedelta(minutes=1), timedelta(hours=1)
    return [
        PeriodicJob(EXPIRE_HOLDS, expire_holds, every=minute),
        PeriodicJob(REMINDERS, reminders, every=minute),
        PeriodicJob(SHIFT_REMINDERS, shift_reminders, every=minute),
        PeriodicJob(FEEDBACK_MAILS, feedback_mails, every=timedelta(minutes=10)),
        PeriodicJob(PURGE_OUTBOX, purge_outbox, every=hour),
        PeriodicJob(PURGE_ATTEMPTS, purge_attempts, every=hour),
        PeriodicJob(ANONYMISE, anonymise, every=hour),
        # Calls for proposals: unconfirmed proposals, then the people of ended calls.
        PeriodicJob(ANONYMISE_PROPOSALS, anonymise_proposals, every=hour),
        # Expired listings already left every page (their query says so): this deletes them.
        PeriodicJob(EXPIRE_LISTINGS, expire_exchange_listings, every=hour),
        # The rolling horizon moves by a day at a time.
        PeriodicJob(EXTEND_SERIES, extend_series, every=timedelta(days=1)),
        # Each subscription is fetched at most once per ``import_every`` anyway.
        PeriodicJob(REFRESH_IMPORTS, refresh_imports, every=minute),
        # Every round of the worker (a retry's first delay is five seconds).
        PeriodicJob(DELIVER_WEBHOOKS, deliver_webhooks, every=timedelta(seconds=5)),
    ]
