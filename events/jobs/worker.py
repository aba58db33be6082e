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
Rendering and sending take turns, a batch each, and both take every other mail before
the bulk ones: a confirmation queued behind a thousand reminders waits for one batch.
Inside a server process the renderer steps aside before each mail while a write or a
request of that process is under way (``step_aside``, events/write_activity.py).

When the database cannot be reached the loop logs one line, then waits 1 s, 2 s, 4 s...
(at most a minute) between rounds, and says when it is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from events.clock import utcnow
from events.database import Database, is_unavailable
from events.jobs.runner import JobRunner, PeriodicJob
from events.mail.notify import outbox_committed
from events.mail.prepare import PREPARE_BATCH, prepare_outbox
from events.mail.sender import MailSender, SendReport, SmtpConfig
from events.mail.settings import MailSettings

log = logging.getLogger("rencontres.worker")

POLL_INTERVAL = 5.0
#: After a wake-up, how long the worker lets more mails arrive before rendering them.
GATHER_FOR = 0.5
#: Render-and-send turns per round (a batch of each per turn).
MAX_TURNS = 50
#: While the database cannot be reached: the first wait, doubled after each failed round
#: up to the last.
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
THREAD_NAME = "rencontres-worker"

T = TypeVar("T")


class BackgroundWorker:
    def __init__(
        self,
        db: Database,
        *,
        mail: MailSettings,
        smtp: SmtpConfig | None,
        jobs: Sequence[PeriodicJob] = (),
        interval: float = POLL_INTERVAL,
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        step_aside: Callable[[], object] | None = None,
    ) -> None:
        self.db = db
        self.mail = mail
        self.runner = JobRunner(db, jobs)
        self.sender = MailSender(db, smtp) if smtp is not None and smtp.host else None
        self.interval = interval
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.step_aside = step_aside
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
        """Render every queued mail (with or without SMTP: the outbox page shows them)."""
        written = 0
        while (done := self._prepare_batch(None)) > 0:
            written += done
            if done < PREPARE_BATCH:
                break
        return written

    def send(self, now: datetime | None = None) -> SendReport:
        """Send what is due (nothing without SMTP)."""
        if self.sender is None:
            return SendReport()
        return self.sender.run_until_idle(now)

    def tick(self, now: datetime | None = None) -> bool:
        """One round: the due jobs, then rendering and sending in turns, one batch of each
        per turn, so a mail queued while a backlog is sent waits for one batch, not for
        the backlog (both take other mails before bulk ones). True if work is left.

        Raises if the database cannot be reached; any other failure is logged."""
        self._guarded(self.run_jobs, now)
        for _ in range(MAX_TURNS):
            rendered = self._guarded(self._prepare_batch, now)
            report = self._guarded(self._send_batch, now)
            more_to_send = report is not None and report.claimed > 0 and not report.retried
            if not rendered and not more_to_send:
                return False
        return True

    def _prepare_batch(self, _now: datetime | None) -> int:
        return prepare_outbox(self.db, self.mail, step_aside=self.step_aside)

    def _send_batch(self, now: datetime | None) -> SendReport:
        return self.sender.run_once(now) if self.sender is not None else SendReport()

    @staticmethod
    def _guarded(step: Callable[[datetime | None], T], now: datetime | None) -> T | None:
        # A failing step must not end the loop: log it, try again next round. An unreachable
        # database is the loop's business (it waits, see run()).
        try:
            return step(now)
        except Exception as error:
            if is_unavailable(error):
                raise
            log.exception("background step %s failed", getattr(step, "__name__", step))
            return None

    # -- running ------------------------------------------------------------------------
    def run(self) -> None:
        """Loop until :meth:`stop`; wakes early after a commit that queued mail. While the
        database cannot be reached it waits longer after each failed round (doubling, up
        to ``max_backoff``) and says so in one log line, not a traceback per round."""
        if self.sender is None:
            log.info("SMTP_HOST is not set: mails stay in the outbox")
        failures = 0
        while not self._stop.is_set():
            try:
                busy = self.tick()
            except Exception as error:  # only an unreachable database comes this far
                failures += 1
                delay = min(self.first_backoff * 2 ** (failures - 1), self.max_backoff)
                if failures == 1:
                    log.warning(
                        "database unreachable (%s); retrying every %g s at most",
                        _one_line(error),
                        self.max_backoff,
                    )
                log.debug("database unreachable, attempt %d; next in %g s", failures, delay)
                self._stop.wait(delay)
                continue
            if failures:
                log.info("database reachable again after %d failed round(s)", failures)
                failures = 0
            if busy:
                continue
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


def _one_line(error: BaseException) -> str:
    """``OperationalError: connection refused`` (the driver's message, first line)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]
