"""End-to-end fixtures: a real server process and Debian's headless Chromium.

The tests run when /usr/bin/chromium exists. In CI (``CI`` set) a missing Chromium is a
failure, not a skip: ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import copy_sqlite

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
    url: str
    data_dir: Path
    database_url: str


RENCONTRES = [sys.executable, "-m", "web.cli"]
SECRET_KEY = "browser-test-" + "k" * 40


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated by ``rencontres db upgrade``, once per test process.

    Each test starts from a copy: the migrations are the same for every test, and running
    them (a process that imports the app) cost each browser test seconds on a busy machine.
    """
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


@pytest.fixture
def live_server(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> Iterator[LiveServer]:
    """``rencontres serve`` on a free port, on this test's fresh database."""
    port = _free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "SECRET_KEY": SECRET_KEY,
        "LOGIN_RATE_LIMIT": "1000",
    }
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        assert not path.exists(), "the test's database must start empty"
        copy_sqlite(request.getfixturevalue("migrated_sqlite"), path)
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [*RENCONTRES, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError((tmp_path / "server.log").read_text()) from None
            time.sleep(0.2)
    yield LiveServer(url=url, data_dir=tmp_path, database_url=database_url)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


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
        shutil.copy(tmp_path / "server.log", tmp_path / "server-at-failure.log")
    context.close()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def page(browser, live_server: LiveServer, tmp_path: Path):
    yield from _checked_page(browser, live_server, tmp_path)


@pytest.fixture
def phone(browser, live_server: LiveServer, tmp_path: Path):
    """Like ``page``, on a 390-px touch screen."""
    yield from _checked_page(browser, live_server, tmp_path, **PHONE)
