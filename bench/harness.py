"""Benchmark harness: a throwaway database, the production server, wrk, and a verdict.

One scenario run goes like this:

1. ``prepared_database``: a temporary data folder and database (SQLite in that folder, or
   the PostgreSQL database named by ``BENCH_DATABASE_URL``, whose tables are dropped
   first), migrated with ``rencontres db upgrade``, then filled by the scenario's seeding
   callback.
2. ``running_server``: ``rencontres serve`` as a subprocess in its own process group on a
   free loopback port, ready once ``/healthz`` answers; the whole group is terminated at
   the end.
3. ``run_wrk``: wrk against one path with ``bench/report.lua`` (optionally after a custom
   request-building Lua script), whose ``done()`` prints one JSON line that is parsed here.
4. ``measure_scenario``: ``/healthz`` before, the target, ``/healthz`` after, on the same
   server. The machine is shared and noisy, so the judged figure is the ratio of the
   target's throughput to the mean ``/healthz`` throughput of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
REPORT_LUA = BENCH_DIR / "report.lua"
LUA_DIR = BENCH_DIR / "lua"  # request-building scripts for POST scenarios
RESULTS_DIR = BENCH_DIR / "results"
HEALTHZ_PATH = "/healthz"
LOOPBACK = "127.0.0.1"
# Sent instead of "127.0.0.1:<port>": Litestar's allowed-hosts check matches the whole Host
# header, port included, against host names, so the app refuses "127.0.0.1:<port>" with a
# 400 (a bug in the app's configuration, see docs/performance.md). Either form reaches the
# same handlers; the bare host keeps the benchmark valid before and after the fix.
HOST_HEADER = LOOPBACK
REPORT_PREFIX = "BENCH_JSON "

DEFAULT_CONNECTIONS = 64
DEFAULT_THREADS = 2
DEFAULT_DURATION_S = 10.0
DEFAULT_WORKERS = 2
DEFAULT_WARMUP_S = 2.0
DEFAULT_TIMEOUT_S = 5.0

#: A seeding callback: receives the migrated database's URL, fills it, and may return
#: arguments for the scenario's wrk Lua script (they arrive in its ``init(args)``).
Seed = Callable[[str], Sequence[str] | None]
#: A preparing callback: receives the started server's base URL (e.g. to fill each worker's
#: caches one request at a time, or to read an ETag) and may return more Lua arguments,
#: which follow the seeding callback's.
Prepare = Callable[[str], Sequence[str] | None]
#: A checking callback: receives the database's URL once the load is over, checks what the
#: requests left there (no double counts...) and returns a line saying so; a broken
#: invariant raises :class:`BenchError`, which fails the run whatever its speed.
Verify = Callable[[str], str]


class BenchError(RuntimeError):
    """The benchmark could not run (server did not start, wrk failed, bad script...)."""


# -- options and results -------------------------------------------------------------------
@dataclass(frozen=True)
class WrkOptions:
    """Load shape for one wrk run."""

    connections: int = DEFAULT_CONNECTIONS
    threads: int = DEFAULT_THREADS
    duration_s: float = DEFAULT_DURATION_S
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.threads < 1 or self.connections < self.threads:
            raise ValueError("need at least one thread and at least one connection per thread")
        if self.duration_s <= 0:
            raise ValueError("duration must be positive")


@dataclass(frozen=True)
class BenchOptions:
    """Everything a run needs besides the scenarios themselves."""

    wrk: WrkOptions = field(default_factory=WrkOptions)
    workers: int = DEFAULT_WORKERS
    warmup_s: float = DEFAULT_WARMUP_S
    database_url: str | None = None  # None: BENCH_DATABASE_URL, else a temporary SQLite file


@dataclass(frozen=True)
class Latency:
    """Latency distribution in milliseconds."""

    mean: float
    p50: float
    p90: float
    p99: float
    max: float


@dataclass(frozen=True)
class WrkErrors:
    """wrk's error counters: HTTP status >= 400, and socket errors."""

    status: int
    connect: int
    read: int
    write: int
    timeout: int

    @property
    def total(self) -> int:
        return self.status + self.connect + self.read + self.write + self.timeout


