"""Run the periodic jobs that are due, each under its lease (events/jobs/lease.py).

Every process that runs a background worker calls :meth:`JobRunner.run_due` each round;
a job runs where its lease is taken first, and at most once per ``every`` across all of
them. A job that fails is logged and tried again a minute later; one whose database is
unreachable stops the round (the worker backs off, events/jobs/worker.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from events.clock import utcnow
from events.database import Database, is_unavailable
from events.jobs.lease import HOLD_FOR, HeldLease, new_holder, release, try_acquire, waiting

log = logging.getLogger("rencontres.jobs")

#: When a failed job is tried again (at most: sooner if it runs more often).
RETRY_FAILED = timedelta(minutes=1)


@dataclass(frozen=True)
class PeriodicJob:
    """A job: a function of the current time that does its work in its own transactions
    and returns how much it did; run at most once per ``every`` across all processes."""

    name: str
    run: Callable[[datetime], int]
    every: timedelta = timedelta(minutes=1)


class JobRunner:
    def __init__(
        self,
        db: Database,
        jobs: Sequence[PeriodicJob],
        *,
        holder: str | None = None,
        hold_for: timedelta = HOLD_FOR,
    ) -> None:
        self.db = db
        self.jobs = tuple(jobs)
        self.hold_for = hold_for
        self._holder = holder
        self._holder_of: int | None = None

    @property
    def holder(self) -> str:
        """Our name in the lease rows: made in the process that runs the jobs, since the
        runner may be built before the server forks its workers (web/serving.py)."""
        if self._holder is None or (self._holder_of not in (None, os.getpid())):
            self._holder, self._holder_of = new_holder(), os.getpid()
        return self._holder

    def run_due(self, now: datetime | None = None) -> dict[str, int]:
        """Run every job that is due and not running elsewhere; what each one did."""
        now = now or utcnow()
        busy = waiting(self.db, now=now)  # one read when nothing is due
        done: dict[str, int] = {}
        for job in self.jobs:
            if job.name in busy:
                continue
            if try_acquire(self.db, job.name, self.holder, now=now, hold_for=self.hold_for):
                done[job.name] = self._run(job, now)
        return {name: count for name, count in done.items() if count >= 0}

    def _run(self, job: PeriodicJob, now: datetime) -> int:
        """Run ``job`` under our lease; -1 if it failed."""
        with HeldLease(self.db, job.name, self.holder, now=now, hold_for=self.hold_for) as lease:
            try:
                count = job.run(now)
            except Exception as error:
                if is_unavailable(error):  # nothing to release either: the lease expires
                    raise
                log.exception("periodic job %s failed", job.name)
                count, due_at = -1, now + min(job.every, RETRY_FAILED)
            else:
                due_at = now + job.every
        with suppress(Exception):  # unreleased, the lease still expires
            release(self.db, job.name, self.holder, now=lease.now(), due_at=due_at)
        return count
