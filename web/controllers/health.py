"""Liveness and readiness probes."""

from __future__ import annotations

import anyio.to_thread
from litestar import MediaType, Request, Response, get
from sqlalchemy import text

from events.database import Database
from web.auth import Access, access


@get("/healthz", media_type=MediaType.TEXT, opt=access(Access.PUBLIC), include_in_schema=False)
async def healthz() -> str:
    """Liveness: answers without touching anything (also the benchmarks' yardstick)."""
    return "ok"


@get("/readyz", media_type=MediaType.TEXT, opt=access(Access.PUBLIC), include_in_schema=False)
async def readyz(request: Request) -> Response[str]:
    """Readiness: the database answers a trivial query."""
    db: Database = request.app.state.db

    def ping() -> None:
        with db.session() as session:
            session.execute(text("SELECT 1"))

    try:
        await anyio.to_thread.run_sync(ping)
    except Exception:  # any failure means "not ready"; the reason goes to the log only
        return Response("database unavailable", status_code=503, headers={"Retry-After": "30"})
    return Response("ok")
