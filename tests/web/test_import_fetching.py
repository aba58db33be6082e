"""A slow calendar host cannot hang the site (events/services/calendar_refresh.py).

Against a real local HTTP server whose answers wait until the test lets them go: the
organiser's request answers at once while the fetch hangs, public pages keep answering,
at most four fetches run at once and two per community (the others wait, queued, and
start as slots free), and a fetch past its deadline is abandoned with a clear status.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from events.database import Database
from events.models import ExternalCalendar
from events.services import calendar_refresh
from events.services.calendar_refresh import FetchSlots
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.local_http import LocalServer, QuietHandler
from tests.web.test_imports import settings  # noqa: F401  (the feeds are local: allowed)

CALENDAR = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//slow//EN\r\nEND:VCALENDAR\r\n"
#: A safety net for waiting on the background threads, never a measure of speed.
PATIENCE_S = 60.0


class SlowCalendarServer(LocalServer):
    """Every request waits until :meth:`release`; counts what is in flight, per community
    (the first path segment)."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()
        self.peak_total = 0
        self.peak_by_community: Counter[str] = Counter()
        self.served = 0
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                community = self.path.strip("/").split("/")[0]
                server.arrived(community)
                try:
                    server.released.wait(PATIENCE_S)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/calendar")
                    self.send_header("Content-Length", str(len(CALENDAR)))
                    self.end_headers()
                    self.wfile.write(CALENDAR)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: that is the point of some tests
                finally:
                    server.left(community)

        super().__init__(Handler)

    def arrived(self, community: str) -> None:
        with self.lock:
            self.in_flight[community] += 1
            self.peak_total = max(self.peak_total, sum(self.in_flight.values()))
            peak = max(self.peak_by_community[community], self.in_flight[community])
            self.peak_by_community[community] = peak

    def left(self, community: str) -> None:
        with self.lock:
            self.in_flight[community] -= 1
            self.served += 1

    def waiting(self) -> int:
        with self.lock:
            return sum(self.in_flight.values())

    def release(self) -> None:
        self.released.set()


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def slots(monkeypatch: pytest.MonkeyPatch) -> Iterator[FetchSlots]:
    """Fresh process slots (the usual caps) for this test; its fetches end with it."""
    fresh = FetchSlots(
        per_process=calendar_refresh.FETCHES_PER_PROCESS,
        per_community=calendar_refresh.FETCHES_PER_COMMUNITY,
    )
    monkeypatch.setattr(calendar_refresh, "PROCESS_SLOTS", fresh)
    yield fresh
    assert fresh.wait(PATIENCE_S), "a fetch outlived its test"


@pytest.fixture
def slow_server(slots: FetchSlots) -> Iterator[SlowCalendarServer]:
    server = SlowCalendarServer()
    server.start()
    yield server
    server.release()  # before the slots fixture waits for the fetches
    slots.wait(PATIENCE_S)
    server.stop()


@pytest.fixture
def organiser(client: Client, make: Factories, db: Database) -> Client:
    owner = make.user(email="owner@example.org")
    for slug in ("ours", "theirs"):
        make.community(owner=owner, slug=slug, name=f"Community {slug}")
    client.login_as(db, owner)
    return client


def statuses(db: Database) -> dict[str, str]:
    with db.session() as session:
        rows = session.execute(select(ExternalCalendar.url, ExternalCalendar.last_status))
        return {str(url): status for url, status in rows}


def subscribe(client: Client, community: str, url: str) -> Any:
    return client.submit(f"/manage/{community}/imports", {"url": url})


def test_subscribing_answers_at_once_and_pages_stay_up_while_the_host_hangs(
    organiser: Client, slow_server: SlowCalendarServer, slots: FetchSlots, db: Database
) -> None:
    url = slow_server.url("/ours/cafe.ics")
    response = subscribe(organiser, "ours", url)
    assert response.status_code == 303  # answered...
    wait_until(lambda: slow_server.waiting() == 1, "the fetch to reach the server")
    assert not slow_server.released.is_set()  # ...while the fetch still hangs there
    assert statuses(db) == {url: "fetching"}
    listing = organiser.get("/manage/ours/imports")
    assert listing.status_code == 200
    assert "Fetching…" in listing.text and "is being fetched" in listing.text
    assert 'class="import-check"' in listing.text  # the reload link, without htmx
    # Everybody else's pages answer meanwhile.
    for page in ("/", "/g/ours", "/g/theirs", "/feeds/all.ics"):
        assert organiser.get(page).status_code == 200, page
    assert slow_server.waiting() == 1 and slots.running == 1
    slow_server.release()
    assert slots.wait(PATIENCE_S)
    assert statuses(db) == {url: "ok"}
    assert "Imported." in organiser.get("/manage/ours/imports").text


def test_at_most_four_fetches_run_at_once_and_two_per_community(
    organiser: Client, slow_server: SlowCalendarServer, slots: FetchSlots, db: Database
) -> None:
    ours = [slow_server.url(f"/ours/{n}.ics") for n in range(6)]
    theirs = [slow_server.url(f"/theirs/{n}.ics") for n in range(3)]
    for url in ours:  # one community asks for many first...
        assert subscribe(organiser, "ours", url).status_code == 303
    for url in theirs:  # ...the other still gets its share
        assert subscribe(organiser, "theirs", url).status_code == 303
    wait_until(lambda: slow_server.waiting() == 4, "four fetches to reach the server")
    assert dict(slow_server.in_flight) == {"ours": 2, "theirs": 2}
    assert Counter(statuses(db).values()) == {"fetching": 4, "queued": 5}
    assert organiser.get("/g/ours").status_code == 200
    slow_server.release()
    assert slots.wait(PATIENCE_S)
    assert set(statuses(db).values()) == {"ok"}  # the queue drained by itself
    assert slow_server.served == 9
    assert slow_server.peak_total == 4
    assert slow_server.peak_by_community == {"ours": 2, "theirs": 2}


def test_a_fetch_past_its_deadline_is_abandoned_with_a_clear_status(
    organiser: Client,
    slow_server: SlowCalendarServer,
    slots: FetchSlots,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(calendar_refresh, "FETCH_DEADLINE", 1.0)
    url = slow_server.url("/ours/never.ics")
    assert subscribe(organiser, "ours", url).status_code == 303
    wait_until(lambda: statuses(db) == {url: "timeout"}, "the fetch to be abandoned")
    assert slow_server.waiting() == 1  # abandoned while the host still had not answered
    with db.session() as session:
        (source,) = session.scalars(select(ExternalCalendar))
        assert source.last_error == "abandoned after 1 s without a complete answer"
        assert source.event_count == 0
    page = organiser.get("/manage/ours/imports").text
    assert "The server did not answer in time" in page and "the fetch was abandoned" in page
    assert "abandoned after 1 s" in page
    assert "hx-trigger" not in page  # nothing pending any more: no polling
    # The thread keeps its slot until it has really stopped; its late answer is dropped.
    assert slots.running == 1
    slow_server.release()
    assert slots.wait(PATIENCE_S) and slots.running == 0
    assert statuses(db) == {url: "timeout"}
    # Refresh now queues it again.
    with db.session() as session:
        (source,) = session.scalars(select(ExternalCalendar))
    monkeypatch.setattr(calendar_refresh, "FETCH_DEADLINE", PATIENCE_S)
    assert organiser.submit(f"/manage/ours/imports/{source.id}/refresh").status_code == 303
    assert slots.wait(PATIENCE_S)
    assert statuses(db) == {url: "ok"}
