"""The background refresher's bookkeeping (events/services/calendar_refresh.py), with the
network replaced by a stub that records each fetch: claims across processes, stale
claims, what goes away meanwhile, failures, and what the periodic job queues. The real
network, the deadline and the caps are tested over HTTP (tests/web/test_import_fetching.py).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from events.database import Database
from events.fetch import FetchPolicy, FetchResult
from events.models import Community, ExternalCalendar
from events.services import calendar_refresh
from events.services.calendar_refresh import CalendarRefresher, FetchSlots
from events.services.external_calendars import ExternalCalendarService
from tests.factories import Factories

NOW = datetime(2034, 12, 1, 12, 0, tzinfo=UTC)
CALENDAR = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n"
PATIENCE_S = 60.0


class StubNetwork:
    """``fetch_calendar`` replaced: counts fetches per address; may wait or fail."""

    def __init__(self) -> None:
        self.fetched: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.gate.set()
        self.fail: set[str] = set()
        self.during: Any = None

    def __call__(self, url: str, **_kwargs: Any) -> FetchResult:
        with self.lock:
            self.fetched[url] += 1
        assert self.gate.wait(PATIENCE_S)
        if self.during is not None:
            self.during(url)
        if url in self.fail:
            raise RuntimeError("the stub broke")
        return FetchResult(status="ok", body=CALENDAR, url=url)


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> StubNetwork:
    stub = StubNetwork()
    monkeypatch.setattr(calendar_refresh, "fetch_calendar", stub)
    monkeypatch.setattr(calendar_refresh, "utcnow", lambda: NOW)
    return stub


@pytest.fixture
def community(make: Factories) -> Community:
    return make.community(slug="ours")


def add_sources(
    db: Database, community: Community, count: int, *, status: str = "queued"
) -> list[UUID]:
    with db.transaction() as session:
        sources = [
            ExternalCalendar(
                community_id=community.id,
                name=f"Partner {n}",
                url=f"https://partner{n}.example/c.ics",
                last_status=status,
                last_notes=[],
            )
            for n in range(count)
        ]
        session.add_all(sources)
        session.flush()
        return [source.id for source in sources]


def refresher(db: Database, slots: FetchSlots | None = None) -> CalendarRefresher:
    return CalendarRefresher(
        db, FetchPolicy(), slots=slots or FetchSlots(per_process=4, per_community=4)
    )


def status_of(db: Database) -> dict[str, str]:
    with db.session() as session:
        rows = session.execute(select(ExternalCalendar.name, ExternalCalendar.last_status))
        return {name: status for name, status in rows}


def test_two_processes_never_fetch_one_subscription_twice(
    db: Database, community: Community, network: StubNetwork
) -> None:
    add_sources(db, community, 6)
    network.gate.clear()  # every fetch waits: both "processes" look at the queue meanwhile
    first, second = refresher(db), refresher(db)
    runs = first.start_queued() + second.start_queued()
    network.gate.set()
    assert first.slots.wait(PATIENCE_S) and second.slots.wait(PATIENCE_S)
    assert len(runs) == 4 + 2  # the first took four, the second the other two
    assert set(network.fetched.values()) == {1} and len(network.fetched) == 6
    assert set(status_of(db).values()) == {"ok"}


def test_a_claim_whose_process_died_is_taken_over_after_a_while(
    db: Database, community: Community, network: StubNetwork
) -> None:
    stale, fresh = add_sources(db, community, 2, status="fetching")
    with db.transaction() as session:
        for source_id, began in (
            (stale, NOW - calendar_refresh.STALE_AFTER - timedelta(seconds=1)),
            (fresh, NOW - timedelta(seconds=10)),
        ):
            session.execute(
                update(ExternalCalendar)
                .where(ExternalCalendar.id == source_id)
                .values(last_fetched_at=began)
            )
    worker = refresher(db)
    (run,) = worker.start_queued()
    assert worker.slots.wait(PATIENCE_S)
    assert run.claim.source_id == stale
    assert status_of(db) == {"Partner 0": "ok", "Partner 1": "fetching"}


def test_a_subscription_removed_or_retaken_during_its_fetch_is_left_alone(
    db: Database, community: Community, network: StubNetwork
) -> None:
    removed, retaken = add_sources(db, community, 2)

    def meanwhile(url: str) -> None:
        with db.transaction() as session:
            if url.startswith("https://partner0."):
                found = session.get(ExternalCalendar, removed)
                session.delete(found)
            else:  # another process's claim, as if ours had gone stale
                session.execute(
                    update(ExternalCalendar)
                    .where(ExternalCalendar.id == retaken)
                    .values(last_fetched_at=NOW + timedelta(minutes=10))
                )

    network.during = meanwhile
    worker = refresher(db)
    runs = worker.start_queued()
    assert worker.slots.wait(PATIENCE_S)
    assert [run.outcome for run in runs] == [None, None]
    assert status_of(db) == {"Partner 1": "fetching"}  # the other claim stands


def test_an_unexpected_failure_is_recorded_and_frees_the_slot_for_the_queue(
    db: Database, community: Community, network: StubNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    add_sources(db, community, 3)
    network.fail.add("https://partner0.example/c.ics")
    worker = refresher(db, FetchSlots(per_process=1, per_community=1))
    (run,) = worker.start_queued()  # one slot: the others wait, queued
    assert worker.slots.wait(PATIENCE_S)
    assert status_of(db) == {"Partner 0": "internal_error", "Partner 1": "ok", "Partner 2": "ok"}
    assert run.outcome is not None and "the stub broke" in run.outcome.error
    assert "fetching calendar" in caplog.text
    assert worker.slots.running == 0


def test_the_periodic_job_queues_what_is_due_and_nothing_pending(
    db: Database, community: Community, network: StubNetwork
) -> None:
    due, recent, queued, uploaded = add_sources(db, community, 4, status="ok")
    with db.transaction() as session:
        for source_id, values in (
            (due, {"last_fetched_at": NOW - timedelta(hours=2)}),
            (recent, {"last_fetched_at": NOW - timedelta(minutes=5)}),
            (queued, {"last_status": "queued"}),
            (uploaded, {"url": None}),
        ):
            session.execute(
                update(ExternalCalendar).where(ExternalCalendar.id == source_id).values(**values)
            )
    worker = refresher(db)
    assert worker.queue_due(now=NOW, every=timedelta(hours=1)) == [due]
    assert sorted(map(str, worker.queue_due(now=NOW, every=timedelta(0)))) == [str(recent)]
    worker.start_queued()
    assert worker.slots.wait(PATIENCE_S)
    assert sorted(network.fetched) == [
        "https://partner0.example/c.ics",
        "https://partner1.example/c.ics",
        "https://partner2.example/c.ics",
    ]


def test_a_write_that_clashes_is_tried_again_and_one_that_fails_is_reported(
    db: Database,
    community: Community,
    network: StubNetwork,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clashing, failing = add_sources(db, community, 2)
    record = ExternalCalendarService.record
    calls: Counter[UUID] = Counter()

    def flaky(service: ExternalCalendarService, source: ExternalCalendar, *args: Any, **kw: Any):
        calls[source.id] += 1
        if source.id == failing:
            raise RuntimeError("the write broke")
        if calls[source.id] == 1:  # another import took a slug between look and insert
            raise IntegrityError("INSERT", {}, Exception("duplicate key"))
        return record(service, source, *args, **kw)

    monkeypatch.setattr(ExternalCalendarService, "record", flaky)
    worker = refresher(db)
    worker.start_queued()
    assert worker.slots.wait(PATIENCE_S)
    assert calls == {clashing: 2, failing: 1}
    assert status_of(db) == {"Partner 0": "ok", "Partner 1": "internal_error"}
    assert "the write broke" in caplog.text
