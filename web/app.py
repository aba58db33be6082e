"""The Litestar application factory: the only place where configuration meets code."""

from __future__ import annotations

import os
from pathlib import Path

import anyio.to_thread
from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXConfig, HTMXPlugin
from litestar.static_files import create_static_files_router

from events.database import Database
from events.reader_sessions import refuse_writes_in_readers_if_asked
from web.api_reference import LocalSwaggerUI
from web.auth import Access, access, check_access, provide_current_user
from web.board.live import BoardWatch
from web.compression import COMPRESSION
from web.content_watch import ContentWatch
from web.controllers import ROUTE_HANDLERS
from web.csrf import SESSION_COOKIE, SessionBoundCSRFMiddleware
from web.db import provide_db_session
from web.errors import EXCEPTION_HANDLERS
from web.foreground import CountingRequests
from web.mail import background_worker
from web.page_cache import PageCache
from web.rate_limit import rate_limit_config
from web.security import security_middleware_factory
from web.sessions import QuietSessionConfig
from web.settings import Settings
from web.store import DatabaseStore
from web.templating import template_config
from web.unsafe_switches import UnsafeSwitches
from web.whole_pages import WholePages
from web.write_batch import WriteBatcher
from web.write_gate import WriteGate

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# Paths that never need a session or a CSRF cookie (health checks, assets, API, feeds).
# No session and no CSRF cookie: health probes, assets, the API, and calendar/Atom feeds
# (public and cacheable by shared caches, fetched by clients that keep no cookies).
STATELESS_PATHS = [
    r"^/healthz$",
    r"^/readyz$",
    r"^/static/",
    r"^/api/",
    r"^/schema",
    r"^/feeds/",
    r"^/embed/",
    r"/feed\.(ics|atom)$",
    r"^/e/[^/]+\.ics$",
    # A community's open data: public and cacheable, no cookie.
    r"^/g/[^/]+/stats\.(csv|json)$",
    # Event cover images: cached publicly for a year, so no cookie may ride along.
    r"^/e/[^/]+/cover(-small)?\.jpg$",
    # One-click unsubscribe (RFC 8058): mail clients POST without cookies or a token.
    r"^/u/[^/]+/one-click$",
    r"^/offers/stop/[^/]+/one-click$",
]
API_DESCRIPTION = (
    "The public read API needs no token. The organiser API (/api/v1/manage/{community}) "
    "needs a personal access token with the scope each operation names. Errors are "
    "RFC 9457 problem details with a machine-readable code. Guide: docs/api.md."
)
THROTTLED_POSTS = frozenset({"/login", "/signup"})
MAX_BODY_BYTES = 1024 * 1024
CARD_CACHE_ENTRIES = 4096


def _start_afresh(app: Litestar) -> None:
    """Let go of what an earlier start of ``app`` held. Each start runs on an event loop of
    its own: a server starts its app once, the tests' client starts one shared app once per
    test (tests/web/conftest.py). The gate's semaphore and the batcher's queue belong to
    the loop that made them, and the kept pages and content version may describe a
    database emptied since."""
    state = app.state
    state.write_gate.restart()
    state.write_batcher.restart()
    state.content_watch.forget()
    state.board_watch.clear()
    for cache in (state.page_cache, state.card_cache, state.whole_pages):
        cache.clear()


