"""The open-space board's live views, the same on every process and machine.

Each view (projector, phone, public page, facilitators) keeps one server-sent-events stream
open. Nothing is shared between processes but the database: every process watches each
board its streams show through the board's change marker (``Board.version``, bumped in the
transaction of every change). The watch is shared by all the streams of a process:

- the marker is read at most every :data:`POLL_SECONDS` per board, by whichever stream asks
  first (one narrow query, however many streams are open);
- the board is read once per version (:func:`events.services.board_state.board_state`);
- each view's fragment is rendered once per version, clock state (the slot on now, the next
  one, the frozen ones) and language, and sent as is to every stream that shows it.

So a change committed on any process reaches every stream within about
:data:`POLL_SECONDS`, plus the time to render once. A stream holds no database connection
between its reads, and a stream's request uses no request session: :func:`board_to_stream`
checks access and finds the board in one thread hop with a session of its own. (With the
request's session, each open view held a pooled connection for the stream's life, and a
burst of views arriving at once left threads waiting for connections whose holders waited
for a thread: no view opened until the pool's timeout. bench/board_live.py found it with
200 phones; tests/integration/test_board_streams_http.py keeps it fixed.)

A stream sends the whole view each time (the latest one only: a slow client skips versions,
it never falls behind), so a client that reconnects after a lost connection catches up with
its first message.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field
from time import monotonic
from uuid import UUID

import anyio
import anyio.to_thread
from litestar.response import Stream
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.database import Database
from events.models import Board, Event
from events.services.board_state import BoardState, Moment, board_state, board_version

POLL_SECONDS = 0.5
#: Boards whose watch a process keeps (each holds a snapshot and rendered views). Past it
#: the least recently asked for is forgotten: a stream still showing it gets a fresh
#: watch on its next poll (one more read), so the bound costs nothing but memory.
MAX_WATCHED_BOARDS = 256
#: A stream ends after this long; the browser's EventSource reconnects by itself.
STREAM_SECONDS = 300.0
KEEPALIVE_SECONDS = 20.0
RETRY_MILLISECONDS = 2000
# A stream is never stored by a cache ("no-store" is for personal data: web/security.py).
LIVE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


@dataclass(frozen=True)
class BoardSnapshot:
    """A board read at one version, with what its pages say of the event."""

    state: BoardState
    event: Event


#: Renders one view of a snapshot at a moment, in a language: (snapshot, moment, locale).
Renderer = Callable[[BoardSnapshot, Moment, str], str]


@dataclass
class _Watched:
    version: int | None = None
    read_at: float = -math.inf
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    snapshot: BoardSnapshot | None = None
    snapshot_lock: anyio.Lock = field(default_factory=anyio.Lock)
    #: (view, locale) -> (version, moment, payload)
    rendered: dict[tuple[str, str], tuple[int, Moment, str]] = field(default_factory=dict)
    render_locks: dict[tuple[str, str], anyio.Lock] = field(default_factory=dict)


class BoardWatch:
    """One per process (``app.state.board_watch``)."""

    def __init__(self, db: Database, *, poll_seconds: float = POLL_SECONDS) -> None:
        self._db = db
        self._poll = poll_seconds
        self._boards: OrderedDict[UUID, _Watched] = OrderedDict()
        self._guard = threading.Lock()

    @property
    def poll_seconds(self) -> float:
        return self._poll

    def _watched(self, board_id: UUID) -> _Watched:
        with self._guard:
            watched = self._boards.get(board_id)
            if watched is None:
                watched = self._boards[board_id] = _Watched()
                while len(self._boards) > MAX_WATCHED_BOARDS:
                    self._boards.popitem(last=False)
            else:
                self._boards.move_to_end(board_id)
            return watched

    def __len__(self) -> int:
        return len(self._boards)

    def clear(self) -> None:
        """Forget every board (web/app.py, a new start: their locks belong to the old loop)."""
        with self._guard:
            self._boards.clear()

    async def version(self, board_id: UUID) -> int | None:
        """The board's marker, at most :data:`POLL_SECONDS` old (None: the board is gone)."""
        watched = self._watched(board_id)
        if monotonic() - watched.read_at < self._poll:
            return watched.version
        async with watched.lock:
            if monotonic() - watched.read_at >= self._poll:
                started = monotonic()
                watched.version = await anyio.to_thread.run_sync(self._read_version, board_id)
                watched.read_at = started
        return watched.version

    def _read_version(self, board_id: UUID) -> int | None:
        with self._db.session() as session:
            return board_version(session, board_id)

    async def snapshot(self, board_id: UUID, version: int) -> BoardSnapshot | None:
        """The board as of ``version`` or later, read once for all streams."""
        watched = self._watched(board_id)
        current = watched.snapshot
        if current is not None and current.state.version >= version:
            return current
        async with watched.snapshot_lock:
            current = watched.snapshot
            if current is None or current.state.version < version:
                current = await anyio.to_thread.run_sync(self._read_snapshot, board_id)
                watched.snapshot = current
        return current

    def _read_snapshot(self, board_id: UUID) -> BoardSnapshot | None:
        with self._db.session() as session:
            board = session.get(Board, board_id)
            if board is None:
                return None
            event = session.get(Event, board.event_id)
            assert event is not None
            state = board_state(session, board, hidden_too=True)
            session.expunge_all()  # plain values from here: kept beyond this session
            return BoardSnapshot(state=state, event=event)

    async def payload(
        self, snapshot: BoardSnapshot, moment: Moment, view: str, locale: str, render: Renderer
    ) -> str:
        """The view's SSE data for ``snapshot`` at ``moment``, rendered once per process."""
        watched = self._watched(snapshot.state.board_id)
        key = (view, locale)
        version = snapshot.state.version
        cached = watched.rendered.get(key)
        if cached is not None and cached[0] == version and cached[1] == moment:
            return cached[2]
        lock = watched.render_locks.setdefault(key, anyio.Lock())
        async with lock:
            cached = watched.rendered.get(key)
            if cached is None or cached[0] != version or cached[1] != moment:
                html = await anyio.to_thread.run_sync(render, snapshot, moment, locale)
                data = json.dumps({"v": version, "html": html}, separators=(",", ":"))
                cached = (version, moment, data)
                watched.rendered[key] = cached
        return cached[2]


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


