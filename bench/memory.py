"""Memory of the production server: two workers at rest and after a benchmark load.

Usage (from the repository root)::

    .venv/bin/python bench/memory.py                  # 1,000 events, 5 s per load
    .venv/bin/python bench/memory.py --duration 10 --breakdown

What is measured: every process of the server's session (``rencontres serve`` is started
in a new session by bench/harness.py: gunicorn's master and its workers), each read from
``/proc/<pid>/smaps_rollup``:

- **PSS** (proportional set size): each page divided by the number of processes sharing it.
  The workers fork from a master that already built the app (web/serving.py,
  ``preload_app``), so most of the imported code is one set of pages shared by all three
  processes; summing RSS counts those pages three times. **The judged figure is the PSS
  total**: what the server as a whole takes from the machine.
- RSS (resident set size) summed, printed beside it as the upper bound an RSS-based tool
  (``ps``, ``top``) would add up to;
- USS (private clean + private dirty): what killing that one process would give back.

The load is the benchmark suite's scenarios (bench/scenarios.py) run one after the other on
*one* server and database, the way a node lives: the event page, the home page, the
1,000-event feed (identity, gzip, 304), the JSON API (200 and 304), registrations on the
event page's event and door check-ins. Each reading follows :data:`SETTLE_S` of quiet
(the workers give freed heap pages back every 5 s). Bars (issue 20, item 4): at rest
<= 250 MiB, after the load <= 350 MiB. The exit status is 1 when either is passed.

``--breakdown`` adds what one freshly built app holds, by package (tracemalloc, while
importing ``web.serving`` and building the app as the master does), and every in-process
cache with its bound (web/caches.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from harness import (
    DEFAULT_WORKERS,
    HEALTHZ_PATH,
    REPO_ROOT,
    BenchOptions,
    PreparedDatabase,
    RunningServer,
    Scenario,
    WrkOptions,
    http_status,
    measure_on_server,
    prepared_database,
    running_server,
    save_run,
    wait_until_idle,
)
from scenarios import (
    EVENT_PAGE_SLUG,
    SCENARIOS,
    csrf_token_of,
    seed_door_event,
    seed_events,
)

MIB = 1024 * 1024
#: Seconds of quiet before each reading: one period of the workers' heap trimming
#: (web/serving.py, ``MALLOC_TRIM_SECONDS``) and a second more.
SETTLE_S = 6.0
REST_LIMIT_MIB = 250
LOADED_LIMIT_MIB = 350
#: Door tickets seeded: enough distinct ones for a short scan run (the suite's 12,000 take
#: minutes to seed; a repeated ticket is refused, which costs no more memory).
DOOR_TICKETS = 3_000
#: The suite's scenarios run as the load, in this order (names from bench/scenarios.py).
LOAD = (
    "event-page",
    "home-page",
    "feed-1000",
    "feed-1000-gzip",
    "feed-1000-304",
    "api-events-100",
    "api-events-304",
    "register",
    "door-scan",
)


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    name: str
    rss: int  # bytes
    pss: int
    uss: int


def session_pids(session_id: int) -> list[int]:
    """Every live process whose session is ``session_id`` (the server and its workers)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid pgrp session ...": comm may hold spaces.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 3 and int(fields[3]) == session_id:
            pids.append(int(stat.parent.name))
    return sorted(pids)


def process_memory(pid: int) -> ProcessMemory:
    """One process's RSS, PSS and USS from ``/proc/<pid>/smaps_rollup`` (kB there)."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _sep, rest = line.partition(":")
        values[key] = int(rest.split()[0]) * 1024
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    return ProcessMemory(
        pid=pid,
        name=cmdline[-60:],
        rss=values["Rss"],
        pss=values["Pss"],
        uss=values["Private_Clean"] + values["Private_Dirty"],
    )


def server_memory(server: RunningServer) -> list[ProcessMemory]:
    return [process_memory(pid) for pid in session_pids(server.process.pid)]


def describe(label: str, processes: Sequence[ProcessMemory], limit_mib: float) -> bool:
    pss = sum(p.pss for p in processes) / MIB
    rss = sum(p.rss for p in processes) / MIB
    uss = sum(p.uss for p in processes) / MIB
    verdict = "PASS" if pss <= limit_mib else "FAIL"
    print(f"{label}: PSS total {pss:.1f} MiB (limit {limit_mib} MiB: {verdict}); ", end="")
    print(f"RSS summed {rss:.1f} MiB; USS summed {uss:.1f} MiB")
    for p in processes:
        print(
            f"   pid {p.pid:>7}  PSS {p.pss / MIB:6.1f}  RSS {p.rss / MIB:6.1f}  "
            f"USS {p.uss / MIB:6.1f} MiB  {p.name}"
        )
    return verdict == "PASS"


def seed_load(tickets: int) -> Sequence[str]:
    """The 1,000 events of the public-page scenarios and the door event, in one database.
    Returns the door scenario's Lua argument (its file of ticket codes)."""

    def seed(database_url: str) -> Sequence[str]:
        seed_events(database_url)
        return seed_door_event(tickets)(database_url) or ()

    return seed  # type: ignore[return-value]


