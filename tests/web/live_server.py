"""The app served over real HTTP by uvicorn in a thread of the test process, for tests
that need several visitors at once (each its own ``httpx.Client`` and cookies) while they
patch the app's internals (same process)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from litestar import Litestar

from events.database import Database
from events.models import User
from tests.web.conftest import login_session

STARTUP_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(app: Litestar) -> Iterator[str]:
    """Serve ``app`` on a free local port; yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=_free_port(), log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT_S)


CSRF_IN_PAGE = re.compile(r'name="csrf-token" content="([^"]+)"|name="_csrf_token" value="([^"]+)"')


def visitor(base_url: str, db: Database, user: User | None = None) -> httpx.Client:
    """A browser of its own: logged in as ``user`` (the session row written directly,
    skipping the deliberately slow password check), with its CSRF token as a header."""
    client = httpx.Client(base_url=base_url, timeout=120.0, follow_redirects=False)
    if user is not None:
        client.cookies.set("session", login_session(db, user))
    page = client.get("/privacy").text
    # The token the page carries, bound to this browser's session or visitor cookie
    # (web/csrf.py), sent back as htmx sends it.
    found = re.search(
        r'name="csrf-token" content="([^"]+)"|name="_csrf_token" value="([^"]+)"', page
    )
    assert found is not None, "the page carries no CSRF token"
    client.headers["x-csrftoken"] = found.group(1) or found.group(2)
    return client
