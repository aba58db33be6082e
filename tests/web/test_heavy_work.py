"""One organiser's heavy upload never holds the write lock, so it cannot stall another
community's door (web/heavy_work.py, events/work_limits.py).

Over real HTTP (uvicorn in a thread, one browser per person): an organiser of "theirs"
uploads covers, or calendar files, while the door of "ours" scans a ticket. The decoding
(or parsing) is made slow on purpose (a hook that waits until the scan has been
answered), and as many uploads run at once as the write gate admits writers (one on
SQLite, a few on PostgreSQL), the worst case for the lock. The scan must be answered
while every decoding is still waiting: the write lock is not held during a decode. The
negative control runs the same decodes holding the write gate, as the cover upload did
before, and the scan then waits for them (each hook gives up waiting after a few
seconds, so the control ends).

Plus: a full CPU pool answers "busy, try again" (503 with Retry-After) and saves nothing;
an uploaded calendar's write is a handful of statements whatever its size.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import anyio.from_thread
import httpx
import pytest
from litestar import Litestar
from PIL import Image
from sqlalchemy import func, select

from events import work_limits
from events.database import Database
from events.models import Event, EventCover, ExternalCalendar
from events.services import cover_images, external_calendars
from events.work_limits import WorkLimiter
from tests.domain.test_cover_images import RED, image_bytes
from tests.factories import Factories
from tests.sql_statements import counting_statements
from tests.web.live_server import live_server, visitor
from tests.web.test_cover_images import make_event
from tests.web.test_door import Side, make_side
from web.write_gate import WriteGate

#: How long a slow decode waits for the scan: a safety net in the real test, the time
#: the control's scan is held up (it must give up for the control to end).
PATIENCE_S = 60.0
CONTROL_PATIENCE_S = 3.0
#: The calendar below has its events in 2035: imported as if it were late 2034.
IMPORTED_AT = datetime(2034, 12, 1, 12, tzinfo=UTC)


@dataclass
class SlowDecodes:
    """A decode hook that waits until the scan was answered, and says if it saw that."""

    expected: int
    patience: float
    #: The control: hold the app's write gate during the decode, as uploads used to.
    gate: WriteGate | None = None
    scanned: threading.Event = field(default_factory=threading.Event)
    all_started: threading.Event = field(default_factory=threading.Event)
    saw_scan: list[bool] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _started: int = 0

    def wrap(self, decode: Callable[..., Any]) -> Callable[..., Any]:
        def slow_decode(*args: Any, **kwargs: Any) -> Any:
            if self.gate is None:
                return self._wait_then(decode, *args, **kwargs)
            anyio.from_thread.run(self.gate.__aenter__)
            try:
                return self._wait_then(decode, *args, **kwargs)
            finally:
                anyio.from_thread.run(self.gate.__aexit__, None, None, None)

        return slow_decode

    def _wait_then(self, decode: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._started += 1
            if self._started == self.expected:
                self.all_started.set()
        answered = self.scanned.wait(self.patience)
        with self._lock:
            self.saw_scan.append(answered)
        return decode(*args, **kwargs)


@pytest.fixture
def ours(make: Factories, db: Database) -> Side:
    return make_side(make, db, "ours", "Pitch night")


@pytest.fixture
def theirs(make: Factories, db: Database) -> tuple[Any, str]:
    owner = make.user(email="owner@theirs.example")
    make.community(owner=owner, slug="theirs")
    return owner, make_event(db, community="theirs")


@pytest.fixture
def served(app: Litestar) -> Iterator[str]:
    with live_server(app) as base_url:
        yield base_url


def upload_cover(client: httpx.Client, slug: str, data: bytes) -> httpx.Response:
    return client.post(
        f"/manage/theirs/events/{slug}/cover",
        files={"cover_image": ("cover.png", data, "image/png")},
    )


def upload_calendar(client: httpx.Client, data: bytes) -> httpx.Response:
    return client.post(
        "/manage/theirs/imports/upload",
        files={"file": ("partner.ics", data, "text/calendar")},
    )


def scan(client: httpx.Client, side: Side) -> httpx.Response:
    return client.post(
        f"/door/{side.event.slug}/scan",
        json={"scanned": side.bob.ticket_code, "nonce": "heavy-work-scan-0001"},
        headers={"accept": "application/json"},
    )


#: What each kind of upload sends, where its heavy step is, and what it leaves behind.
UPLOADS = ["cover", "calendar"]


@pytest.fixture
def scan_during_slow_uploads(
    app: Litestar,
    served: str,
    db: Database,
    ours: Side,
    theirs: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[SlowDecodes, httpx.Response, list[httpx.Response]]]:
    """Run the scenario with ``kind`` uploads; ``under_lock`` makes the decodes hold the
    write gate."""
    monkeypatch.setattr("web.controllers.manage_imports.utcnow", lambda: IMPORTED_AT)

    def run(
        kind: str, *, under_lock: bool
    ) -> tuple[SlowDecodes, httpx.Response, list[httpx.Response]]:
        gate: WriteGate = app.state.write_gate
        hook = SlowDecodes(
            expected=gate.limit,
            patience=CONTROL_PATIENCE_S if under_lock else PATIENCE_S,
            gate=gate if under_lock else None,
        )
        # As many decodes at once as the gate admits writers: with the lock held during
        # decoding, they would fill it.
        limiter = WorkLimiter("cpu", slots=gate.limit, wait=PATIENCE_S)
        monkeypatch.setattr(work_limits, "CPU_WORK", limiter)
        owner, event_slug = theirs
        if kind == "cover":
            slow = hook.wrap(cover_images.decode_upload)
            monkeypatch.setattr(cover_images, "decode_upload", slow)
            picture = image_bytes(Image.new("RGB", (800, 450), RED), "PNG")
            send = partial(upload_cover, slug=event_slug, data=picture)
        else:
            slow = hook.wrap(external_calendars.parse_calendar)
            monkeypatch.setattr(external_calendars, "parse_calendar", slow)
            send = partial(upload_calendar, data=calendar_of(20))
        organisers = [visitor(served, db, owner) for _ in range(gate.limit)]
        door = visitor(served, db, ours.door)
        uploads: list[httpx.Response] = []

        def run_upload(client: httpx.Client) -> None:
            uploads.append(send(client))

        threads = [threading.Thread(target=run_upload, args=(c,)) for c in organisers]
        for thread in threads:
            thread.start()
        try:
            assert hook.all_started.wait(PATIENCE_S), "the uploads never started decoding"
            answer = scan(door, ours)
        finally:
            hook.scanned.set()
            for thread in threads:
                thread.join(PATIENCE_S)
            for client in [*organisers, door]:
                client.close()
        return hook, answer, uploads

    return run


def stored(db: Database, kind: str) -> int:
    """Covers stored, or calendar files imported (same name: one, updated each time)."""
    model = EventCover if kind == "cover" else ExternalCalendar
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("kind", UPLOADS)
def test_a_slow_upload_does_not_hold_up_another_communitys_door(
    scan_during_slow_uploads: Any, db: Database, kind: str
) -> None:
    hook, answer, uploads = scan_during_slow_uploads(kind, under_lock=False)
    assert answer.status_code == 200 and answer.json()["verdict"] == "admitted"
    # Every decode was still waiting when the scan was answered.
    assert hook.saw_scan == [True] * hook.expected
    assert [response.status_code for response in uploads] == [303] * hook.expected
    assert stored(db, kind) == 1


@pytest.mark.parametrize("kind", UPLOADS)
def test_negative_control_a_decode_under_the_write_lock_holds_up_the_door(
    scan_during_slow_uploads: Any, db: Database, kind: str
) -> None:
    hook, answer, uploads = scan_during_slow_uploads(kind, under_lock=True)
    # While every decode held the gate, the scan could not be answered: the first decode
    # to finish waiting gave up. Once it let go of its slot the scan got through, so on
    # PostgreSQL (several slots) decodes that started later may then see it answered.
    assert len(hook.saw_scan) == hook.expected
    assert hook.saw_scan[0] is False
    assert answer.status_code == 200 and answer.json()["verdict"] == "admitted"
    assert [response.status_code for response in uploads] == [303] * hook.expected
    assert stored(db, kind) == 1


# -- a full pool -----------------------------------------------------------------------------


def test_a_full_cpu_pool_answers_busy_and_saves_nothing(
    served: str,
    db: Database,
    theirs: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limiter = WorkLimiter("cpu", slots=1, wait=0.2)
    monkeypatch.setattr(work_limits, "CPU_WORK", limiter)
    owner, event_slug = theirs
    picture = image_bytes(Image.new("RGB", (800, 450), RED), "PNG")
    limiter.acquire()  # someone else's upload is being decoded
    try:
        with closing(visitor(served, db, owner)) as organiser:
            refused = upload_cover(organiser, event_slug, picture)
            calendar = upload_calendar(organiser, calendar_of(1))
    finally:
        limiter.release()
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "busy with other uploads" in refused.text and "try again" in refused.text
    assert calendar.status_code == 503 and "busy with other uploads" in calendar.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(EventCover)) == 0
    assert limiter.in_use == 0
    with closing(visitor(served, db, owner)) as organiser:  # once the slot is free, it works
        assert upload_cover(organiser, event_slug, picture).status_code == 303


# -- the write of a big import is short --------------------------------------------------------


def calendar_of(count: int) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for n in range(count):
        day = 1 + n % 28
        lines += [
            "BEGIN:VEVENT",
            f"UID:big-{n}@partner.example",
            f"DTSTART:20350{1 + n // 28 % 9}{day:02d}T180000Z",
            f"SUMMARY:Evening {n}",
            f"DESCRIPTION:Details on https://partner.example/{n} *soon*",
            "END:VEVENT",
        ]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


@pytest.mark.parametrize("count", [20, 250])
def test_an_uploaded_calendars_write_is_a_few_statements_whatever_its_size(
    served: str,
    db: Database,
    theirs: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
    count: int,
) -> None:
    owner, _slug = theirs
    monkeypatch.setattr("web.controllers.manage_imports.utcnow", lambda: IMPORTED_AT)
    writes: list[list[str]] = []
    original = WriteGate.run_sync

    async def counted(gate: WriteGate, function: Callable[[], Any]) -> Any:
        with counting_statements(db) as statements:
            result = await original(gate, function)
        writes.append(statements)
        return result

    monkeypatch.setattr(WriteGate, "run_sync", counted)
    with closing(visitor(served, db, owner)) as organiser:
        response = upload_calendar(organiser, calendar_of(count))
    assert response.status_code == 303
    with db.session() as session:
        imported = session.scalar(
            select(func.count()).select_from(Event).where(Event.external_uid.is_not(None))
        )
    assert imported == count
    (write,) = [w for w in writes if any("INSERT INTO event " in s for s in w)]
    # Begin, community, source lookup and insert, existing events, slugs, the events'
    # one INSERT, the count, the content stamp, commit: not one statement per event.
    assert len(write) <= 14, write
