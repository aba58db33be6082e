"""The periodic jobs started by 4 processes at the same moment: no error and no double work.

Each process builds the real job list (events/jobs/periodic.py) on the test's database,
waits at a barrier with the others, then runs the due jobs once. The work waiting for them:
2 expired holds, 3 reminders, 2 registrations to anonymise, a series whose horizon moves,
and 2 subscribed calendars on a local server that counts its fetches (each answer takes a
second, so runs that overlap would fetch twice). Each process reports what every job did;
the sums must be exactly the work there was.

The negative control runs the same jobs without the runner (no lease), as every worker
did before: every process runs every job. Measured before calendar fetches got their own
claim (events/services/calendar_refresh.py): each calendar fetched 4 times, on SQLite and
on PostgreSQL, where 3 of the 4 series extensions also failed with an IntegrityError.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select

from events.database import Database
from events.fetch import FetchPolicy
from events.jobs.periodic import (
    ANONYMISE,
    EXPIRE_HOLDS,
    EXTEND_SERIES,
    REFRESH_IMPORTS,
    REMINDERS,
    JobSettings,
    periodic_jobs,
)
from events.jobs.runner import JobRunner
from events.models import Event, Registration, RegistrationStatus
from events.services import calendar_refresh
from events.services.external_calendars import ExternalCalendarService, SubscriptionInput
from events.services.series import SeriesInput, SeriesService
from tests.factories import Factories
from tests.mail.scenario import open_event, outbox, person, register

pytestmark = pytest.mark.slow

PROCESSES = 4
FETCH_SECONDS = 1.0
CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:{path}@feeds.example\r\nDTSTAMP:20300101T000000Z\r\n"
    "DTSTART:20300320T180000Z\r\nDTEND:20300320T200000Z\r\nSUMMARY:Imported {path}\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


class SlowFeeds:
    """A calendar server that takes a second to answer and counts the fetches."""

    def __init__(self) -> None:
        self.fetches: list[str] = []
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                feeds.fetches.append(self.path)
                threading.Event().wait(FETCH_SECONDS)
                body = CALENDAR.format(path=self.path.strip("/")).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def feeds() -> Iterator[SlowFeeds]:
    server = SlowFeeds()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def run_in_process(
    database_url: str, now: datetime, leased: bool, start: Any, results: Any
) -> None:
    """One process: the real jobs, released with the others; what each did, and errors."""
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            errors.append(record.getMessage())

    logging.getLogger().addHandler(Collect(level=logging.ERROR))
    db = Database.from_url(database_url)
    settings = JobSettings(anonymise_after_days=0, import_policy=FetchPolicy(allow_private=True))
    jobs = periodic_jobs(db, settings)
    done: dict[str, int] = {}
    start.wait()
    if leased:
        done = JobRunner(db, jobs).run_due(now)
    else:
        for job in jobs:  # no lease: what each worker did before
            try:
                done[job.name] = job.run(now)
            except Exception as error:
                errors.append(f"{job.name}: {type(error).__name__}")
    # Calendars are fetched in threads of the process that queued them (as the worker's
    # ``--once`` does, wait for them before leaving).
    calendar_refresh.PROCESS_SLOTS.wait(120)
    db.dispose()
    results.put({"done": done, "errors": errors})


def seed(db: Database, make: Factories, feeds: SlowFeeds) -> datetime:
    """The work described above; returns the moment the jobs run at."""
    community = make.community()
    soon = open_event(db, make, community=community)  # 2030-03-07 19:00 Paris
    for n in range(3):
        register(db, soon, person(n))  # confirmed: 3 reminders due
    holding = open_event(db, make, community=community, title="Confirm first")
    with db.transaction() as session:
        loaded = session.get(Event, holding.id)
        assert loaded is not None
        loaded.confirm_email_first = True
    for n in range(3, 5):
        register(db, holding, person(n))  # holds expire long before 2030
    past = open_event(
        db, make, community=community, starts="2030-03-01T19:00", ends="2030-03-01T22:00"
    )
    for n in range(5, 7):
        register(db, past, person(n))  # ended: 2 to anonymise
    with db.transaction() as session:
        series_service = SeriesService(session)
        series_service.create(
            community,
            SeriesInput(title="Thursdays", frequency="weekly", starts_on="2029-12-06"),
            today=datetime(2029, 12, 6).date(),
        )
        calendars = ExternalCalendarService(session)
        for path in ("/one.ics", "/two.ics"):
            calendars.subscribe(community, SubscriptionInput(name=path, url=feeds.url(path)))
    with db.session() as session:
        starts = session.scalar(select(Event.starts_at).where(Event.id == soon.id))
    assert starts is not None
    return starts - timedelta(hours=2)


def _occurrences(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).where(Event.series_id.is_not(None))) or 0


def race(database_url: str, now: datetime, *, leased: bool) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=run_in_process, args=(database_url, now, leased, start, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(30)
    return reports


def _ran_on(reports: list[dict[str, Any]], name: str) -> int:
    """On how many processes the job ran: finished (its count) or failed (its error)."""
    return sum(
        name in report["done"] or any(error.startswith(f"{name}: ") for error in report["errors"])
        for report in reports
    )


def _sum(reports: list[dict[str, Any]], name: str) -> int:
    return sum(report["done"].get(name, 0) for report in reports)


JOBS = (EXPIRE_HOLDS, REMINDERS, ANONYMISE, EXTEND_SERIES, REFRESH_IMPORTS)


def test_four_processes_run_each_job_once_and_do_the_work_once(
    db: Database, database_url: str, make: Factories, feeds: SlowFeeds
) -> None:
    now = seed(db, make, feeds)
    before = _occurrences(db)

    reports = race(database_url, now, leased=True)

    assert [report["errors"] for report in reports] == [[]] * PROCESSES
    for name in JOBS:
        assert _ran_on(reports, name) == 1, (name, reports)  # on one process only
    assert sorted(feeds.fetches) == ["/one.ics", "/two.ics"]  # each calendar fetched once
    assert _sum(reports, REFRESH_IMPORTS) == 2
    assert _sum(reports, EXPIRE_HOLDS) == 2
    assert _sum(reports, REMINDERS) == 3 == len(outbox(db, kind="reminder"))
    assert _sum(reports, ANONYMISE) == 2
    created = _occurrences(db) - before
    assert created > 0 and _sum(reports, EXTEND_SERIES) == created
    with db.session() as session:
        cancelled = session.scalar(
            select(func.count()).where(Registration.status == RegistrationStatus.CANCELLED)
        )
    assert cancelled == 2


def test_negative_control_without_the_lease_every_process_runs_every_job(
    db: Database, database_url: str, make: Factories, feeds: SlowFeeds
) -> None:
    now = seed(db, make, feeds)

    reports = race(database_url, now, leased=False)

    errors = [error for report in reports for error in report["errors"]]
    print(f"fetches: {sorted(feeds.fetches)}; errors: {errors}")
    # Without the lease every process runs every job. (The work itself is now guarded a
    # second time where it can be: reminders by their dedupe key, calendar fetches by
    # their claim in the database, so it may not show as double work any more.)
    # The same measure as above: a run counts whether it finished or failed (on PostgreSQL
    # some of the colliding series extensions end in an IntegrityError).
    runs = {name: _ran_on(reports, name) for name in JOBS}
    assert runs == dict.fromkeys(JOBS, PROCESSES), runs
