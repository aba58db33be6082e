"""Fetching subscribed calendars in the background: a few at a time, each within a deadline.

No request waits for another site. Subscribing to a calendar, or "Refresh now", only
marks the subscription ``queued`` (a short write) and answers at once; the organiser's
page shows "Fetching…" and polls until the outcome is there. The fetch runs in a thread
of the process, started as soon as that answer is sent (web/imports.py), or by the
periodic job for the subscriptions that are due (:meth:`CalendarRefresher.refresh_due`).

Bounds, per process (:class:`FetchSlots`):

- :data:`FETCHES_PER_PROCESS` fetches at once, at most :data:`FETCHES_PER_COMMUNITY` of
  them for one community: forty slow calendars hold four threads, and one community's
  queue does not hold up the others'. What does not fit stays ``queued`` and starts when
  a slot frees (each fetch that ends starts the next pass).
- :data:`FETCH_DEADLINE` seconds for each, reading the calendar included. Past it the
  fetch is abandoned: the subscription says ``timeout`` at once, and whatever the thread
  brings later is thrown away. Its slot is given back when the thread really ends, which
  the fetch's own time limits bound (events/fetch.py, events/imports.py).
- Reading a fetched calendar takes a CPU slot, like an upload (events/work_limits.py).

Across processes, a claim keeps two from fetching one subscription at once: ``fetching``
with the time it began (in ``last_fetched_at``), set by one conditional UPDATE. A claim
older than :data:`STALE_AFTER` (its process died) is taken over by the next pass.

Statuses: ``queued`` → ``fetching`` → ``ok``, ``not_modified`` or an error code. The
write that stores an outcome is short: the fetch, the parse and the rendering are done
before it (events/services/external_calendars.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from events import work_limits
from events.clock import utcnow
from events.database import Database
from events.fetch import FetchPolicy, FetchResult, fetch_calendar
from events.imports import ImportRefused
from events.models import ExternalCalendar
from events.services.external_calendars import (
    FETCHING,
    PENDING,
    QUEUED,
    ExternalCalendarService,
    PreparedCalendar,
    SyncReport,
    read_calendar_file,
)

__all__ = [
    "FETCHES_PER_COMMUNITY",
    "FETCHES_PER_PROCESS",
    "FETCH_DEADLINE",
    "PROCESS_SLOTS",
    "REFRESH_EVERY",
    "CalendarRefresher",
    "FetchRun",
    "FetchSlots",
    "RefreshOutcome",
    "describe",
    "due_sources",
]

log = logging.getLogger(__name__)

REFRESH_EVERY = timedelta(hours=1)
#: Past this, fetch without If-None-Match: the window moved, occurrences may have entered it.
FULL_REFRESH_EVERY = timedelta(days=1)
FETCHES_PER_PROCESS = 4
FETCHES_PER_COMMUNITY = 2
#: Seconds for one fetch, reading the calendar included; past it, abandoned.
FETCH_DEADLINE = 30.0
#: A ``fetching`` claim this old belongs to a process that died: fetch again.
STALE_AFTER = timedelta(minutes=5)
#: Queued subscriptions one pass looks at (the others wait for the next pass).
PASS_SIZE = 100
#: Writes of one outcome tried before giving up (a slug taken meanwhile: try again).
STORE_ATTEMPTS = 2


@dataclass(frozen=True)
class RefreshOutcome:
    source_id: UUID
    name: str
    status: str
    error: str = ""
    report: SyncReport = field(default_factory=SyncReport)


class FetchSlots:
    """How many fetches run in this process, in all and per community (thread-safe)."""

    def __init__(self, *, per_process: int, per_community: int) -> None:
        self.per_process = per_process
        self.per_community = per_community
        self._lock = threading.Lock()
        self._by_community: Counter[UUID] = Counter()
        self._runs: set[threading.Thread] = set()

    def take(self, community_id: UUID) -> bool:
        """A slot for a fetch of ``community_id``'s, if both caps allow one."""
        with self._lock:
            if sum(self._by_community.values()) >= self.per_process:
                return False
            if self._by_community[community_id] >= self.per_community:
                return False
            self._by_community[community_id] += 1
            return True

    def give_back(self, community_id: UUID) -> None:
        with self._lock:
            self._by_community[community_id] -= 1
            if self._by_community[community_id] <= 0:
                del self._by_community[community_id]

    @property
    def running(self) -> int:
        with self._lock:
            return sum(self._by_community.values())

    def running_for(self, community_id: UUID) -> int:
        with self._lock:
            return self._by_community[community_id]

    def track(self, run: threading.Thread, *, done: bool = False) -> None:
        with self._lock:
            if done:
                self._runs.discard(run)
            else:
                self._runs.add(run)

    def runs(self) -> list[threading.Thread]:
        """The fetch threads alive now (to wait for them: the command line, tests)."""
        with self._lock:
            return list(self._runs)

    def wait(self, timeout: float | None = None) -> bool:
        """Until no fetch runs (those that one ending starts included); False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        while runs := self.runs():
            for run in runs:
                remaining = None if end is None else max(end - time.monotonic(), 0.0)
                if run.ident is None:
                    # Tracked a moment before it starts (FetchRun.start), so that it is
                    # never missed; it cannot be joined yet.
                    time.sleep(0.001)
                    if end is not None and time.monotonic() >= end:
                        return False
                    continue
                run.join(remaining)
                if end is not None and time.monotonic() >= end and run.is_alive():
                    return False
        return True


#: This process's slots: every refresher of the process shares them.
PROCESS_SLOTS = FetchSlots(per_process=FETCHES_PER_PROCESS, per_community=FETCHES_PER_COMMUNITY)


@dataclass(frozen=True)
class _Claim:
    """A subscription this process is fetching, and what the fetch needs to know."""

    source_id: UUID
    community_id: UUID
    name: str
    url: str
    timezone: str
    etag: str
    last_modified: str
    claimed_at: datetime


@dataclass
class _Fetched:
    """What the fetching thread brought back."""

    result: FetchResult | None = None
    prepared: PreparedCalendar | ImportRefused | None = None
    error: BaseException | None = None


def due_sources(session: Session, *, now: datetime, every: timedelta = REFRESH_EVERY) -> list[UUID]:
    """Enabled subscriptions not fetched for ``every`` and not already pending, the
    longest-waiting first."""
    return list(
        session.scalars(
            select(ExternalCalendar.id)
            .where(
                ExternalCalendar.enabled.is_(True),
                ExternalCalendar.url.is_not(None),
                ExternalCalendar.last_status.not_in(PENDING),
                or_(
                    ExternalCalendar.last_fetched_at.is_(None),
                    ExternalCalendar.last_fetched_at <= now - every,
                ),
            )
            .order_by(
                ExternalCalendar.last_fetched_at.is_not(None), ExternalCalendar.last_fetched_at
            )
        )
    )


def _startable(stale_before: datetime) -> Any:
    """Queued subscriptions, and claims whose process must have died."""
    return and_(
        ExternalCalendar.enabled.is_(True),
        ExternalCalendar.url.is_not(None),
        or_(
            ExternalCalendar.last_status == QUEUED,
            and_(
                ExternalCalendar.last_status == FETCHING,
                ExternalCalendar.last_fetched_at < stale_before,
            ),
        ),
    )


class CalendarRefresher:
    """Runs the queued fetches of one database in this process's slots."""

    def __init__(
        self,
        db: Database,
        policy: FetchPolicy,
        *,
        slots: FetchSlots | None = None,
        deadline: float | None = None,
    ) -> None:
        self.db = db
        self.policy = policy
        self.slots = slots or PROCESS_SLOTS
        self.deadline = FETCH_DEADLINE if deadline is None else deadline
        #: Every fetch this refresher started, chained ones included.
        self.started: list[FetchRun] = []

    # -- what the job, the pages and the command line call ---------------------------------
    def refresh_due(
        self, *, now: datetime | None = None, every: timedelta = REFRESH_EVERY
    ) -> list[UUID]:
        """The periodic job: queue the subscriptions due for a fetch, start as many
        queued fetches as the slots allow (queued earlier too: by a page whose process
        had no free slot, or whose fetch died with its process), and return at once."""
        queued = self.queue_due(now=now, every=every)
        self.start_queued(now=now)
        return queued

    def queue_due(
        self, *, now: datetime | None = None, every: timedelta = REFRESH_EVERY
    ) -> list[UUID]:
        """Mark ``queued`` the subscriptions not fetched for ``every`` (all with 0)."""
        now = now or utcnow()
        with self.db.session() as session:  # most rounds find nothing due: no write then
            ids = due_sources(session, now=now, every=every)
        if not ids:
            return []
        with self.db.queued_transaction() as session:
            session.execute(
                update(ExternalCalendar)
                .where(
                    ExternalCalendar.id.in_(ids),
                    ExternalCalendar.last_status.not_in(PENDING),
                )
                .values(last_status=QUEUED)
                .execution_options(synchronize_session=False)
            )
        return ids

    def start_queued(self, *, now: datetime | None = None) -> list[FetchRun]:
        """One pass: claim queued subscriptions as far as the slots allow and start a
        fetch thread for each; returns at once (the threads it started)."""
        now = now or utcnow()
        stale_before = now - STALE_AFTER
        with self.db.session() as session:
            candidates = session.execute(
                select(ExternalCalendar.id, ExternalCalendar.community_id)
                .where(_startable(stale_before))
                .order_by(ExternalCalendar.updated_at)
                .limit(PASS_SIZE)
            ).all()
        wanted = [(sid, cid) for sid, cid in candidates if self.slots.take(cid)]
        if not wanted:
            return []
        claims: list[_Claim] = []
        try:
            claims = self._claim(wanted, now, stale_before)
        finally:
            claimed = {claim.source_id for claim in claims}
            for source_id, community_id in wanted:
                if source_id not in claimed:
                    self.slots.give_back(community_id)
        runs = [FetchRun(self, claim) for claim in claims]
        for run in runs:
            self.started.append(run)
            run.start()
        return runs

    def refresh_and_wait(
        self, *, force: bool = False, every: timedelta = REFRESH_EVERY
    ) -> list[RefreshOutcome]:
        """Queue what is due (everything with ``force``), fetch it, and wait for every
        fetch to end: for the command line. The outcomes of the queued subscriptions."""
        wanted = set(self.queue_due(every=timedelta(0) if force else every))
        while True:
            started = self.start_queued()
            if not started and not self.slots.runs():
                # Nothing could start and nothing runs to free a slot (the subscriptions
                # left are another process's now): stop rather than ask again forever.
                break
            self.slots.wait()
            with self.db.session() as session:
                pending = session.scalar(
                    select(ExternalCalendar.id)
                    .where(
                        ExternalCalendar.id.in_(wanted),
                        ExternalCalendar.last_status == QUEUED,
                        ExternalCalendar.enabled.is_(True),
                    )
                    .limit(1)
                )
            if pending is None:
                break
        outcomes = {run.claim.source_id: run.outcome for run in self.started if run.outcome}
        return [outcomes[sid] for sid in sorted(outcomes, key=str) if sid in wanted]

    # -- one fetch ---------------------------------------------------------------------------
    def _claim(
        self, wanted: list[tuple[UUID, UUID]], now: datetime, stale_before: datetime
    ) -> list[_Claim]:
        claims: list[_Claim] = []
        with self.db.queued_transaction() as session:
            for source_id, _community_id in wanted:
                claimed = session.execute(
                    update(ExternalCalendar)
                    .where(ExternalCalendar.id == source_id, _startable(stale_before))
                    .values(last_status=FETCHING, last_fetched_at=now)
                    .execution_options(synchronize_session=False)
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another process was faster
                source = session.get(ExternalCalendar, source_id)
                if source is None or source.url is None:
                    continue
                fresh = (
                    source.last_success_at is not None
                    and now - source.last_success_at < FULL_REFRESH_EVERY
                )
                claims.append(
                    _Claim(
                        source_id=source.id,
                        community_id=source.community_id,
                        name=source.name,
                        url=source.url,
                        timezone=source.community.timezone,
                        etag=source.etag if fresh else "",
                        last_modified=source.last_modified if fresh else "",
                        claimed_at=now,
                    )
                )
        return claims

    def run_claim(self, claim: _Claim) -> RefreshOutcome | None:
        """Fetch and read in a thread of its own, wait for it until the deadline, store
        the outcome (or "abandoned") in a short write; None if the subscription went."""
        started = time.monotonic()
        fetched = _Fetched()
        worker = threading.Thread(
            target=self._fetch_and_read,
            args=(claim, fetched, started + self.deadline),
            name=f"calendar-fetch-{claim.source_id}",
            daemon=True,
        )
        worker.start()
        worker.join(self.deadline)
        if worker.is_alive():
            detail = f"abandoned after {self.deadline:g} s without a complete answer"
            outcome = self._store_failure(claim, "timeout", detail)
            worker.join()  # the slot stays taken until the thread really ends
            return outcome
        error = fetched.error
        if error is None and fetched.result is not None:
            try:
                return self._store(claim, fetched.result, fetched.prepared)
            except Exception as failed:  # the write itself: say so rather than stay "fetching"
                error = failed
        log.error("fetching calendar %s failed", claim.source_id, exc_info=error)
        detail = f"{type(error).__name__}: {error}"[:300]
        return self._store_failure(claim, "internal_error", detail)

    def _fetch_and_read(self, claim: _Claim, fetched: _Fetched, deadline: float) -> None:
        try:
            result = fetch_calendar(
                claim.url,
                etag=claim.etag,
                last_modified=claim.last_modified,
                policy=self.policy,
            )
            if result.ok:
                try:
                    with work_limits.CPU_WORK.slot(wait=deadline - time.monotonic()):
                        fetched.prepared = read_calendar_file(
                            result.body,
                            now=claim.claimed_at,
                            default_timezone=claim.timezone,
                            max_bytes=self.policy.max_bytes,
                            time_limit=deadline - time.monotonic(),
                        )
                except ImportRefused as refused:
                    fetched.prepared = refused
            fetched.result = result
        except BaseException as error:  # handed to the supervising thread
            fetched.error = error

    def _locked_claim(self, session: Session, claim: _Claim) -> ExternalCalendar | None:
        """The subscription, row-locked, if it is still ours to write: not deleted, same
        address, and not taken over by another process meanwhile."""
        source = session.scalar(
            select(ExternalCalendar)
            .where(ExternalCalendar.id == claim.source_id)
            .with_for_update(of=ExternalCalendar)
        )
        if (
            source is None
            or source.url != claim.url
            or source.last_status != FETCHING
            or source.last_fetched_at != claim.claimed_at
        ):
            return None
        return source

    def _store(
        self,
        claim: _Claim,
        result: FetchResult,
        prepared: PreparedCalendar | ImportRefused | None,
    ) -> RefreshOutcome | None:
        for attempt in range(STORE_ATTEMPTS):
            try:
                with self.db.queued_transaction() as session:
                    source = self._locked_claim(session, claim)
                    if source is None:
                        return None
                    report = ExternalCalendarService(session).record(
                        source, result, prepared, now=claim.claimed_at
                    )
                    return RefreshOutcome(
                        claim.source_id, claim.name, source.last_status, source.last_error, report
                    )
            except IntegrityError:
                # On PostgreSQL another import may have taken one of our new slugs
                # between our look and our insert: look again.
                if attempt + 1 == STORE_ATTEMPTS:
                    raise
        return None

    def _store_failure(self, claim: _Claim, status: str, detail: str) -> RefreshOutcome | None:
        with self.db.queued_transaction() as session:
            source = self._locked_claim(session, claim)
            if source is None:
                return None
            ExternalCalendarService(session).record_failure(
                source, status, detail, claim.claimed_at
            )
            return RefreshOutcome(claim.source_id, claim.name, status, detail)


class FetchRun(threading.Thread):
    """One claimed subscription's fetch; holds its slot until it ends, then starts the
    next pass so that what waits in the queue gets the slot."""

    def __init__(self, refresher: CalendarRefresher, claim: _Claim) -> None:
        super().__init__(name=f"calendar-refresh-{claim.source_id}", daemon=True)
        self.refresher = refresher
        self.claim = claim
        self.outcome: RefreshOutcome | None = None

    def start(self) -> None:
        self.refresher.slots.track(self)
        try:
            super().start()
        except BaseException:  # no thread (the system's limit): nothing to wait for
            self.refresher.slots.track(self, done=True)
            raise

    def run(self) -> None:
        slots = self.refresher.slots
        try:
            self.outcome = self.refresher.run_claim(self.claim)
        except Exception:
            log.exception("refreshing external calendar %s failed", self.claim.source_id)
        finally:
            slots.give_back(self.claim.community_id)
        try:
            self.refresher.start_queued()
        except Exception:
            log.exception("starting the queued calendar fetches failed")
        finally:
            slots.track(self, done=True)


def describe(outcomes: Iterable[RefreshOutcome]) -> list[str]:
    """One line per outcome, for the command line."""
    lines = []
    for outcome in outcomes:
        report = outcome.report
        counts = f"+{report.created} ~{report.updated} -{report.removed} ={report.unchanged}"
        detail = f" ({outcome.error})" if outcome.error else ""
        lines.append(f"{outcome.name}: {outcome.status}{detail} {counts}")
    return lines
