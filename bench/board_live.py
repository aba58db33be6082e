"""The open-space board live: N participants with the board's stream open, marks arriving.

Usage (from the repository root)::

    .venv/bin/python bench/board_live.py                      # 200 streams, 20 marks/s, 20 s
    .venv/bin/python bench/board_live.py --clients 200 --rate 20 --duration 30
    BENCH_DATABASE_URL=postgresql://bench@127.0.0.1:5432/bench .venv/bin/python \\
        bench/board_live.py

With the harness (bench/harness.py): a fresh database (SQLite in a temporary folder, or
``BENCH_DATABASE_URL``, whose tables are dropped first) seeded with the demo's open-space
evening (events/demo_open_space.py) for ``--clients`` participants; the production server
(``rencontres serve --workers N``); then

1. ``/healthz`` with wrk (the same server's ceiling, as for every scenario);
2. every participant opens their phone page (``/t/{code}/board/``: their CSRF cookie; not
   timed), then the board's live stream (``/e/{event}/board/live?view=phone``, server-sent
   events) and keeps it open; the run starts once every stream has its first board;
3. ``--rate`` marks a second for ``--duration`` seconds, from the participants in turn on
   the topics in turn (interested, not for me, taken back), as the phone's script sends
   them (POST, JSON answer with the board's version): latency p50/p99/max of each mark;
4. for every mark and every stream, how long after the mark was *sent* the stream
   delivered a board of that version or later (the change seen): p50/p99/max over all
   (mark, stream) pairs, and how many were never seen;
5. ``/healthz`` with wrk again.

Thresholds (issue 16): p99 of a mark <= 300 ms, every stream sees each change within 2 s,
0 errors (a mark answered >= 400 or not at all, a stream that failed or ended). The figure
is printed beside ``/healthz`` of the same server, with the ratios. The client runs on the
same cores as the server: its time is part of the figures. Results are saved under
``bench/results/board-live-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
from harness import (
    HOST_HEADER,
    BenchError,
    WrkOptions,
    WrkResult,
    add_server_arguments,
    prepared_database,
    running_server,
    save_run,
)
from registration_burst import healthz, percentile
from scenarios import bench_community

DEFAULT_CLIENTS = 200
DEFAULT_RATE = 20.0
DEFAULT_DURATION_S = 20.0
MARK_P99_MS = 300.0
SEEN_WITHIN_S = 2.0
#: After the last mark, how long the streams get to deliver it before it counts as unseen.
SETTLE_S = 5.0
CONNECT_TIMEOUT_S = 120.0
PAGE_CONCURRENCY = 16
BOARD_DAY = date(2030, 5, 16)  # a future evening: marks are open, no slot is frozen
VERSION = re.compile(r'^\{"v":(\d+)')
CHOICES = ("interested", "not_for_me", "none")


@dataclass
class Seeded:
    slug: str = ""
    tickets: list[str] = field(default_factory=list)
    #: The topic ids and, for each, the ticket that posted it (it cannot mark its own).
    topics: list[tuple[str, str]] = field(default_factory=list)


def seed_board(clients: int, seeded: Seeded) -> Any:
    def seed(database_url: str) -> list[str]:
        from events.database import Database
        from events.demo_open_space import seed_open_space
        from events.models import BoardTopic, Registration

        database = Database.from_url(database_url)
        try:
            with database.transaction() as session:
                community = bench_community(session, "Open space bench")
                demo = seed_open_space(session, community, day=BOARD_DAY, participants=clients)
                seeded.slug = demo.event.slug
                seeded.tickets = demo.tickets
                for topic_id in demo.topic_ids:
                    topic = session.get(BoardTopic, topic_id)
                    host = session.get(Registration, topic.host_id) if topic else None
                    seeded.topics.append((str(topic_id), host.ticket_code if host else ""))
        finally:
            database.dispose()
        return []

    return seed


# -- the streams -----------------------------------------------------------------------------
@dataclass
class Stream:
    """One participant's open stream: when each board arrived, and its version."""

    arrivals: list[float] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    error: str = ""
    first: asyncio.Event = field(default_factory=asyncio.Event)

    def seen_at(self, version: int) -> float | None:
        """When this stream first delivered ``version`` or a later one (versions only grow
        along a stream: it sends the latest board)."""
        index = bisect.bisect_left(self.versions, version)
        return self.arrivals[index] if index < len(self.versions) else None


