"""The background loop: render and send the outbox, and run the periodic jobs around it.

One :class:`BackgroundWorker` runs either inside each server process (a daemon thread
started with the app, ``MAIL_WORKER=inline``, the default) or on its own (``rencontres
worker``, for deployments that keep the web processes free of background work). Several
may run at once: claims keep them from rendering or sending a row twice, and the jobs are
idempotent.

Every ``interval`` seconds, and half a second after a commit that queued mail in this
process, it renders the queued mails (events/mail/prepare.py) and sends what is due (only
when SMTP is configured: otherwise mails wait in the outbox, where organisers can read
them). Every ``housekeeping_interval`` it also runs the periodic jobs it was given
(events/jobs/periodic.py), each on its own so that one failing job does not stop the
others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from events.clock import utcnow
from events.database import Database
from events.jobs.periodic import PeriodicJob
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
HOUSEKEEPING_INTERVAL = 60.0
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
        housekeeping_interval: float = HOUSEKEEPING_INTERVAL,
    ) -> None:
        self.db = db
        self.mail = mail
        self.jobs = tuple(jobs)
        self.sender = MailSender(db, smtp) if smtp is not None and smtp.host else None
        self.interval = interval
        self.housekeeping_interval = housekeeping_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_housekeeping: float | None = None

    # -- one step -----------------------------------------------------------------------
    def housekeeping(self, now: datetime | None = None) -> dict[str, int]:
        """Run every periodic job once; returns what each did (jobs that failed are
        logged and left out)."""
        now = now or utcnow()
        done: dict[str, int] = {}
        for job in self.jobs:
            try:
                done[job.name] = job.run(now)
            except Exception:  # the next round tries again; the other jobs still run
                log.exception("periodic job %s failed", job.name)
        return done

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
        monotonic = time.monotonic()
        last = self._last_housekeeping
        if last is None or monotonic - last >= self.housekeeping_interval:
            self._last_housekeeping = monotonic
            self._guarded(self.housekeeping, now)
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