@dataclass(frozen=True)
class WrkResult:
    """What ``bench/report.lua`` printed for one wrk run."""

    requests: int
    duration_s: float
    requests_per_s: float
    bytes: int
    latency_ms: Latency
    errors: WrkErrors

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> WrkResult:
        return cls(
            requests=int(report["requests"]),
            duration_s=float(report["duration_s"]),
            requests_per_s=float(report["requests_per_s"]),
            bytes=int(report["bytes"]),
            latency_ms=Latency(**{k: float(v) for k, v in report["latency_ms"].items()}),
            errors=WrkErrors(**{k: int(v) for k, v in report["errors"].items()}),
        )


@dataclass(frozen=True)
class Threshold:
    """The bar a scenario must clear: a share of the same run's ``/healthz`` throughput.

    A run with any error (HTTP status >= 400 or socket error) fails whatever its speed.
    """

    min_ratio_pct: float
    max_p99_ms: float | None = None
    #: A different bar on PostgreSQL (None: the same), e.g. writes to one hot row.
    postgres_min_ratio_pct: float | None = None
    postgres_max_p99_ms: float | None = None

    def min_ratio_for(self, backend: str) -> float:
        if backend == "postgresql" and self.postgres_min_ratio_pct is not None:
            return self.postgres_min_ratio_pct
        return self.min_ratio_pct

    def max_p99_for(self, backend: str) -> float | None:
        if backend == "postgresql" and self.postgres_max_p99_ms is not None:
            return self.postgres_max_p99_ms
        return self.max_p99_ms

    def describe(self, backend: str | None = None) -> str:
        p99_bar = self.max_p99_for(backend or "sqlite")
        p99 = f", p99 <= {p99_bar:g} ms" if p99_bar is not None else ""
        if backend is None and self.postgres_max_p99_ms is not None:
            p99 += f" (PG {self.postgres_max_p99_ms:g} ms)"
        if backend is None and self.postgres_min_ratio_pct is not None:
            return f">= {self.min_ratio_pct:g} % (PG {self.postgres_min_ratio_pct:g} %){p99}"
        return f">= {self.min_ratio_for(backend or 'sqlite'):g} %{p99}"

    def passed(
        self, ratio_pct: float, errors: int, p99_ms: float | None = None, backend: str = "sqlite"
    ) -> bool:
        bar = self.max_p99_for(backend)
        fast_enough = bar is None or (p99_ms is not None and p99_ms <= bar)
        return errors == 0 and ratio_pct >= self.min_ratio_for(backend) and fast_enough


