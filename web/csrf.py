"""CSRF tokens bound to the visitor's session.

Litestar's ``CSRFConfig`` is a plain double-submit cookie: any cookie/token pair it ever
issued is accepted, with any session. A pair obtained by one visitor and planted in
another's browser (a cookie set from a sibling sub-domain or over plain HTTP) was accepted
on an organiser's session (security review, issue 13 item 6). Here:

- The token is an HMAC (keyed by ``SECRET_KEY``) of what binds this browser: its **session
  id** when it has a session (organisers, door volunteers, anyone shown a flash message),
  otherwise its **visitor cookie** (``visitor``: random, HttpOnly, SameSite=Lax, set by the
  first page that can render a form to a browser without either). A token from another
  browser never matches, whatever cookie comes with it.
- A session wins: once a browser has one, a planted visitor cookie changes nothing.
- The session id changes at login (web/sessions.py ``rotate_session_id``), so the token
  does; logging out ends the session and every token issued for it.
- Anonymous visitors are bound by the visitor cookie: the public forms (registering for an
  event, logging in, signing up) work without a session and without JavaScript. A browser
  that refuses cookies cannot post them (it could not before either).
- Every unsafe request (POST, PUT, PATCH, DELETE) carries the token in the ``_csrf_token``
  form field or the ``x-csrftoken`` header: htmx sends it from ``hx-headers`` on
  ``<body>``, the door's script from the ``csrf-token`` meta tag. A browser that says
  where the request comes from (``Sec-Fetch-Site``, ``Origin``) must say this site
  (a second, independent check: :func:`from_this_site`).
- Pages read the token as Litestar's ``csrf_input`` and ``csrf_token()`` do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from litestar.connection import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

VISITOR_COOKIE = "visitor"
SESSION_COOKIE = "session"
HEADER = "x-csrftoken"
FORM_FIELD = "_csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXCLUDE_OPT = "exclude_from_csrf"
FORM_TYPES = frozenset({RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def binding_of(cookies: Mapping[str, str]) -> str | None:
    """What a browser's tokens are bound to: its session id, else its visitor cookie."""
    session_id = cookies.get(SESSION_COOKIE)
    if session_id and session_id != "null":  # "null": the cookie of an ended session
        return f"session:{session_id}"
    visitor = cookies.get(VISITOR_COOKIE)
    return f"visitor:{visitor}" if visitor else None


def is_session_binding(binding: str | None) -> bool:
    """Whether :func:`binding_of` found a session (not a visitor cookie, not nothing)."""
    return binding is not None and binding.startswith(f"{SESSION_COOKIE}:")


def token_for(secret: str, binding: str) -> str:
    """The CSRF token of ``binding`` (see :func:`binding_of`)."""
    digest = hmac.new(secret.encode(), f"csrf|{binding}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_visitor_id() -> str:
    """A new browser's visitor cookie value: random, bound to nothing else."""
    return secrets.token_urlsafe(24)


def visitor_cookie(visitor: str, *, secure: bool) -> str:
    """The ``Set-Cookie`` value that gives a browser its visitor cookie ``visitor`` (made
    by :func:`new_visitor_id`: URL-safe characters, which a cookie holds unquoted)."""
    before, after = _VISITOR_COOKIE_AROUND[secure]
    return f"{before}{visitor}{after}"


def _visitor_cookie_around(secure: bool) -> tuple[str, str]:
    """The visitor cookie's ``Set-Cookie`` value, as Litestar writes it, either side of
    the value: written once, where writing it whole for each new visitor (the standard
    library's cookie module) was a hundredth of a page that gives one."""
    header = Cookie(
        key=VISITOR_COOKIE,
        value=_VALUE_MARK,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    ).to_header(header="")
    before, after = header.split(_VALUE_MARK)
    return before, after


_VALUE_MARK = "visitorvalue"
_VISITOR_COOKIE_AROUND = {secure: _visitor_cookie_around(secure) for secure in (True, False)}


def _origin(value: str, default_scheme: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(value if "//" in value else f"{default_scheme}://{value}")
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    return (parts.scheme, (parts.hostname or "").lower(), port)


def from_this_site(headers: Mapping[str, str], scheme: str) -> bool:
    """Whether the browser says the request comes from a page of this very origin.

    ``Sec-Fetch-Site`` (every current browser) must be ``same-origin`` (``none``: typed or
    bookmarked); ``same-site`` is refused, a sibling sub-domain being just where a planted
    cookie comes from. Without it, an ``Origin`` header must name this host. Neither, or
    ``Origin: null`` (what a page with ``Referrer-Policy: no-referrer`` sends, like the
    private pages): the token alone decides."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in {"same-origin", "none"}
    origin = headers.get("origin")
    if origin is None or origin == "null":
        return True
    sent, own = _origin(origin, scheme), _origin(headers.get("host") or "", scheme)
    return sent is not None and own is not None and sent[1:] == own[1:] and bool(sent[1])


class SessionBoundCSRFMiddleware(ASGIMiddleware):
    """Issues and checks the tokens described in the module docstring. Runs inside the
    session middleware (the session id is the cookie that middleware reads)."""

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = EXCLUDE_OPT

    def __init__(self, *, secret: str, secure: bool, exclude: Sequence[str] = ()) -> None:
        self.secret = secret
        self.secure = secure
        excluded = re.compile("|".join(exclude)) if exclude else None
        self.should_bypass_for_scope = (
            (lambda scope: bool(excluded.search(scope["path"]))) if excluded else None
        )

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request = Request(scope, receive)
        binding = binding_of(request.cookies)
        new_visitor = None
        if binding is None and request.method in SAFE_METHODS:
            new_visitor = new_visitor_id()
            binding = binding_of({VISITOR_COOKIE: new_visitor})
        expected = token_for(self.secret, binding) if binding else None
        if request.method not in SAFE_METHODS:
            await self._check(request, expected)
        if expected is not None:
            ScopeState.from_scope(scope).csrf_token = expected
        if new_visitor is None:
            await next_app(scope, receive, send)
            return
        cookie = visitor_cookie(new_visitor, secure=self.secure)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie)
            await send(message)

        await next_app(scope, receive, send_with_cookie)

    async def _check(self, request: Request, expected: str | None) -> None:
        if not from_this_site(request.headers, request.url.scheme):
            raise PermissionDeniedException("CSRF: the request comes from another site")
        if expected and _matches(request.headers.get(HEADER), expected):
            return
        # A form's own field is fresh even when htmx's header is not (the body's attribute
        # from before a login): either one matching is enough.
        content_type, _ = request.content_type
        if expected and content_type in FORM_TYPES:
            value = (await request.form()).get(FORM_FIELD)
            if _matches(value if isinstance(value, str) else None, expected):
                return
        raise PermissionDeniedException("CSRF token verification failed")


def _matches(sent: str | None, expected: str) -> bool:
    return sent is not None and hmac.compare_digest(sent.encode(), expected.encode())
