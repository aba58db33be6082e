"""End-to-end fixtures: a real server process and Debian's headless Chromium.

The tests run when /usr/bin/chromium exists. In CI (``CI`` set) a missing Chromium is a
failure, not a skip: ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from events.database import Database
from events.models import Base
from tests.conftest import TEST_DATABASE_URL, copy_sqlite, empty_tables, worker_database_url

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]

#: How long a test server may take to answer /healthz. A crashed server fails at once (its
#: exit is noticed); this only bounds a slow start, which took over 30 s on a machine
#: running two suites at once (the server imports the whole app before it listens).
SERVER_START_SECONDS = 120


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run must install Debian's chromium")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """What a test sees of the server it runs against."""

    url: str
    data_dir: Path
    database_url: str
    log_path: Path
    log_start: int  # where this test's part of the server's log begins

    def log_of_this_test(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self.log_start)
            return log.read().decode(errors="replace")


RENCONTRES = [sys.executable, "-m", "web.cli"]
SECRET_KEY = "browser-test-" + "k" * 40


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated by ``rencontres db upgrade``, once per test process
    (a process that imports the app: seconds on a busy machine)."""
    folder = tmp_path_factory.mktemp("migrated")
    template = folder / "template.db"
    env = {
        **os.environ,
        "DATA_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{template}",
        "SECRET_KEY": SECRET_KEY,
    }
    subprocess.run(
        [*RENCONTRES, "db", "upgrade"], env=env, check=True, cwd=ROOT, capture_output=True
    )
    return template


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the arbiter's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(log_path.read_text()) from None
            time.sleep(0.05)


class _Server:
    """One ``rencontres serve`` (its arbiter and one worker) that the tests of a process
    share, each test on a fresh worker over an emptied database.

    Starting a server (a process that imports and builds the whole app, then forks its
    worker) took 20-37 s of a browser test on the loaded CI machine, for ~45 tests. What
    a test must not inherit from the one before lives in the worker (caches, the content
    version it last read, sessions in flight, rate-limit counters) and in the database;
    the arbiter holds the app as built, before any request. So between two tests the
    arbiter is paused, its worker killed, the tables emptied, and the arbiter resumed: it
    forks a new worker from the app as built (web/serving.py), in about a second. Nothing
    runs on the database while it is emptied, and no request of the last test can finish
    after it."""

    def __init__(self, folder: Path, env: dict[str, str], database_url: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = folder
        self.database_url = database_url
        self.log_path = folder / "server.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [*RENCONTRES, "serve", "--port", str(self.port), "--workers", "1"],
            env={
                **env,
                "DATA_DIR": str(folder),
                "DATABASE_URL": database_url,
                "BASE_URL": self.url,
                "SECRET_KEY": SECRET_KEY,
                "LOGIN_RATE_LIMIT": "1000",
            },
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        _wait_until_answering(self.url, self.process, self.log_path)

    def alive(self) -> bool:
        return self.process.poll() is None

    def start_afresh(self) -> None:
        """A new worker on emptied tables (see the class)."""
        master = self.process.pid
        os.kill(master, signal.SIGSTOP)  # no new worker until the tables are empty
        try:
            for worker in _children(master):
                os.kill(worker, signal.SIGKILL)
            database = Database.from_url(self.database_url)
            try:
                empty_tables(database)
            finally:
                database.dispose()
        finally:
            os.kill(master, signal.SIGCONT)  # reaps the worker and forks a new one
        _wait_until_answering(self.url, self.process, self.log_path)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def _environment_key() -> tuple[tuple[str, str], ...]:
    """What makes two servers differ: the environment they start with (a test may set a
    variable the server reads, as test_import_status.py does), but for pytest's own
    per-test variable."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"))


@pytest.fixture(scope="session")
def _browser_postgres() -> str:
    """On PostgreSQL, the servers' database: one of their own, so that the other tests of
    the process, which empty theirs, never do it under a server's worker."""
    url = worker_database_url(TEST_DATABASE_URL, "browser")
    database = Database.from_url(url)
    try:
        Base.metadata.drop_all(database.engine)
        Base.metadata.create_all(database.engine)
    finally:
        database.dispose()
    return url


@pytest.fixture(scope="session")
def _servers() -> Iterator[dict[tuple[tuple[str, str], ...], _Server]]:
    servers: dict[tuple[tuple[str, str], ...], _Server] = {}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def live_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _servers: dict[tuple[tuple[str, str], ...], _Server],
    postgres_url: str,
) -> LiveServer:
    """``rencontres serve`` on a free port, on an empty database: this process's server
    for the current environment, on a fresh worker (:class:`_Server`). On PostgreSQL
    (``postgres_url`` set) the server has a database of its own."""
    key = _environment_key()
    server = _servers.get(key)
    if server is not None and server.alive():
        server.start_afresh()
    else:
        folder = tmp_path_factory.mktemp("server")
        if postgres_url:
            url = request.getfixturevalue("_browser_postgres")
        else:
            path = folder / "test.db"
            copy_sqlite(request.getfixturevalue("migrated_sqlite"), path)
            url = f"sqlite:///{path}"
        if server is not None:
            server.stop()
        server = _servers[key] = _Server(folder, dict(os.environ), url)
    return LiveServer(
        url=server.url,
        data_dir=server.data_dir,
        database_url=server.database_url,
        log_path=server.log_path,
        log_start=server.log_path.stat().st_size,
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _is_real_error(message) -> bool:
    # A form answered 400/403/409/429 is expected behaviour; a missing asset (404) is not.
    expected = re.search(r"status of (400|403|409|429)\b", message.text)
    return message.type == "error" and not expected


#: A phone, as the issues' walkthroughs used one: 390 px wide, touch.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _checked_page(browser, live_server: LiveServer, tmp_path: Path, **options):
    """A page in a fresh context that fails the test on a console error."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if _is_real_error(msg) else None)
    yield page
    if errors:
        (tmp_path / "server-at-failure.log").write_text(live_server.log_of_this_test())
    context.close()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def page(browser, live_server: LiveServer, tmp_path: Path):
    yield from _checked_page(browser, live_server, tmp_path)


@pytest.fixture
def phone(browser, live_server: LiveServer, tmp_path: Path):
    """Like ``page``, on a 390-px touch screen."""
    yield from _checked_page(browser, live_server, tmp_path, **PHONE)