async def listen(client: httpx.AsyncClient, url: str, stream: Stream, stop: asyncio.Event) -> None:
    headers = {"Host": HOST_HEADER, "Accept": "text/event-stream"}
    name = ""
    try:
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                stream.error = f"status {response.status_code}"
                return
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name == "board":
                    found = VERSION.match(line[6:])
                    if found:
                        stream.arrivals.append(time.perf_counter())
                        stream.versions.append(int(found.group(1)))
                        stream.first.set()
                elif line.startswith("data: ") and name == "closed":
                    stream.error = "closed by the server"
                    return
            if not stop.is_set():
                stream.error = "ended early"
    except httpx.HTTPError as error:
        if not stop.is_set():
            stream.error = type(error).__name__
    finally:
        stream.first.set()


# -- the marks -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mark:
    sent: float
    answered: float
    status: int | None  # None: no answer
    version: int | None
    error: str = ""

    @property
    def ms(self) -> float:
        return (self.answered - self.sent) * 1000


@dataclass(frozen=True)
class Phone:
    """What a phone holds after its first page: the cookie its CSRF tokens are bound to
    (the visitor cookie: web/csrf.py) and the page's token."""

    cookie: str
    token: str


_PAGE_TOKEN = re.compile(r'data-csrf="([^"]+)"')


async def csrf_cookie(client: httpx.AsyncClient, base_url: str, code: str) -> Phone:
    # A request of its own (not client.get): no cookie from the client's jar, as a new phone.
    url = f"{base_url}/t/{code}/board/"
    response = await client.send(httpx.Request("GET", url, headers={"Host": HOST_HEADER}))
    token = _PAGE_TOKEN.search(response.text)
    if response.status_code != 200 or "visitor" not in response.cookies or token is None:
        raise BenchError(f"GET /t/{code}/board/: {response.status_code}, no CSRF token")
    return Phone(cookie=f"visitor={response.cookies['visitor']}", token=token.group(1))


async def send_mark(
    client: httpx.AsyncClient, base_url: str, code: str, phone: Phone, topic: str, choice: str
) -> Mark:
    headers = {
        "Host": HOST_HEADER,
        "Accept": "application/json",
        "X-CSRFToken": phone.token,
        "Cookie": phone.cookie,
    }
    url = f"{base_url}/t/{code}/board/topics/{topic}/mark"
    sent = time.perf_counter()
    try:
        response = await client.post(url, data={"mark": choice}, headers=headers)
    except httpx.HTTPError as error:
        return Mark(sent, time.perf_counter(), None, None, type(error).__name__)
    answered = time.perf_counter()
    version = response.json().get("version") if response.status_code == 200 else None
    error = "" if response.status_code == 200 else response.text[:200]
    return Mark(sent, answered, response.status_code, version, error)


