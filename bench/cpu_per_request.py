"""CPU time one server process spends per request of a GET scenario, beside ``/healthz``.

Usage (from the repository root)::

    .venv/bin/python bench/cpu_per_request.py --scenario offers-board
    .venv/bin/python bench/cpu_per_request.py --scenario offers-board --requests 500 --rounds 5

What it is for, beside ``bench/run.py``: a page's cost in milliseconds of CPU, the unit a
budget is argued in ("5 % of ``/healthz`` is about 8 ms per page on two cores"). It runs
the scenario's seed and the production server with ONE worker, sends the scenario's GET
one request at a time over one kept-alive connection (no cookies, as wrk), and reads the
worker's CPU time from ``/proc`` around each series: the milliseconds of CPU per page,
then the same for ``/healthz``, in rounds that alternate the two. The machine's speed
moves these figures as much as it moves wrk's (a sixth between rounds, on this shared
machine), so compare trees by alternating them; and with one request at a time it does
not see what concurrency costs (the handler's thread and the event loop taking the GIL
from each other at every statement), which only ``bench/run.py`` measures.

It also sees what a sampling profiler with ``--gil`` does not: SQLite runs its statements
with the GIL released, so ``py-spy --gil`` leaves their time out, while the process's CPU
time counts it. (Seen on the offers board: the handler was a fifth of the GIL samples and
two thirds of the CPU.)

Only scenarios without a wrk script (plain GETs) can be measured this way.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

from harness import (
    HEALTHZ_PATH,
    BenchError,
    RunningServer,
    child_pids,
    header_dict,
    prepared_database,
    running_server,
)
from scenarios import SCENARIOS

WARM_UP_REQUESTS = 30
#: ``/healthz`` is this many times cheaper than a page: as many more requests of it.
HEALTHZ_FACTOR = 10


def worker_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def send(connection: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> int:
    """One GET; the size of the body. Anything but a 200 stops the measure."""
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise BenchError(f"GET {path}: {response.status} {body[:200]!r}")
    return len(body)


def cpu_ms_per_request(
    worker: int, connection: http.client.HTTPConnection, path: str, headers: dict[str, str], n: int
) -> float:
    before = worker_cpu_s(worker)
    for _ in range(n):
        send(connection, path, headers)
    return (worker_cpu_s(worker) - before) * 1000 / n


def the_worker(server: RunningServer) -> int:
    workers = child_pids(server.process.pid)
    if len(workers) != 1:
        raise BenchError(f"expected one worker process, found {sorted(workers)}")
    return next(iter(workers))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True, help="a GET scenario of bench/run.py")
    parser.add_argument("--requests", type=int, default=300, help="pages per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    scenario = SCENARIOS.get(args.scenario)
    if scenario is None or scenario.script is not None:
        print(f"{args.scenario}: not a plain GET scenario", file=sys.stderr)
        return 2
    with (
        prepared_database(scenario.seed, args.database_url) as database,
        running_server(database, workers=1) as server,
    ):
        worker = the_worker(server)
        address = urlsplit(server.base_url)
        connection = http.client.HTTPConnection(address.hostname or "", address.port)
        headers = header_dict(scenario.headers)
        for _ in range(WARM_UP_REQUESTS):
            size = send(connection, scenario.path, headers)
            send(connection, HEALTHZ_PATH, headers)
        print(f"-- {scenario.name}: {scenario.path} ({size:,} bytes), one worker")
        ratios = []
        for round_number in range(1, args.rounds + 1):
            started = time.perf_counter()
            page = cpu_ms_per_request(worker, connection, scenario.path, headers, args.requests)
            wall = (time.perf_counter() - started) * 1000 / args.requests
            healthz = cpu_ms_per_request(
                worker, connection, HEALTHZ_PATH, headers, args.requests * HEALTHZ_FACTOR
            )
            ratios.append(100 * healthz / page)
            print(
                f"   round {round_number}: {page:.2f} ms CPU per page ({wall:.2f} ms wall), "
                f"/healthz {healthz:.3f} ms, ratio {ratios[-1]:.2f} %"
            )
        ratios.sort()
        print(f"   median ratio {ratios[len(ratios) // 2]:.2f} %")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