@dataclass(frozen=True)
class Scenario:
    """One thing to measure: a path, how to seed the database, and the bar to clear.

    ``script`` is an optional wrk Lua script that builds the requests (method, body,
    headers, a different URL per request...); it must not define ``done()``, which
    ``bench/report.lua`` provides. ``headers`` are extra ``"Name: value"`` request headers
    (wrk ``-H``, also sent by the preflight). ``expect_status`` is checked with one GET
    before the load starts (``None`` skips that check, e.g. for POST scenarios).
    ``prepare`` runs after that check, before any load (see :data:`Prepare`). ``warm_up``
    runs the target briefly before measuring; switch it off when the requests use up
    seeded data (places, tickets). ``connections`` replaces the run's connection count for
    the target (not for ``/healthz``): heavy responses (a 10,000-event feed) need only a
    few connections to saturate the server, and 64 would queue past wrk's timeout.
    ``verify`` checks the database after the load (see :data:`Verify`).
    """

    name: str
    path: str
    description: str
    seed: Seed | None = None
    script: Path | None = None
    threshold: Threshold | None = None
    expect_status: int | None = 200
    warm_up: bool = True
    headers: tuple[str, ...] = ()
    prepare: Prepare | None = None
    connections: int | None = None
    verify: Verify | None = None


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario's target run and the two ``/healthz`` runs around it."""

    scenario: str
    path: str
    target: WrkResult
    healthz_before: WrkResult
    healthz_after: WrkResult
    threshold: Threshold | None
    worker_restarts: int = 0  # workers that died and were replaced while measuring
    backend: str = "sqlite"  # or "postgresql": some thresholds differ
    #: Mails queued but not yet rendered when the load stopped, and how long the server
    #: took to render them (before the second ``/healthz`` run, which they would slow).
    mails_waiting: int = 0
    mails_rendered_after_s: float = 0.0

    @property
    def healthz_rps(self) -> float:
        return (self.healthz_before.requests_per_s + self.healthz_after.requests_per_s) / 2

    @property
    def ratio_pct(self) -> float:
        if self.healthz_rps <= 0:
            return 0.0
        return 100 * self.target.requests_per_s / self.healthz_rps

    @property
    def verdict(self) -> str:
        """``PASS``/``FAIL`` against the threshold, ``-`` when there is none."""
        if self.threshold is None:
            return "-"
        passed = self.threshold.passed(
            self.ratio_pct, self.target.errors.total, self.target.latency_ms.p99, self.backend
        )
        return "PASS" if passed else "FAIL"

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "path": self.path,
            "target": asdict(self.target),
            "healthz_before": asdict(self.healthz_before),
            "healthz_after": asdict(self.healthz_after),
            "healthz_requests_per_s": round(self.healthz_rps, 3),
            "mails_waiting": self.mails_waiting,
            "mails_rendered_after_s": round(self.mails_rendered_after_s, 3),
            "ratio_pct": round(self.ratio_pct, 3),
            "threshold": None if self.threshold is None else asdict(self.threshold),
            "verdict": self.verdict,
            "worker_restarts": self.worker_restarts,
            "backend": self.backend,
        }


# -- database ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PreparedDatabase:
    """A migrated, seeded database and the temporary data folder that goes with it."""

    url: str
    data_dir: Path
    secret_key: str
    script_args: tuple[str, ...] = ()


def backend_of(database_url: str) -> str:
    """``"postgresql"`` or ``"sqlite"``, from a database URL."""
    return "postgresql" if database_url.startswith(("postgresql", "postgres")) else "sqlite"


def rencontres_executable() -> Path:
    """The ``rencontres`` command of the virtualenv running this harness."""
    candidate = Path(sys.executable).parent / "rencontres"
    if candidate.exists():
        return candidate
    found = shutil.which("rencontres")
    if found is None:
        raise BenchError("`rencontres` not found: run the harness with the project's .venv")
    return Path(found)


def app_environment(database_url: str, data_dir: Path, secret_key: str) -> dict[str, str]:
    """Environment for the app's commands: this database and data folder, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BASE_URL"}}
    env.update(DATA_DIR=str(data_dir), DATABASE_URL=database_url, SECRET_KEY=secret_key)
    env.pop("DEBUG", None)  # debug turns the access log on, which costs throughput
    return env


def reset_postgres(url: str) -> None:
    """Drop the app's tables from a PostgreSQL benchmark database so migrations start clean."""
    from sqlalchemy import text

    from events.database import Database
    from events.models import Base

    database = Database.from_url(url)
    try:
        Base.metadata.drop_all(database.engine)
        with database.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        database.dispose()


def wait_for_mails(url: str, timeout_s: float = 300.0) -> tuple[int, float]:
    """Wait until the server has rendered every queued mail: (how many were waiting, how
    long it took). The inline mail worker gives way to requests (web/foreground.py), so a
    burst of registrations leaves its confirmations to be rendered after it; measuring
    ``/healthz`` meanwhile would count that work against ``/healthz``."""
    from sqlalchemy import func, select

    from events.database import Database
    from events.models import OutboxMessage, OutboxStatus

    unrendered = select(func.count()).where(
        OutboxMessage.render_spec.is_not(None), OutboxMessage.status == OutboxStatus.PENDING
    )
    database = Database.from_url(url)
    try:

        def count() -> int:
            with database.session() as session:
                return int(session.scalar(unrendered) or 0)

        started = time.monotonic()
        waiting = remaining = count()
        while remaining and time.monotonic() - started < timeout_s:
            time.sleep(0.1)
            remaining = count()
    finally:
        database.dispose()
    if remaining:
        print(f"   warning: {remaining} mails unrendered after {timeout_s:g} s", file=sys.stderr)
    return waiting, time.monotonic() - started if waiting else 0.0


