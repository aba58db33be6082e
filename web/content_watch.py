"""The shared content version as this process last read it, for the hottest read paths.

Reading the version costs a database round trip and a worker thread; calendar clients and
feed readers poll the same URLs all day, and the public pages are read far more often than
they change (on PostgreSQL the round trip was half of a cached event page's time). So the
version is re-read at most every ``max_age`` seconds, and at once after this process
commits a change of its own (events/content_version.py counts them). Another process's
change is therefore seen within ``max_age`` seconds, well inside the feeds'
``Cache-Control: max-age=300``.
"""

from __future__ import annotations

import time

import anyio.to_thread

from events.content_version import current_version, local_commits
from events.database import Database

DEFAULT_MAX_AGE = 1.0


class ContentWatch:
    def __init__(self, db: Database, *, max_age: float = DEFAULT_MAX_AGE) -> None:
        self._db = db
        self._max_age = max_age
        self._value = ""
        self._read_at = float("-inf")
        self._commits_seen = -1

    def forget(self) -> None:
        """Read the version again at the next request (web/app.py, a new start)."""
        self._read_at, self._commits_seen = float("-inf"), -1

    def _fresh(self) -> bool:
        return (
            self._commits_seen == local_commits.count
            and time.monotonic() - self._read_at < self._max_age
        )

    def _read(self) -> str:
        commits, started = local_commits.count, time.monotonic()
        with self._db.session() as session:
            value = current_version(session)
        # Recorded as of before the read: a commit racing with it triggers another read.
        self._value, self._read_at, self._commits_seen = value, started, commits
        return value

    async def current(self) -> str:
        """The version, from memory when fresh; otherwise read in a worker thread."""
        if self._fresh():
            return self._value
        return await anyio.to_thread.run_sync(self._read)

    def current_in_thread(self) -> str:
        """:meth:`current` for a handler already running in a worker thread."""
        return self._value if self._fresh() else self._read()
