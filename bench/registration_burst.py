"""N people registering at once for one event: completion time, latency, errors, places.

Usage (from the repository root)::

    .venv/bin/python bench/registration_burst.py                    # 500 and 2,000 people
    .venv/bin/python bench/registration_burst.py --people 2000 --places 500
    BENCH_DATABASE_URL=postgresql://bench@127.0.0.1:5432/bench .venv/bin/python \\
        bench/registration_burst.py

For each crowd size, with the harness (bench/harness.py): a fresh database (SQLite in a
temporary folder, or ``BENCH_DATABASE_URL``, whose tables are dropped first) with one
published event of ``--places`` places and a waitlist; the production server
(``rencontres serve --workers N``); then

1. ``/healthz`` with wrk (the same run's ceiling, as for every scenario);
2. every person GETs the event page without cookies, as a new browser (a visitor cookie and
   its CSRF token and a form nonce of their own; 32 at a time, not timed);
3. all POST /e/{event}/register at once (httpx, asyncio, one connection each): completion
   time (first request sent to last answer), p50/p99 of the individual answers, errors
   (status >= 400 or no answer);
4. ``/healthz`` with wrk again;
5. the database: exactly ``--places`` confirmed, ``taken`` equal to it, everyone else
   waitlisted at positions 1..N-places.

The client runs on the same cores as the server: its time is part of the figures. The
exit status is 1 when a burst had an error or the wrong count. Results are saved under
``bench/results/registration-burst-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from harness import (
    HEALTHZ_PATH,
    HOST_HEADER,
    BenchError,
    RunningServer,
    WrkOptions,
    WrkResult,
    add_server_arguments,
    prepared_database,
    run_wrk,
    running_server,
    save_run,
    wait_until_idle,
)
from scenarios import HOT_EVENT_SLUG, seed_registration_event

DEFAULT_PEOPLE = (500, 2_000)
DEFAULT_PLACES = 500
PAGE_CONCURRENCY = 32
REQUEST_TIMEOUT_S = 300.0
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
REQUEST_KEY_INPUT = re.compile(r'name="request_key" value="([^"]+)"')


@dataclass(frozen=True)
class Visitor:
    n: int
    visitor_cookie: str
    csrf_token: str
    request_key: str


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (timeout, connection error)
    seconds: float
    error: str = ""


@dataclass(frozen=True)
class Places:
    confirmed: int
    confirmed_people: int
    taken: int
    waitlisted: int
    positions_ok: bool
    rows: int


@dataclass(frozen=True)
class BurstResult:
    people: int
    places: int
    completion_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    errors: int
    places_check: Places
    healthz_before: WrkResult
    healthz_after: WrkResult

    @property
    def healthz_rps(self) -> float:
        return (self.healthz_before.requests_per_s + self.healthz_after.requests_per_s) / 2

    @property
    def registrations_per_s(self) -> float:
        return self.people / self.completion_s if self.completion_s else 0.0

    @property
    def correct(self) -> bool:
        check = self.places_check
        return (
            check.confirmed == check.confirmed_people == check.taken == self.places
            and check.waitlisted == self.people - self.places
            and check.positions_ok
            and check.rows == self.people
        )

    @property
    def verdict(self) -> str:
        return "PASS" if self.errors == 0 and self.correct else "FAIL"

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "healthz_requests_per_s": round(self.healthz_rps, 3),
            "registrations_per_s": round(self.registrations_per_s, 3),
            "ratio_pct": round(100 * self.registrations_per_s / self.healthz_rps, 3)
            if self.healthz_rps
            else 0.0,
            "verdict": self.verdict,
        }


# -- the crowd -------------------------------------------------------------------------------
async def open_page(client: httpx.AsyncClient, url: str, n: int) -> Visitor:
    """A cookie-less GET of the event page: this person's visitor cookie, CSRF token and nonce."""
    response = await client.send(httpx.Request("GET", url, headers={"Host": HOST_HEADER}))
    token, key = CSRF_INPUT.search(response.text), REQUEST_KEY_INPUT.search(response.text)
    if response.status_code != 200 or not token or not key:
        raise BenchError(f"GET {url}: {response.status_code}, no registration form")
    return Visitor(n, response.cookies["visitor"], token.group(1), key.group(1))


async def register(client: httpx.AsyncClient, url: str, visitor: Visitor) -> Answer:
    form = {
        "_csrf_token": visitor.csrf_token,
        "request_key": visitor.request_key,
        "name": f"Personne {visitor.n}",
        "email": f"burst{visitor.n}@example.org",
        "guests": "0",
        "consent": "on",
    }
    headers = {"Host": HOST_HEADER, "Cookie": f"visitor={visitor.visitor_cookie}"}
    started = time.perf_counter()
    try:
        response = await client.send(httpx.Request("POST", url, data=form, headers=headers))
    except httpx.HTTPError as error:
        return Answer(None, time.perf_counter() - started, type(error).__name__)
    return Answer(response.status_code, time.perf_counter() - started)


