"""The background loop: render and send the outbox, and run the periodic jobs around it.

One :class:`BackgroundWorker` runs either inside each server process (a daemon thread
started with the app, ``MAIL_WORKER=inline``, the default) or on its own (``rencontres
worker``, for deployments that keep the web processes free of background work). Several
may run at once: claims keep them from rendering or sending a row twice, and the jobs are
idempotent.

Every ``interval`` seconds, and half a second after a commit that queued mail in this
process, it runs the periodic jobs that are due (events/jobs/periodic.py; each on one
process at a time across all nodes, under its lease: events/jobs/runner.py), renders the
queued mails (events/mail/prepare.py) and sends what is due (only when SMTP is
configured: otherwise mails wait in the outbox, where organisers can read them).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from events.clock import utcnow
from events.database import Database
from events.jobs.runner import JobRunner, PeriodicJob
from events.mail.notify import outbox_committed
from events.mail.prepare import PREPARE_BATCH, prepare_outbox
from events.mail.sender import MailSender, SendReport, SmtpConfig
from events.mail.settings import MailSettings

log = logging.getLogger("rencontres.worker")

POLL_INTERVAL = 5.0
#: After a wake-up, how long the worker lets more mails arrive before rendering them.
GATHER_FOR = 0.5
#: Render at most this many batches per tick, so sending is never starved.
MAX_PREPARE_BATCHES = 10
THREAD_NAME = "rencontres-worker"


class BackgroundWorker:
    def __init__(
        self,
        db: Database,
        *,
        mail: MailSettings,
        smtp: SmtpConfig | None,
        jobs: Sequence[PeriodicJob] = (),
        interval: float = POLL_INTERVAL,
    ) -> None:
        self.db = db
        self.mail = mail
        self.runner = JobRunner(db, jobs)
        self.sender = MailSender(db, smtp) if smtp is not None and smtp.host else None
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def jobs(self) -> tuple[PeriodicJob, ...]:
        return self.runner.jobs

    # -- one step -----------------------------------------------------------------------
    def run_jobs(self, now: datetime | None = None) -> dict[str, int]:
        """Run the periodic jobs that are due here; what each did (those that failed are
        logged and left out)."""
        return self.runner.run_due(now or utcnow())

    def prepare(self, _now: datetime | None = None) -> int:
        """Render the queued mails (with or without SMTP: the outbox page shows them)."""
        written = 0
        for _ in range(MAX_PREPARE_BATCHES):
            done = prepare_outbox(self.db, self.mail)
            written += done
            if done < PREPARE_BATCH:
                break
        return written

    def send(self, now: datetime | None = None) -> SendReport:
        """Send what is due (nothing without SMTP)."""
        if self.sender is None:
            return SendReport()
        return self.sender.run_until_idle(now)

    def tick(self, now: datetime | None = None) -> None:
        self._guarded(self.run_jobs, now)
        self._guarded(self.prepare, now)
        self._guarded(self.send, now)

    @staticmethod
    def _guarded(step: Callable[[datetime | None], object], now: datetime | None) -> None:
        # A database or network hiccup must not end the loop: log it, try again later.
        try:
            step(now)
        except Exception:
            log.exception("background step %s failed", getattr(step, "__name__", step))

    # -- running ------------------------------------------------------------------------
    def run(self) -> None:
        """Loop until :meth:`stop`; wakes early after a commit that queued mail."""
        if self.sender is None:
            log.info("SMTP_HOST is not set: mails stay in the outbox")
        while not self._stop.is_set():
            self.tick()
            outbox_committed.wait(self.interval)
            # Let a burst of registrations gather: one render transaction for many mails
            # instead of one per commit, competing with the registrations for the lock.
            self._stop.wait(GATHER_FOR)
            outbox_committed.clear()

    def start(self) -> None:
        """Run in a daemon thread (inside the server process)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        outbox_committed.set()  # interrupt the wait
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
