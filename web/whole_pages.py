"""Public pages kept whole and compressed once, for browsers without a session.

The rule: the home page, an event's page and a community's page are the same for every
browser without a session (in one language, at one content version of
events/content_version.py, in one minute) but for two kinds of values: the CSRF token,
bound to the browser's visitor cookie (web/csrf.py), and the registration form's nonce
(web/registration_panel.py: a fresh one per page shown). Such a GET is answered here,
before the application's middleware and handlers:

- The first such request for a (path, language, version, minute) has the application
  render the page as for a stand-in browser: no cookie but a visitor cookie of a known
  value ("the shell"), no ``Accept-Encoding``, and the nonce left as its mark
  (web/page_cache.py ``rendering_shell``). The body is cut where the stand-in's token and
  the nonce mark appear; the shared segments are compressed once (web/gzip_segments.py)
  and kept in a cache bounded by count and by bytes.
- Every request gets the page with its own token and a fresh nonce set in: gzip when the
  browser accepts it (the values go in stored blocks, nothing is compressed per request;
  brotli streams cannot be joined like this, so these pages go out in gzip), else as is.
  A browser without a visitor cookie gets one, as web/csrf.py would have given it.
- Conditional GET: the tag is weak (the nonce differs per response, the page does not)
  and made of the page's and the token's digests. A browser with a visitor cookie that
  sends it back gets 304. One without never does: the copy it holds was made for a visitor
  cookie it no longer has, and its forms could not be posted.
- Anything else goes through the application as before: a browser with a session
  (organisers, someone shown a flash message or recognised by address), an htmx request
  (it wants a fragment), a query string, another method, and any answer of the shell other
  than a 200 HTML page without cookies (a 404, a moved event's redirect).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum
from typing import cast

import anyio
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from web.compression import negotiate
from web.conditional import etag_matches
from web.content_watch import ContentWatch
from web.csrf import (
    VISITOR_COOKIE,
    binding_of,
    is_session_binding,
    new_visitor_id,
    token_for,
    visitor_cookie,
)
from web.event_page import REQUEST_KEY_MARK
from web.gzip_segments import GzipSegments
from web.i18n import current_locale
from web.page_cache import SHELL_SCOPE_KEY, current_minute
from web.registration_panel import new_request_key
from web.security import cookies_of, header_of

#: The pages kept whole: ``/``, ``/e/{event}`` (not ``/e/{event}.ics``), ``/g/{community}``.
PAGES = re.compile(r"^/(?:e/[^/.]+|g/[^/]+)?$")
#: The stand-in browser's visitor cookie.
SHELL_VISITOR = "whole-page-shell"
MAX_PAGES = 256
#: ~16 KB a page (raw and gzip): 256 pages hold ~4 MiB; the bytes bound is for big pages.
MAX_BYTES = 8 * 1024 * 1024
#: Request headers the shell does not see: it must render what any browser would get.
_NOT_FOR_THE_SHELL = frozenset(
    {b"cookie", b"accept-encoding", b"if-none-match", b"if-modified-since", b"authorization"}
)
_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"vary", b"HX-Request, Accept-Language, Cookie, Accept-Encoding"),
    # Private: the token in it is this browser's; no-cache: asked again, answered by 304.
    (b"cache-control", b"private, no-cache"),
]


class Slot(Enum):
    TOKEN = "token"
    NONCE = "nonce"


@dataclass(frozen=True, slots=True)
class _Page:
    segments: GzipSegments
    slots: tuple[Slot, ...]
    #: The shared page's digest, the first half of its tags.
    digest: str


def _header(scope: Scope, name: bytes) -> str:
    return header_of(scope, name) or ""


async def _no_body() -> HTTPRequestEvent:
    return {"type": "http.request", "body": b"", "more_body": False}


class WholePages:
    """ASGI middleware (inside web/security.py's, which sets the language and the security
    headers): answers the public pages of the module docstring from its cache."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: str,
        secure: bool,
        watch: ContentWatch,
        max_pages: int = MAX_PAGES,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.app = app
        self._secret = secret
        self._secure = secure
        self._watch = watch
        self._max_pages = max_pages
        self._max_bytes = max_bytes
        self._pages: OrderedDict[Hashable, _Page] = OrderedDict()
        self._rendering: dict[Hashable, anyio.Event] = {}
        self._bytes = 0
        shell = binding_of({VISITOR_COOKIE: SHELL_VISITOR})
        assert shell is not None
        shell_token = token_for(secret, shell).encode()
        self._cuts = re.compile(
            b"(" + re.escape(shell_token) + b"|" + re.escape(REQUEST_KEY_MARK.encode()) + b")"
        )
        self._shell_token = shell_token

    def _applies(self, scope: Scope) -> bool:
        return (
            scope["type"] == ScopeType.HTTP
            and scope.get("method") in {"GET", "HEAD"}
            and not scope.get("query_string")
            and PAGES.match(scope["path"]) is not None
            and not _header(scope, b"hx-request")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        cookies = cookies_of(scope)
        binding = binding_of(cookies)
        if is_session_binding(binding):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], current_locale.get(), await self._watch.current(), current_minute())
        page = self._pages.get(key)
        if page is None:
            page = await self._rendered_once(scope, key)
            if page is None:
                await self.app(scope, receive, send)
                return
        else:
            self._pages.move_to_end(key)
        await self._answer(scope, send, page, binding)

    async def _rendered_once(self, scope: Scope, key: Hashable) -> _Page | None:
        """The page for ``key``, rendered by the first request that misses it; the requests
        that miss it meanwhile wait for that one (after a change, 64 browsers asking at
        once cost one rendering, not 64)."""
        pending = self._rendering.get(key)
        if pending is not None:
            await pending.wait()
            return self._pages.get(key)  # None: not a page to keep (or its request failed)
        done = self._rendering[key] = anyio.Event()
        try:
            page = await self._render(scope)
            if page is not None:
                self._keep(key, page)
            return page
        finally:
            self._rendering.pop(key, None)
            done.set()

    # -- the shared page ------------------------------------------------------------------

    async def _render(self, scope: Scope) -> _Page | None:
        headers = [(k, v) for k, v in scope["headers"] if k not in _NOT_FOR_THE_SHELL]
        headers.append((b"cookie", f"{VISITOR_COOKIE}={SHELL_VISITOR}".encode()))
        shell = cast(
            "Scope",
            {
                **scope,
                "method": "GET",
                "headers": headers,
                # A state of its own: Litestar keeps what it parsed (cookies, the CSRF token)
                # there, and the request may yet go through the application as itself.
                "state": {},
                SHELL_SCOPE_KEY: True,
            },
        )
        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        await self.app(shell, _no_body, keep)
        return self._page_from(answer)

    def _page_from(self, answer: list[Message]) -> _Page | None:
        start = next((m for m in answer if m["type"] == "http.response.start"), None)
        if start is None or start["status"] != 200:
            return None
        names = {name.lower(): value for name, value in start.get("headers", [])}
        if not names.get(b"content-type", b"").startswith(b"text/html"):
            return None
        if b"set-cookie" in names or b"content-encoding" in names:
            return None  # something about this browser, or not the plain page: not shared
        body = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
        pieces = self._cuts.split(body)
        segments, cuts = pieces[0::2], pieces[1::2]
        slots = tuple(Slot.TOKEN if cut == self._shell_token else Slot.NONCE for cut in cuts)
        return _Page(GzipSegments(segments), slots, hashlib.sha256(body).hexdigest()[:16])

    def _keep(self, key: Hashable, page: _Page) -> None:
        self._pages[key] = page
        self._bytes += page.segments.size
        while self._pages and (len(self._pages) > self._max_pages or self._bytes > self._max_bytes):
            _key, dropped = self._pages.popitem(last=False)
            self._bytes -= dropped.segments.size

    # -- this browser's copy --------------------------------------------------------------

    async def _answer(self, scope: Scope, send: Send, page: _Page, binding: str | None) -> None:
        new_visitor = None
        if binding is None:
            new_visitor = new_visitor_id()
            binding = binding_of({VISITOR_COOKIE: new_visitor})
            assert binding is not None
        token = token_for(self._secret, binding)
        etag = f'W/"{page.digest}-{hashlib.sha256(token.encode()).hexdigest()[:12]}"'
        headers = [*_HEADERS, (b"etag", etag.encode())]
        if new_visitor is None and etag_matches(_header(scope, b"if-none-match"), etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        values = [
            token.encode() if slot is Slot.TOKEN else new_request_key().encode()
            for slot in page.slots
        ]
        if negotiate(_header(scope, b"accept-encoding"), offered=("gzip",)) == "gzip":
            body = page.segments.gzip(values)
            headers.append((b"content-encoding", b"gzip"))
        else:
            body = page.segments.identity(values)
        headers.append((b"content-length", str(len(body)).encode()))
        if new_visitor is not None:
            cookie = visitor_cookie(new_visitor, secure=self._secure)
            headers.append((b"set-cookie", cookie.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        last: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": b"" if scope.get("method") == "HEAD" else body,
            "more_body": False,
        }
        await send(last)

    def __len__(self) -> int:
        return len(self._pages)

    def clear(self) -> None:
        self._pages.clear()
        self._rendering.clear()
        self._bytes = 0