def load_scenarios() -> dict[str, Scenario]:
    """The suite's scenarios, registration aimed at the event page's event (100 places,
    then its waitlist) since both seeds cannot share one database's organiser."""
    scenarios = {name: SCENARIOS[name] for name in LOAD if name in SCENARIOS}
    scenarios["register"] = replace(
        SCENARIOS["register-hot"],
        name="register",
        path=f"/e/{EVENT_PAGE_SLUG}/register",
        prepare=csrf_token_of(f"/e/{EVENT_PAGE_SLUG}"),
    )
    return scenarios


def run_load(server: RunningServer, database: PreparedDatabase, options: BenchOptions) -> list[str]:
    """Each load scenario in turn on the running server; one summary line each."""
    lines = []
    door_args = database.script_args
    for name, scenario in load_scenarios().items():
        args = door_args if name == "door-scan" else ()
        result = measure_on_server(server, scenario, replace(database, script_args=args), options)
        line = (
            f"   {name:16} {result.target.requests_per_s:8,.0f} req/s  "
            f"{result.target.errors.total:,} errors"
        )
        print(line, file=sys.stderr, flush=True)
        lines.append(line.strip())
    return lines


BREAKDOWN = """
import sys, tracemalloc
tracemalloc.start()
import web.serving
app = web.serving.create_serving_app()
by_package = {}
for stat in tracemalloc.take_snapshot().statistics("filename"):
    name = stat.traceback[0].filename
    if "site-packages/" in name:
        key = name.split("site-packages/")[1].split("/")[0]
    elif "<frozen" in name:
        key = "(code objects of imported modules)"
    elif "/lib/python3" in name:
        key = "(standard library)"
    elif "/" in name:
        key = name.rsplit("/", 2)[-2] + "/"
    else:
        key = name
    by_package[key] = by_package.get(key, 0) + stat.size
print(f"traced after building the app: {sum(by_package.values()) / 2**20:.1f} MiB,"
      f" {len(sys.modules)} modules")
for key, size in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
    print(f"   {size / 2**20:6.2f} MiB  {key}")
from web.caches import CACHES
print("in-process caches (per worker) and their bounds:")
for cache in CACHES:
    print(f"   {cache.name:34} {cache.bound}")
"""


def breakdown(database: PreparedDatabase) -> None:
    """What one freshly built app holds, by package, and the caches' bounds."""
    env = {**os.environ, "DATABASE_URL": database.url, "DATA_DIR": str(database.data_dir)}
    env["SECRET_KEY"] = database.secret_key
    completed = subprocess.run(
        [sys.executable, "-c", BREAKDOWN],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    print(completed.stdout + completed.stderr[-2000:])


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="server processes")
    parser.add_argument("--duration", type=float, default=5.0, help="wrk seconds per load")
    parser.add_argument("--tickets", type=int, default=DOOR_TICKETS, help="door tickets seeded")
    parser.add_argument(
        "--database-url", default=None, help="default: $BENCH_DATABASE_URL, else temp SQLite"
    )
    parser.add_argument("--breakdown", action="store_true", help="imports and caches too")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    options = BenchOptions(
        wrk=WrkOptions(duration_s=args.duration),
        workers=args.workers,
        warmup_s=1.0,
        database_url=args.database_url,
    )
    started_at, load_at_start = datetime.now(UTC), os.getloadavg()
    with prepared_database(seed_load(args.tickets), args.database_url) as database:
        with running_server(database, args.workers) as server:
            for _ in range(5):
                http_status(server.url(HEALTHZ_PATH))
            time.sleep(SETTLE_S)
            at_rest = server_memory(server)
            loads = run_load(server, database, options)
            wait_until_idle(server)
            time.sleep(SETTLE_S)
            loaded = server_memory(server)
        print(f"{args.workers} workers, {len(at_rest)} processes (master included)")
        rest_ok = describe("at rest", at_rest, REST_LIMIT_MIB)
        loaded_ok = describe("after the load", loaded, LOADED_LIMIT_MIB)
        if args.breakdown:
            breakdown(database)
    if not args.no_save:
        figures = {
            name: [vars(p) for p in processes]
            for name, processes in (("at_rest", at_rest), ("after_load", loaded))
        }
        path = save_run(
            "memory",
            started_at,
            load_at_start,
            args.database_url,
            args.workers,
            {"memory_bytes": figures, "load": loads},
        )
        print(f"saved {path}")
    return 0 if rest_ok and loaded_ok else 1


if __name__ == "__main__":
    sys.exit(main())