async def crowd(base_url: str, people: int) -> tuple[list[Answer], float]:
    """Everyone opens the page, then everyone registers at once; answers, completion time."""
    page = f"{base_url}/e/{HOT_EVENT_SLUG}"
    async with httpx.AsyncClient(timeout=60) as client:
        gate = asyncio.Semaphore(PAGE_CONCURRENCY)

        async def visit(n: int) -> Visitor:
            async with gate:
                return await open_page(client, page, n)

        visitors = await asyncio.gather(*(visit(n) for n in range(people)))
    limits = httpx.Limits(max_connections=people, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(register(client, f"{page}/register", visitor) for visitor in visitors)
        )
        completion = time.perf_counter() - started
    return list(answers), completion


def count_places(database_url: str) -> Places:
    from sqlalchemy import select

    from events.database import Database
    from events.models import Event, Registration, RegistrationStatus

    database = Database.from_url(database_url)
    try:
        with database.session() as session:
            event = session.scalars(select(Event).where(Event.slug == HOT_EVENT_SLUG)).one()
            rows = session.execute(
                select(Registration.status, Registration.guests, Registration.waitlist_position)
                .where(Registration.event_id == event.id)
                .order_by(Registration.waitlist_position)
            ).all()
    finally:
        database.dispose()
    status = RegistrationStatus
    confirmed = [row for row in rows if row.status is status.CONFIRMED]
    positions = [row.waitlist_position for row in rows if row.status is status.WAITLISTED]
    return Places(
        confirmed=len(confirmed),
        confirmed_people=sum(1 + row.guests for row in confirmed),
        taken=event.taken,
        waitlisted=len(positions),
        positions_ok=positions == list(range(1, len(positions) + 1)),
        rows=len(rows),
    )


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


# -- one burst -------------------------------------------------------------------------------
def healthz(server: RunningServer, wrk: WrkOptions) -> WrkResult:
    wait_until_idle(server)
    return run_wrk(server.url(HEALTHZ_PATH), wrk)


def burst(
    people: int, places: int, workers: int, database_url: str | None, wrk: WrkOptions
) -> BurstResult:
    with (
        prepared_database(seed_registration_event(places), database_url) as database,
        running_server(database, workers) as server,
    ):
        before = healthz(server, wrk)
        answers, completion = asyncio.run(crowd(server.base_url, people))
        after = healthz(server, wrk)
        places_check = count_places(database.url)
    statuses: dict[str, int] = {}
    for answer in answers:
        key = str(answer.status) if answer.status is not None else answer.error
        statuses[key] = statuses.get(key, 0) + 1
    errors = sum(answer.status is None or answer.status >= 400 for answer in answers)
    latencies_ms = [answer.seconds * 1000 for answer in answers]
    return BurstResult(
        people=people,
        places=places,
        completion_s=completion,
        p50_ms=statistics.median(latencies_ms),
        p99_ms=percentile(latencies_ms, 99),
        max_ms=max(latencies_ms),
        statuses=statuses,
        errors=errors,
        places_check=places_check,
        healthz_before=before,
        healthz_after=after,
    )


def describe(result: BurstResult) -> str:
    check = result.places_check
    return (
        f"{result.people:>6,} people, {result.places} places: "
        f"{result.completion_s:6.2f} s ({result.registrations_per_s:,.0f}/s), "
        f"p50 {result.p50_ms:,.0f} ms, p99 {result.p99_ms:,.0f} ms, "
        f"max {result.max_ms:,.0f} ms, errors {result.errors}, statuses {result.statuses}; "
        f"confirmed {check.confirmed} (taken {check.taken}), waitlisted {check.waitlisted} "
        f"(positions 1..{check.waitlisted} {'ok' if check.positions_ok else 'WRONG'}); "
        f"/healthz {result.healthz_rps:,.0f}/s "
        f"({result.healthz_before.requests_per_s:,.0f} before, "
        f"{result.healthz_after.requests_per_s:,.0f} after) -> {result.verdict}"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=list(DEFAULT_PEOPLE))
    parser.add_argument("--places", type=int, default=DEFAULT_PLACES)
    add_server_arguments(parser, healthz_duration_s=10.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = WrkOptions(duration_s=args.healthz_duration)
    started_at = datetime.now(UTC)
    load_at_start = os.getloadavg()
    results = []
    try:
        for people in args.people:
            print(f"-- {people:,} people at once", file=sys.stderr, flush=True)
            result = burst(people, args.places, args.workers, args.database_url, wrk)
            print(describe(result), flush=True)
            results.append(result)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    if not args.no_save:
        path = save_run(
            "registration-burst",
            started_at,
            load_at_start,
            args.database_url,
            args.workers,
            {"results": [result.to_json() for result in results]},
        )
        print(f"\nsaved {path}")
    return 0 if all(result.verdict == "PASS" for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