async def board_stream(
    watch: BoardWatch,
    board_id: UUID,
    *,
    view: str,
    locale: str,
    render: Renderer,
    allowed: Callable[[BoardSnapshot], bool],
    streaming: bool = True,
    seconds: float = STREAM_SECONDS,
) -> AsyncIterator[bytes]:
    """The SSE stream of one view: the whole view at once, then again each time the board
    or the clock changes it. ``allowed`` says whether the stream may still show the board
    (the board switched off ends a participant's stream). Without ``streaming`` (a client
    that does not ask for ``text/event-stream``) one message, then the end."""
    yield f"retry: {RETRY_MILLISECONDS}\n\n".encode()
    seen: Hashable = None
    quiet_since, deadline = monotonic(), monotonic() + seconds
    while monotonic() < deadline:
        version = await watch.version(board_id)
        snapshot = await watch.snapshot(board_id, version) if version is not None else None
        if snapshot is None or not allowed(snapshot):
            yield _event("closed", "{}")
            return
        moment = snapshot.state.at(utcnow())
        if (snapshot.state.version, moment) != seen:
            seen = (snapshot.state.version, moment)
            yield _event("board", await watch.payload(snapshot, moment, view, locale, render))
            quiet_since = monotonic()
            if not streaming:
                return
        elif monotonic() - quiet_since > KEEPALIVE_SECONDS:
            quiet_since = monotonic()
            yield _event("ping", "{}")  # an event, not a comment: the page's watchdog sees it
        await anyio.sleep(watch.poll_seconds)


async def board_to_stream(db: Database, find: Callable[[Session], Board]) -> UUID:
    """The id of the board ``find`` returns (or raises for: access, not found), read in one
    thread hop with a session of its own, released before the stream starts."""

    def lookup() -> UUID:
        with db.session() as session:
            return find(session).id

    return await anyio.to_thread.run_sync(lookup)


def live_response(stream: AsyncIterator[bytes]) -> Stream:
    return Stream(stream, media_type="text/event-stream", headers=LIVE_HEADERS)
