"""One runner at a time per periodic job, across every process and node: a lease row.

Each job has a row in ``job_lease``. Taking the lease is one conditional upsert::

    INSERT INTO job_lease (name, holder, expires_at, due_at) VALUES (...)
    ON CONFLICT (name) DO UPDATE SET holder = ..., expires_at = ...
    WHERE job_lease.expires_at <= :now AND job_lease.due_at <= :now
    RETURNING holder

so of several processes trying at once exactly one gets a row back (PostgreSQL re-checks
the condition on the row once the first taker's lock is gone; SQLite has one writer).
The holder renews the lease while the job runs (:class:`HeldLease`) and, when done,
releases it with the time the job is due next. A holder that dies stops renewing: its
lease expires (:data:`HOLD_FOR` after the last renewal) and the next process takes over.

Why a lease row rather than a PostgreSQL advisory lock (plus the ``flock`` on SQLite):

- the same statements on both databases, and on several nodes (a ``flock`` only orders
  the processes of one machine);
- no database connection is pinned for the length of a job (a calendar import may fetch
  for minutes; an advisory lock lives on the connection that took it);
- the row also says when the job last finished, so "daily" means once a day across all
  nodes, where each process used to keep that in memory.

The cost: a holder frozen for longer than :data:`HOLD_FOR` (it could not renew) may find
its job taken over; its renewals and its release then change nothing (they name it as the
holder), and jobs are written to be idempotent.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from events.clock import utcnow
from events.database import Database
from events.models import JobLease
from events.models.base import table_of

log = logging.getLogger("rencontres.jobs")

#: How long a lease lasts without renewal: what a dead holder delays its job by.
HOLD_FOR = timedelta(minutes=2)
_TABLE = table_of(JobLease)


def new_holder() -> str:
    """A name for one runner: host and process (for people reading the table), and a
    random part (two runners of one process are two holders)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class JobBusy(Exception):
    """The job is running elsewhere right now."""


def try_acquire(
    db: Database,
    name: str,
    holder: str,
    *,
    now: datetime,
    hold_for: timedelta = HOLD_FOR,
    due_or_not: bool = False,
) -> bool:
    """Take the lease of job ``name`` if nobody holds it and the job is due (or, with
    ``due_or_not``, whenever nobody holds it: a command run by hand)."""
    insert = sqlite_insert if db.is_sqlite else pg_insert
    new = insert(_TABLE).values(name=name, holder=holder, expires_at=now + hold_for, due_at=now)
    free = _TABLE.c.expires_at <= now
    statement = new.on_conflict_do_update(
        index_elements=[_TABLE.c.name],
        set_={"holder": holder, "expires_at": now + hold_for, "updated_at": now},
        where=free if due_or_not else free & (_TABLE.c.due_at <= now),
    ).returning(_TABLE.c.holder)
    with db.queued_transaction() as session:
        return session.execute(statement).scalar() == holder


def renew(db: Database, name: str, holder: str, *, until: datetime) -> bool:
    """Extend our lease to ``until``; False if it is no longer ours."""
    with db.queued_transaction() as session:
        result = session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder)
            .values(expires_at=until)
            .execution_options(synchronize_session=False)
        )
    return _rows(result) == 1


def release(
    db: Database, name: str, holder: str, *, now: datetime, due_at: datetime | None
) -> bool:
    """Let go of our lease: the job is done until ``due_at`` (None: when it was due
    before). False if it was not ours."""
    values = {"expires_at": now, "finished_at": now}
    if due_at is not None:
        values["due_at"] = due_at
    with db.queued_transaction() as session:
        result = session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder)
            .values(values)
            .execution_options(synchronize_session=False)
        )
    return _rows(result) == 1


@contextmanager
def exclusively(db: Database, name: str, *, hold_for: timedelta = HOLD_FOR) -> Iterator[None]:
    """Run job ``name`` by hand (``rencontres series extend``...) under its lease, due or
    not; :class:`JobBusy` if it is running elsewhere. The periodic schedule is left as
    it was."""
    holder = new_holder()
    now = utcnow()
    if not try_acquire(db, name, holder, now=now, hold_for=hold_for, due_or_not=True):
        raise JobBusy(name)
    lease = HeldLease(db, name, holder, now=now, hold_for=hold_for)
    try:
        with lease:
            yield
    finally:
        with suppress(Exception):  # unreleased, the lease still expires
            release(db, name, holder, now=lease.now(), due_at=None)


def waiting(db: Database, *, now: datetime) -> set[str]:
    """The jobs that cannot be taken now (held by someone, or not due): one read."""
    with db.session() as session:
        return set(
            session.scalars(
                select(JobLease.name).where((JobLease.expires_at > now) | (JobLease.due_at > now))
            )
        )


class HeldLease:
    """Our lease on one job while it runs: renewed every third of :data:`HOLD_FOR` from a
    thread, so a long job keeps it and a dead process loses it."""

    def __init__(
        self, db: Database, name: str, holder: str, *, now: datetime, hold_for: timedelta
    ) -> None:
        self.db = db
        self.name = name
        self.holder = holder
        self.hold_for = hold_for
        # Renewals count from the run's ``now`` (which tests move), plus the time spent.
        self._started = now
        self._clock = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._keep, name=f"lease-{name}", daemon=True)

    def now(self) -> datetime:
        return self._started + timedelta(seconds=time.monotonic() - self._clock)

    def _keep(self) -> None:
        while not self._done.wait(self.hold_for.total_seconds() / 3):
            try:
                if not renew(self.db, self.name, self.holder, until=self.now() + self.hold_for):
                    log.warning("job %s: lease taken over while it ran", self.name)
                    return
            except Exception as error:  # the release or the expiry settles it
                log.warning("job %s: lease not renewed (%s)", self.name, type(error).__name__)

    def __enter__(self) -> HeldLease:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()


def _rows(result: object) -> int:
    """Rows an UPDATE matched (SQLAlchemy types ``execute``'s result without it)."""
    return int(getattr(result, "rowcount", 0) or 0)
