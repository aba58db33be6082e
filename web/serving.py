"""``rencontres serve``: gunicorn's arbiter supervising uvicorn workers that fork from a
master holding the app, with the garbage collector tuned for serving.

Why gunicorn's arbiter and not uvicorn's own supervisor (docs/performance.md): uvicorn's
supervisor pings its workers one after the other and waits up to its health-check timeout
for each answer (60 s here, since a worker *starting* on a loaded machine needs seconds
before it can answer); a worker that dies while being pinged is noticed only when that
wait ends, and its replacement then spawns a fresh interpreter that imports everything
again. Measured on this 2-core machine: every worker killed while the supervisor waited
for it, the node answered again after 68 and 77 s; killed at once without that wait, 9 to
13 s (the replacements' imports). Gunicorn's arbiter learns of a dead worker from SIGCHLD
at once and forks the replacement from a master that already built the app
(``preload_app``): answered again within about a second. A worker that hangs instead of
dying is killed after :data:`HUNG_WORKER_TIMEOUT` without a heartbeat; the startup grace a
slow machine needs is spent once, in the master, before any worker exists.

CPython's default collector runs a young-generation pass every 700 container allocations
and now and then a full pass over every object alive, the app's own included (routes,
templates, mappers: tens of thousands that are never garbage). One door scan or
registration allocates thousands of short-lived objects, so the collector ran several
times per request, and a full pass paused the process for tens of milliseconds, often
while it held the database's write lock that the other processes queue on. Measured on
64 concurrent door scanners: 407-410 scans/s with p99 334-360 ms by default, 544-635
scans/s with p99 157-179 ms tuned (docs/performance.md).

Memory (issue 20 item 4, docs/performance.md "Memory"): what every worker needs is built
in the master before the fork, so its pages are shared; glibc's malloc arenas are limited to
:data:`MALLOC_ARENAS` before the fork, and each worker gives its heap's free pages back
every :data:`MALLOC_TRIM_SECONDS`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import time
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from litestar import Litestar

from events.database import Database
from web.app import create_app

#: Young objects between collections (default 700), then how many collections of one
#: generation before the next is collected (defaults 10 and 10).
GC_THRESHOLDS = (20_000, 20, 20)
#: Seconds without a heartbeat before the arbiter kills a worker whose event loop hangs
#: (a dead one is replaced at once).
HUNG_WORKER_TIMEOUT = 30
WORKER_CLASS = "uvicorn_worker.UvicornWorker"
#: glibc's malloc arenas per process (its default: 8 per core). Every thread of the pool
#: that runs the synchronous handlers gets an arena of its own, and freed memory stays in
#: each: after the benchmark load the two workers held 32 MiB more with the default than
#: with 2 (docs/performance.md, "Memory"), for no measurable difference in speed.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's <malloc.h>


#: Seconds between two ``malloc_trim`` calls in a worker (see :func:`start_malloc_trimming`).
MALLOC_TRIM_SECONDS = 5.0


def _glibc(function: str) -> Callable[..., int] | None:
    """A function of glibc, or ``None`` where the C library is another one."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        found: Callable[..., int] = getattr(ctypes.CDLL(name), function)
    except (OSError, AttributeError):
        return None
    return found


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """``mallopt(M_ARENA_MAX, arenas)`` (what ``MALLOC_ARENA_MAX`` does), in the master
    before it forks: the workers inherit it. ``False`` where the C library is not glibc."""
    mallopt = _glibc("mallopt")
    return mallopt is not None and bool(mallopt(_M_ARENA_MAX, arenas))


def start_malloc_trimming(interval_s: float = MALLOC_TRIM_SECONDS) -> threading.Thread | None:
    """A daemon thread giving the C heap's free pages back to the system every
    ``interval_s`` (``malloc_trim(0)``; ctypes releases the GIL for the call, which takes
    well under a millisecond with two arenas). A burst of concurrent requests leaves the
    heap at its high-water mark otherwise: after the benchmark load the two workers held
    18 MiB less with it (docs/performance.md, "Memory"). ``None`` without glibc."""
    trim = _glibc("malloc_trim")
    if trim is None:
        return None

    def run() -> None:
        while True:
            time.sleep(interval_s)
            trim(0)

    thread = threading.Thread(target=run, name="malloc-trim", daemon=True)
    thread.start()
    return thread


def tune_gc_for_serving() -> None:
    """Freeze what exists now (it lives as long as the process) out of every future pass,
    and collect less often: short-lived request objects are freed by reference counting
    anyway; only cycles wait for the collector, and a few more of them is little memory."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_serving_app() -> Litestar:
    """The app as the master builds it before forking (its pages shared by the workers)."""
    limit_malloc_arenas()
    app = create_app()
    tune_gc_for_serving()
    return app


def _after_fork(arbiter: Any, _worker: Any) -> None:
    """A worker owns no connection of the master: the pools start empty in each worker
    (the master opens none, this makes sure of it). Each worker trims its own heap."""
    app: Litestar = arbiter.app.wsgi()
    database: Database = app.state["db"]
    database.engine.dispose(close=False)
    start_malloc_trimming()


class ServingApplication(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured in code: ``options`` are gunicorn settings."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Litestar:
        return create_serving_app()


def serve(
    *, host: str, port: int, workers: int, forwarded_allow_ips: str, access_log: bool
) -> None:
    """Run until SIGTERM or SIGINT (gunicorn stops the workers gracefully)."""
    ServingApplication(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": WORKER_CLASS,
            "preload_app": True,
            "post_fork": _after_fork,
            "timeout": HUNG_WORKER_TIMEOUT,
            "graceful_timeout": 20,
            "keepalive": 5,  # uvicorn's default keep-alive
            "forwarded_allow_ips": forwarded_allow_ips,
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "loglevel": "info",
            # No control socket: it lives in $HOME, shared by every server of the user.
            "control_socket_disable": True,
        }
    ).run()