def migrate(database_url: str, data_dir: Path, secret_key: str) -> None:
    """Run ``rencontres db upgrade`` exactly as an operator would."""
    completed = subprocess.run(
        [str(rencontres_executable()), "db", "upgrade"],
        env=app_environment(database_url, data_dir, secret_key),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"migration failed:\n{completed.stdout}{completed.stderr}")


@contextmanager
def prepared_database(
    seed: Seed | None = None, database_url: str | None = None
) -> Iterator[PreparedDatabase]:
    """A temporary data folder plus a migrated database, seeded by ``seed`` if given.

    The database is ``database_url``, else ``$BENCH_DATABASE_URL``, else a SQLite file in
    the temporary folder. A PostgreSQL database has the app's tables dropped first, so
    point ``BENCH_DATABASE_URL`` only at a database kept for benchmarks.
    """
    with tempfile.TemporaryDirectory(prefix="rencontres-bench-") as tmp:
        data_dir = Path(tmp)
        url = (
            database_url
            or os.environ.get("BENCH_DATABASE_URL")
            or f"sqlite:///{data_dir / 'bench.db'}"
        )
        if url.startswith(("postgresql", "postgres")):
            reset_postgres(url)
        secret_key = secrets.token_urlsafe(32)
        migrate(url, data_dir, secret_key)
        script_args = tuple(seed(url) or ()) if seed is not None else ()
        yield PreparedDatabase(url, data_dir, secret_key, script_args)


# -- server --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunningServer:
    """A started ``rencontres serve`` and where to reach it."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def header_dict(lines: Sequence[str]) -> dict[str, str]:
    """``"Name: value"`` lines as a dict, with the benchmark's ``Host`` header."""
    headers = {"Host": HOST_HEADER}
    for line in lines:
        name, _sep, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return headers


def http_status(url: str, timeout_s: float = 2.0, headers: Sequence[str] = ()) -> int | None:
    """The status of a GET (plain, or with ``headers``), or ``None`` if nothing answered."""
    request = urllib.request.Request(url, headers=header_dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return None


def server_log(server: RunningServer) -> str:
    """Everything the server (supervisor and workers) has logged so far."""
    if not server.log_path.exists():
        return ""
    return server.log_path.read_text(errors="replace")


def log_tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_healthy(server: RunningServer, timeout_s: float) -> None:
    """Poll ``/healthz`` until it answers 200; fail early if the server process died."""
    deadline = time.monotonic() + timeout_s
    status = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"server exited at start:\n{log_tail(server.log_path)}")
        status = http_status(server.url(HEALTHZ_PATH), timeout_s=1.0)
        if status == 200:
            return
        time.sleep(0.1)
    raise BenchError(
        f"/healthz not 200 after {timeout_s:g} s (last status: {status}):\n"
        f"{log_tail(server.log_path)}"
    )


def wait_until_idle(
    server: RunningServer, quiet_ms: float = 50.0, needed: int = 3, timeout_s: float = 120.0
) -> None:
    """Wait until ``/healthz`` answers ``needed`` times in a row within ``quiet_ms``.

    Handlers that run in the thread pool go on after wrk has closed their connections; a
    heavy target (a 10,000-event feed) leaves seconds of such work behind, which would be
    measured as a slow ``/healthz``.
    """
    deadline = time.monotonic() + timeout_s
    streak = 0
    while streak < needed and time.monotonic() < deadline:
        started = time.monotonic()
        status = http_status(server.url(HEALTHZ_PATH), timeout_s=10.0)
        quick = status == 200 and (time.monotonic() - started) * 1000 <= quiet_ms
        streak = streak + 1 if quick else 0
        if not quick:
            time.sleep(0.2)
    if streak < needed:
        print(f"   warning: server still busy after {timeout_s:g} s", file=sys.stderr, flush=True)


