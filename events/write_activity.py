"""Whether this process is writing or answering now, so that its background work steps
aside.

A process's writes run one at a time on SQLite, holding the lock that every other
process's writers queue on (web/write_gate.py), and a few at a time on PostgreSQL, holding
the rows they lock. Each statement lets go of the interpreter's lock (the GIL) while the
database works, and a write must take it back afterwards: a thread running pure Python
meanwhile keeps it for up to the switch interval (5 ms). The inline mail worker
(events/jobs/worker.py) is such a thread: it renders mails in the same process. Measured
on ``register-hot`` (docs/performance.md), a write then held the database's lock longer
and every writer of every process waited for it: registrations ran a quarter slower than
with the mail worker off.

So the renderer steps aside before each mail: it waits until no write of its process is
under way, for at most :data:`MAX_STEP_ASIDE`, then lets go of the GIL once so that a write
that has just begun takes it first. Mails still render under a sustained load: in the gaps
between writes, and at least one every :data:`MAX_STEP_ASIDE` when the writes leave no gap
(on PostgreSQL a process runs several at once), so a rush delays its mails by seconds,
never indefinitely. A batch of writes on SQLite holds the lock for tens of milliseconds:
the renderer slips in a mail or two during it at most, where it used to render a whole
batch of a hundred mails.

Requests count too (web/foreground.py: from their arrival until their response starts):
rendering shares the process's CPU with them, and in a rush of registrations on 2 cores
the renderer took about a third of the rate the rush could reach. The confirmations of a
rush are committed with their registrations and rendered once it is over (or at the
floor rate above while it lasts).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: The longest a renderer waits for the writes of its process before each mail (seconds):
#: at least ~45 mails a second per process however busy its writers are.
MAX_STEP_ASIDE = 0.02


class WriteActivity:
    """How many writes of this process are under way (holding their database lock), and
    how many of its requests are waiting for their answer (web/foreground.py)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._writing = 0

    @property
    def busy(self) -> bool:
        return self._writing > 0

    def started(self) -> None:
        with self._changed:
            self._writing += 1

    def done(self) -> None:
        with self._changed:
            self._writing -= 1
            if self._writing == 0:
                self._changed.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        self.started()
        try:
            yield
        finally:
            self.done()

    def step_aside(self, timeout: float = MAX_STEP_ASIDE) -> None:
        """Return once no write or request of this process is under way, or after
        ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: self._writing == 0, timeout)
        # Let go of the GIL once: a write that started meanwhile takes it now, not after
        # the next mail's rendering.
        time.sleep(0)
