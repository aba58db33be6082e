"""Heavy work inside a request, outside the write lock (events/work_limits.py says why).

A handler that decodes, parses or renders something big is an ``async`` handler that
takes no write session: neither ``db_session`` nor a dependency built on it such as
``membership`` (a POST's session holds the process's write gate from its first line,
web/db.py). It does the heavy part first, then writes what it prepared::

    prepared = await run_heavy(encode_cover, content)         # a CPU slot, a worker thread
    result = await run_write(request, lambda session: ...)    # web/db.py: short, gated

Waiting for a slot happens on the event loop, so a queue of uploads holds no thread; a
caller that gets no slot within the limiter's ``wait`` gets :class:`events.errors.Busy`,
answered 503 with ``Retry-After`` and "busy, try again" (web/errors.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from events import work_limits
from events.errors import Busy
from events.work_limits import WorkLimiter

T = TypeVar("T")
#: How often a waiting request looks for a free slot (seconds).
POLL_SECONDS = 0.05


async def run_heavy(
    function: Callable[..., T], *args: Any, limiter: WorkLimiter | None = None
) -> T:
    """``function(*args)`` in a worker thread, holding a slot of ``limiter`` (the
    process's CPU slots by default) from start to end, even if the client goes away."""
    limiter = limiter or work_limits.CPU_WORK
    give_up_at = anyio.current_time() + limiter.wait
    while not limiter.try_acquire():
        if anyio.current_time() >= give_up_at:
            raise Busy(limiter.name, retry_after=max(int(limiter.wait), 1))
        await anyio.sleep(POLL_SECONDS)
    try:
        # Not cancellable: the slot is given back when the work has really stopped.
        return await anyio.to_thread.run_sync(partial(function, *args))
    finally:
        limiter.release()