def planned_marks(seeded: Seeded, count: int) -> list[tuple[str, str, str]]:
    """(ticket, topic, choice) for each mark: participants in turn, topics in turn, never
    one's own topic, the three choices in turn per (ticket, topic)."""
    plan = []
    n = 0
    while len(plan) < count:
        code = seeded.tickets[n % len(seeded.tickets)]
        topic, host = seeded.topics[(n // len(seeded.tickets) + n) % len(seeded.topics)]
        n += 1
        if host == code:
            continue
        plan.append((code, topic, CHOICES[n % len(CHOICES)]))
    return plan


@dataclass(frozen=True)
class LiveResult:
    clients: int
    rate: float
    duration_s: float
    marks: int
    mark_p50_ms: float
    mark_p99_ms: float
    mark_max_ms: float
    mark_errors: int
    mark_statuses: dict[str, int]
    stream_errors: dict[str, int]
    seen_pairs: int
    unseen_pairs: int
    seen_p50_ms: float
    seen_p99_ms: float
    seen_max_ms: float
    boards_received: int
    healthz_before: WrkResult
    healthz_after: WrkResult

    @property
    def healthz_rps(self) -> float:
        return (self.healthz_before.requests_per_s + self.healthz_after.requests_per_s) / 2

    @property
    def healthz_p99_ms(self) -> float:
        return max(self.healthz_before.latency_ms.p99, self.healthz_after.latency_ms.p99)

    @property
    def errors(self) -> int:
        return self.mark_errors + sum(self.stream_errors.values()) + self.unseen_pairs

    @property
    def verdict(self) -> str:
        fine = (
            self.errors == 0
            and self.mark_p99_ms <= MARK_P99_MS
            and self.seen_max_ms <= SEEN_WITHIN_S * 1000
        )
        return "PASS" if fine else "FAIL"

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "healthz_requests_per_s": round(self.healthz_rps, 3),
            "mark_p99_to_healthz_p99": round(self.mark_p99_ms / self.healthz_p99_ms, 3)
            if self.healthz_p99_ms
            else None,
            "marks_per_s_to_healthz_pct": round(100 * self.rate / self.healthz_rps, 3)
            if self.healthz_rps
            else None,
            "verdict": self.verdict,
        }


async def connected(streams: list[Stream], timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Wait until every stream has its first board (or failed); those still waiting after
    ``timeout_s`` count as errors."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        waiting = sum(not stream.first.is_set() for stream in streams)
        if not waiting:
            break
        print(f"   {len(streams) - waiting}/{len(streams)} streams have the board", file=sys.stderr)
        await asyncio.sleep(2)
    print(f"   streams open after {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for stream in streams:
        if not stream.first.is_set():
            stream.error = "no board before the run"


async def crowd(
    base_url: str, seeded: Seeded, rate: float, duration_s: float
) -> tuple[list[Mark], list[Stream]]:
    async with httpx.AsyncClient(timeout=60) as pages:
        gate = asyncio.Semaphore(PAGE_CONCURRENCY)

        async def cookie(code: str) -> Phone:
            async with gate:
                return await csrf_cookie(pages, base_url, code)

        cookies = dict(
            zip(
                seeded.tickets,
                await asyncio.gather(*(cookie(code) for code in seeded.tickets)),
                strict=True,
            )
        )
    live_url = f"{base_url}/e/{seeded.slug}/board/live?view=phone"
    streams = [Stream() for _ in seeded.tickets]
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=len(streams) + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(30, read=None)
    async with (
        httpx.AsyncClient(timeout=timeout, limits=limits) as listeners,
        httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=100)) as marker,
    ):
        tasks = [asyncio.create_task(listen(listeners, live_url, s, stop)) for s in streams]
        await connected(streams)
        plan = planned_marks(seeded, round(rate * duration_s))
        started = time.perf_counter()
        sending = []
        for n, (code, topic, choice) in enumerate(plan):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sending.append(
                asyncio.create_task(send_mark(marker, base_url, code, cookies[code], topic, choice))
            )
        marks = list(await asyncio.gather(*sending))
        last = max((mark.version or 0) for mark in marks)
        deadline = time.perf_counter() + SETTLE_S
        while time.perf_counter() < deadline and any(
            s.seen_at(last) is None for s in streams if not s.error
        ):
            await asyncio.sleep(0.1)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return marks, streams


def measure(
    clients: int,
    rate: float,
    duration_s: float,
    workers: int,
    database_url: str | None,
    wrk: WrkOptions,
) -> LiveResult:
    seeded = Seeded()
    with (
        prepared_database(seed_board(clients, seeded), database_url) as database,
        running_server(database, workers) as server,
    ):
        before = healthz(server, wrk)
        marks, streams = asyncio.run(crowd(server.base_url, seeded, rate, duration_s))
        after = healthz(server, wrk)
    statuses: dict[str, int] = {}
    for mark in marks:
        key = str(mark.status) if mark.status is not None else mark.error
        statuses[key] = statuses.get(key, 0) + 1
    stream_errors: dict[str, int] = {}
    for stream in streams:
        if stream.error:
            stream_errors[stream.error] = stream_errors.get(stream.error, 0) + 1
    seen_ms, unseen = [], 0
    for mark in marks:
        if mark.version is None:
            continue
        for stream in streams:
            at = stream.seen_at(mark.version)
            if at is None:
                unseen += 1
            else:
                seen_ms.append(max(0.0, at - mark.sent) * 1000)
    latencies = [mark.ms for mark in marks]
    return LiveResult(
        clients=clients,
        rate=rate,
        duration_s=duration_s,
        marks=len(marks),
        mark_p50_ms=statistics.median(latencies),
        mark_p99_ms=percentile(latencies, 99),
        mark_max_ms=max(latencies),
        mark_errors=sum(mark.status != 200 for mark in marks),
        mark_statuses=statuses,
        stream_errors=stream_errors,
        seen_pairs=len(seen_ms),
        unseen_pairs=unseen,
        seen_p50_ms=statistics.median(seen_ms) if seen_ms else 0.0,
        seen_p99_ms=percentile(seen_ms, 99),
        seen_max_ms=max(seen_ms, default=0.0),
        boards_received=sum(len(stream.versions) for stream in streams),
        healthz_before=before,
        healthz_after=after,
    )


def describe(result: LiveResult) -> str:
    return (
        f"{result.clients} streams, {result.marks} marks at {result.rate:g}/s: "
        f"mark p50 {result.mark_p50_ms:,.0f} ms, p99 {result.mark_p99_ms:,.0f} ms, "
        f"max {result.mark_max_ms:,.0f} ms (statuses {result.mark_statuses}); "
        f"seen by every stream: p50 {result.seen_p50_ms:,.0f} ms, "
        f"p99 {result.seen_p99_ms:,.0f} ms, max {result.seen_max_ms:,.0f} ms "
        f"over {result.seen_pairs:,} (mark, stream) pairs, {result.unseen_pairs} unseen; "
        f"{result.boards_received:,} boards received; stream errors {result.stream_errors}\n"
        f"/healthz on the same server: {result.healthz_rps:,.0f} req/s "
        f"({result.healthz_before.requests_per_s:,.0f} before, "
        f"{result.healthz_after.requests_per_s:,.0f} after), "
        f"p99 {result.healthz_p99_ms:,.1f} ms under wrk; "
        f"ratios: mark p99 / healthz p99 = {result.mark_p99_ms / result.healthz_p99_ms:.2f}, "
        f"marks/s / healthz req/s = {100 * result.rate / result.healthz_rps:.2f} % "
        f"-> {result.verdict} (p99 <= {MARK_P99_MS:g} ms, seen <= {SEEN_WITHIN_S:g} s, "
        "0 errors)"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, help="open streams")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="marks per second")
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds")
    add_server_arguments(parser, healthz_duration_s=5.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = WrkOptions(duration_s=args.healthz_duration)
    started_at = datetime.now(UTC)
    load_at_start = os.getloadavg()
    try:
        result = measure(
            args.clients, args.rate, args.duration, args.workers, args.database_url, wrk
        )
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    print(describe(result), flush=True)
    if not args.no_save:
        path = save_run(
            "board-live",
            started_at,
            load_at_start,
            args.database_url,
            args.workers,
            {"result": result.to_json()},
        )
        print(f"\nsaved {path}")
    return 0 if result.verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