def create_app(settings: Settings | None = None, database: Database | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    db = database or Database.from_url(settings.database_url)
    # Test-only (web/unsafe_switches.py): all off unless the test server's environment
    # sets them, and refused without RENCONTRES_TESTING=1.
    switches = UnsafeSwitches.from_env()
    switches.install(db)
    # The test suite's servers refuse any write in a reader session (events/reader_sessions.py).
    refuse_writes_in_readers_if_asked(os.environ)
    # The unsafe switch drops the gate's cross-process lock too: it is one of the locks
    # the negative control proves necessary.
    gate = WriteGate(
        serialise=db.is_sqlite,
        lock_file=None if switches.unsafe_no_lock else db.write_lock_file,
    )
    write_batcher = WriteBatcher(db, gate, group=not switches.unsafe_no_lock)
    # The inline mail worker renders between this process's writes and requests.
    worker = (
        background_worker(settings, db, step_aside=gate.activity.step_aside)
        if settings.mail_worker == "inline"
        else None
    )
    store = DatabaseStore(db, gate, write_batcher, "rencontres")

    session_config: ServerSideSessionConfig = QuietSessionConfig(
        key=SESSION_COOKIE,
        store="sessions",
        secure=settings.https,
        samesite="lax",
        exclude=STATELESS_PATHS,
        max_age=14 * 24 * 3600,
    )
    rate_limit = rate_limit_config(settings.login_rate_limit, THROTTLED_POSTS)
    # Tokens bound to the session (web/csrf.py), not Litestar's plain double-submit cookie.
    csrf = SessionBoundCSRFMiddleware(
        secret=settings.secret_key, secure=settings.https, exclude=STATELESS_PATHS
    )

    async def on_startup() -> None:
        _start_afresh(app)
        if worker is not None:
            worker.start()  # sends the outbox and runs the periodic jobs (events/jobs)

    async def on_shutdown() -> None:
        if worker is not None:
            await anyio.to_thread.run_sync(worker.stop)
        db.dispose()

    app = Litestar(
        route_handlers=[
            *ROUTE_HANDLERS,
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                name="static",
                cache_control=CacheControlHeader(max_age=3600, public=True),
                opt=access(Access.PUBLIC),
            ),
        ],
        dependencies={
            "db_session": Provide(provide_db_session),
            "current_user": Provide(provide_current_user, sync_to_thread=True),
        },
        before_request=check_access,
        # Litestar's plain Request: htmx's HTMXRequest and its ``htmx`` details refer to
        # each other, so every request's objects waited for the garbage collector, whose
        # passes then stalled a process for 10-50 ms (docs/performance.md). The htmx
        # headers are read when needed instead (web/rendering.py, ``wants_fragment``).
        plugins=[HTMXPlugin(HTMXConfig(set_request_class_globally=False))],
        template_config=template_config(reload=settings.debug),
        middleware=[
            session_config.middleware,
            rate_limit.middleware,
            csrf,  # inside the session middleware: it reads the session's id
        ],
        stores={
            "sessions": store.with_namespace("session"),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=MAX_BODY_BYTES,
        compression_config=COMPRESSION,
        openapi_config=OpenAPIConfig(
            title="Rencontres API",
            version="1",
            description=API_DESCRIPTION,
            path="/schema",
            render_plugins=[LocalSwaggerUI(path=["/", "/swagger", "/redoc"])],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A personal access token (rt_…) made at /account/tokens",
                    )
                }
            ),
            openapi_router=Router(
                path="/schema",
                route_handlers=[],
                opt=access(Access.PUBLIC),
                include_in_schema=False,
            ),
        ),
        state=State(
            {
                "settings": settings,
                "db": db,
                "write_gate": gate,
                "write_batcher": write_batcher,
                "mail_worker": worker,
                "page_cache": PageCache(),
                # Cards of calls for proposals, one per proposal version (web/controllers/
                # proposals.py): a call of 500 proposals fits with room to spare.
                "card_cache": PageCache(max_entries=CARD_CACHE_ENTRIES),
                "content_watch": ContentWatch(db),
                "board_watch": BoardWatch(db),
                "unsafe_switches": switches,
            }
        ),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        debug=settings.debug,
    )
    # Route middleware never sees requests that match no route (404, 405 from the router),
    # so the headers and locale middleware wraps the whole ASGI handler instead.
    # Public pages for browsers without a session are answered from whole copies
    # (web/whole_pages.py), inside the security headers and the language choice.
    whole_pages = WholePages(
        app.asgi_handler,
        secret=settings.secret_key,
        secure=settings.https,
        watch=app.state.content_watch,
    )
    app.state.whole_pages = whole_pages
    app.asgi_handler = CountingRequests(
        security_middleware_factory(https=settings.https, allowed_hosts=settings.allowed_hosts)(
            whole_pages
        ),
        gate.activity,
    )
    return app
