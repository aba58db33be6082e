"""The app as ``rencontres serve`` runs it in each worker process, with the garbage
collector tuned for serving.

CPython's default collector runs a young-generation pass every 700 container allocations
and now and then a full pass over every object alive, the app's own included (routes,
templates, mappers: tens of thousands that are never garbage). One door scan or
registration allocates thousands of short-lived objects, so the collector ran several
times per request, and a full pass paused the process for tens of milliseconds, often
while it held the database's write lock that the other processes queue on. Measured on
64 concurrent door scanners: 407-410 scans/s with p99 334-360 ms by default, 544-635
scans/s with p99 157-179 ms tuned (docs/performance.md).
"""

from __future__ import annotations

import gc

from litestar import Litestar

from web.app import create_app

#: Young objects between collections (default 700), then how many collections of one
#: generation before the next is collected (defaults 10 and 10).
GC_THRESHOLDS = (20_000, 20, 20)


def tune_gc_for_serving() -> None:
    """Freeze what exists now (it lives as long as the process) out of every future pass,
    and collect less often: short-lived request objects are freed by reference counting
    anyway; only cycles wait for the collector, and a few more of them is little memory."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_serving_app() -> Litestar:
    app = create_app()
    tune_gc_for_serving()
    return app