# gunicorn's arbiter (web/serving.py): a worker killed by a signal, exited, or hung.
_WORKER_DIED = re.compile(r"Worker \(pid:\d+\) (?:was sent|exited)|WORKER TIMEOUT")
_WORKER_STARTED = re.compile(r"Started server process \[(\d+)\]")


def child_pids(pid: int) -> set[int]:
    """The live direct children of process ``pid`` (Linux ``/proc``)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 1 and int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def wait_for_workers(server: RunningServer, workers: int, timeout_s: float = 120.0) -> None:
    """Wait until ``workers`` live worker processes have started serving.

    ``/healthz`` answers as soon as one worker is up; measuring before the others serve
    would measure fewer workers than asked for.
    """
    if workers < 2:
        return  # a single worker is the server process itself, already answering
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        started = {int(pid) for pid in _WORKER_STARTED.findall(server_log(server))}
        if len(started & child_pids(server.process.pid)) >= workers:
            return
        time.sleep(0.5)
    print(
        f"   warning: fewer than {workers} workers serving after {timeout_s:g} s",
        file=sys.stderr,
        flush=True,
    )


def worker_restarts(server: RunningServer) -> int:
    """How many workers died and were replaced so far (gunicorn's arbiter logs each)."""
    return len(_WORKER_DIED.findall(server_log(server)))


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group; ``False`` if the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _group_alive(pgid: int) -> bool:
    return _signal_group(pgid, 0)  # signal 0 only checks that the group exists


def stop_process_group(process: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    """SIGTERM the server's whole process group (supervisor and workers), then SIGKILL."""
    pgid = process.pid  # the server was started in a new session: its pid is the group id
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_alive(pgid):
        _signal_group(pgid, signal.SIGKILL)
    process.wait()


@contextmanager
def running_server(
    database: PreparedDatabase, workers: int = DEFAULT_WORKERS, startup_timeout_s: float = 30.0
) -> Iterator[RunningServer]:
    """``rencontres serve`` on a free loopback port with ``workers`` processes."""
    port = free_port()
    base_url = f"http://{LOOPBACK}:{port}"
    env = app_environment(database.url, database.data_dir, database.secret_key)
    env.update(BASE_URL=base_url, HOST=LOOPBACK, PORT=str(port), WORKERS=str(workers))
    log_path = database.data_dir / "server.log"
    command = [str(rencontres_executable()), "serve", "--host", LOOPBACK, "--port", str(port)]
    command += ["--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = RunningServer(base_url, process, log_path)
        try:
            wait_until_healthy(server, startup_timeout_s)
            wait_for_workers(server, workers)
            yield server
        finally:
            stop_process_group(process)


# -- wrk -----------------------------------------------------------------------------------
_DEFINES_DONE = re.compile(r"^\s*function\s+done\s*\(", re.MULTILINE)


@contextmanager
def wrk_script(custom: Path | None) -> Iterator[Path]:
    """``report.lua`` alone, or a temporary file with ``custom`` followed by it."""
    if custom is None:
        yield REPORT_LUA
        return
    source = custom.read_text()
    if _DEFINES_DONE.search(source):
        raise BenchError(f"{custom} defines done(); bench/report.lua provides it")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as combined:
        combined.write(f"{source}\n-- bench/report.lua follows\n{REPORT_LUA.read_text()}")
        combined.flush()
        yield Path(combined.name)


def parse_wrk_report(stdout: str) -> WrkResult:
    """The ``BENCH_JSON`` line printed by ``report.lua``'s ``done()``."""
    for line in stdout.splitlines():
        if line.startswith(REPORT_PREFIX):
            return WrkResult.from_report(json.loads(line[len(REPORT_PREFIX) :]))
    raise BenchError(f"wrk printed no {REPORT_PREFIX.strip()} line:\n{stdout}")


def wrk_command(
    url: str,
    options: WrkOptions,
    script: Path,
    args: Sequence[str],
    headers: Sequence[str] = (),
) -> list[str]:
    command = ["wrk", "-t", str(options.threads), "-c", str(options.connections)]
    command += ["-d", f"{options.duration_s:g}s", "--timeout", f"{options.timeout_s:g}s"]
    command += ["-H", f"Host: {HOST_HEADER}"]
    for header in headers:
        command += ["-H", header]
    command += ["-s", str(script), url]
    return [*command, "--", *args] if args else command


def run_wrk(
    url: str,
    options: WrkOptions,
    script: Path | None = None,
    script_args: Sequence[str] = (),
    headers: Sequence[str] = (),
) -> WrkResult:
    """Load ``url`` with wrk and return the parsed report."""
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (Debian: apt-get install wrk)")
    with wrk_script(script) as lua:
        completed = subprocess.run(
            wrk_command(url, options, lua, script_args, headers),
            capture_output=True,
            text=True,
            timeout=options.duration_s + options.timeout_s + 60,
            check=False,
        )
    if completed.returncode != 0:
        raise BenchError(f"wrk failed ({completed.returncode}):\n{completed.stderr}")
    return parse_wrk_report(completed.stdout)


# -- a scenario, end to end ----------------------------------------------------------------
def preflight(server: RunningServer, scenario: Scenario) -> None:
    """One plain GET, so a wrong path or a refused Host fails loudly, not as 100 % errors."""
    if scenario.expect_status is None:
        return
    # Generous: the first request of a cached feed may render 10,000 events.
    status = http_status(server.url(scenario.path), timeout_s=60.0, headers=scenario.headers)
    if status != scenario.expect_status:
        raise BenchError(
            f"{scenario.name}: GET {scenario.path} answered {status}, "
            f"expected {scenario.expect_status}:\n{log_tail(server.log_path)}"
        )


def load_target(
    server: RunningServer, scenario: Scenario, script_args: Sequence[str], options: WrkOptions
) -> WrkResult:
    url = server.url(scenario.path)
    if scenario.connections is not None:
        threads = min(options.threads, scenario.connections)
        options = replace(options, connections=scenario.connections, threads=threads)
    return run_wrk(url, options, scenario.script, script_args, scenario.headers)


def measure_on_server(
    server: RunningServer, scenario: Scenario, database: PreparedDatabase, options: BenchOptions
) -> ScenarioResult:
    """Preparation, warm-up, then ``/healthz``, the target, ``/healthz`` again, on one server."""
    restarts_before = worker_restarts(server)
    script_args = list(database.script_args)
    if scenario.prepare is not None:
        script_args += scenario.prepare(server.base_url) or ()
    if scenario.warm_up and options.warmup_s > 0:
        warmup = WrkOptions(
            connections=options.wrk.connections,
            threads=options.wrk.threads,
            duration_s=options.warmup_s,
            timeout_s=options.wrk.timeout_s,
        )
        load_target(server, scenario, script_args, warmup)
        wait_for_mails(database.url)
    healthz = server.url(HEALTHZ_PATH)
    wait_until_idle(server)
    before = run_wrk(healthz, options.wrk)
    target = load_target(server, scenario, script_args, options.wrk)
    mails_waiting, mails_after_s = wait_for_mails(database.url)
    if mails_waiting:
        print(
            f"   {mails_waiting:,} mails waited to be rendered when the load stopped: "
            f"all rendered {mails_after_s:.1f} s later",
            file=sys.stderr,
            flush=True,
        )
    wait_until_idle(server)
    after = run_wrk(healthz, options.wrk)
    return ScenarioResult(
        scenario.name,
        scenario.path,
        target,
        before,
        after,
        scenario.threshold,
        worker_restarts(server) - restarts_before,
        backend_of(database.url),
        mails_waiting,
        mails_after_s,
    )


def measure_scenario(scenario: Scenario, options: BenchOptions) -> ScenarioResult:
    """Fresh database, fresh server, measurements, clean stop, then the checks."""
    with prepared_database(scenario.seed, options.database_url) as database:
        with running_server(database, options.workers) as server:
            preflight(server, scenario)
            result = measure_on_server(server, scenario, database, options)
            if result.target.errors.status:
                print(f"   server log:\n{log_tail(server.log_path)}", file=sys.stderr, flush=True)
        if scenario.verify is not None:  # the server is stopped: every write is in
            print(f"   {scenario.verify(database.url)}", file=sys.stderr, flush=True)
        return result


# -- reporting -----------------------------------------------------------------------------
TABLE_COLUMNS = (
    ("scenario", "<"),
    ("req/s", ">"),
    ("p50 ms", ">"),
    ("p99 ms", ">"),
    ("errors", ">"),
    ("healthz req/s", ">"),
    ("ratio", ">"),
    ("threshold", "<"),
    ("verdict", "<"),
)


def table_row(result: ScenarioResult) -> tuple[str, ...]:
    target = result.target
    return (
        result.scenario,
        f"{target.requests_per_s:,.0f}",
        f"{target.latency_ms.p50:.1f}",
        f"{target.latency_ms.p99:.1f}",
        f"{target.errors.total:,}",
        f"{result.healthz_rps:,.0f}",
        f"{result.ratio_pct:.1f} %",
        "-" if result.threshold is None else result.threshold.describe(result.backend),
        result.verdict,
    )


def format_table(results: Sequence[ScenarioResult]) -> str:
    """A plain-text table, one row per scenario."""
    rows = [tuple(name for name, _ in TABLE_COLUMNS), *(table_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    aligns = [align for _, align in TABLE_COLUMNS]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            f"{cell:{align}{width}}"
            for cell, align, width in zip(cells, aligns, widths, strict=True)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def wrk_version() -> str:
    completed = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    lines = (completed.stdout or completed.stderr).splitlines()
    return lines[0] if lines else ""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine_facts() -> dict[str, Any]:
    """What the figures were measured on (they only compare within one machine and run)."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "wrk": wrk_version(),
        "load_average_at_end": os.getloadavg(),
    }


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed, fit for a results file."""
    return re.sub(r"//[^@/]*@", "//", url)


def write_results(
    results: Sequence[ScenarioResult],
    options: BenchOptions,
    started_at: datetime,
    load_at_start: tuple[float, float, float] | None = None,
    directory: Path = RESULTS_DIR,
) -> Path:
    """Save a run as ``bench/results/<UTC timestamp>.json`` and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
    database = options.database_url or os.environ.get("BENCH_DATABASE_URL") or "sqlite (temporary)"
    payload = {
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": {**machine_facts(), "load_average_at_start": load_at_start},
        "options": {**asdict(options), "database_url": without_credentials(database)},
        "results": [result.to_json() for result in results],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def save_run(
    kind: str,
    started_at: datetime,
    load_at_start: tuple[float, float, float],
    database_url: str | None,
    workers: int,
    results: dict[str, Any],
) -> Path:
    """Save a stand-alone benchmark's run as ``bench/results/<kind>-<UTC timestamp>.json``
    (with the machine facts) and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{kind}-{started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
    database = database_url or os.environ.get("BENCH_DATABASE_URL") or "sqlite (temp)"
    payload = {
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": {**machine_facts(), "load_average_at_start": load_at_start},
        "database_url": without_credentials(database),
        "workers": workers,
        **results,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def add_server_arguments(parser: argparse.ArgumentParser, healthz_duration_s: float) -> None:
    """The options every stand-alone benchmark shares: server processes, the ``/healthz``
    run's length, the database, and whether to save the results."""
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="server processes")
    parser.add_argument(
        "--healthz-duration", type=float, default=healthz_duration_s, help="wrk seconds"
    )
    parser.add_argument(
        "--database-url", default=None, help="default: $BENCH_DATABASE_URL, else temp SQLite"
    )
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
