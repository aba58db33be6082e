"""Headers every response carries, and the locale chosen for each request.

Personal data is never cached: the answer of every route that shows some (declared with
``access(..., personal_data=...)``, by default every route behind a login or a token, see
web/auth.py) gets ``Cache-Control: no-store``, here and nowhere else, whatever the handler
set and whatever the status (a 404 for a wrong token included).
"""

from __future__ import annotations

from collections.abc import Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from web.auth import shows_personal_data
from web.i18n import LOCALE_COOKIE, current_locale, negotiate_locale

# No inline script anywhere: htmx is configured (meta tag) not to inject styles or eval.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
BASE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(self), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}
NO_STORE = "no-store"


def cookies_of(scope: Scope) -> dict[str, str]:
    """The request's cookies (the first of two with one name, as browsers send the most
    specific first)."""
    found: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie_name, _sep, cookie_value = part.strip().partition("=")
                found.setdefault(cookie_name, cookie_value)
    return found


def _cookie(scope: Scope, name: str) -> str | None:
    return cookies_of(scope).get(name)


def header_of(scope: Scope, name: bytes) -> str | None:
    """The first value of the request header ``name`` (lower-case bytes), or None."""
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def host_name(host_header: str) -> str:
    """``example.org:8000`` → ``example.org``; ``[::1]:8000`` → ``[::1]``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0]


UNKNOWN_HOST_PAGE = (
    b"<!doctype html><html lang=en><title>Unknown host</title>"
    b"<h1>Unknown host</h1><p>This server does not serve this host name.</p></html>"
)


BAD_REQUEST_PAGE = (
    b"<!doctype html><html lang=en><title>Bad request</title>"
    b"<h1>Bad request</h1><p>This address contains characters that are not allowed.</p></html>"
)


def _has_nul(scope: Scope) -> bool:
    """A NUL byte never belongs in a URL, and PostgreSQL refuses it in any string."""
    query = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


#: The same refusal for the JSON API (RFC 9457 problem details).
BAD_REQUEST_PROBLEM = (
    b'{"type":"about:blank","title":"Bad request","status":400,'
    b'"detail":"This address contains characters that are not allowed.",'
    b'"code":"invalid_characters"}'
)


async def _send_problem(send: Send, status: int, body: bytes) -> None:
    await _send_page(send, status, body, content_type=b"application/problem+json")


async def _send_page(
    send: Send, status: int, body: bytes, content_type: bytes = b"text/html; charset=utf-8"
) -> None:
    headers = [(b"content-type", content_type)]
    headers += [(name.encode(), value.encode()) for name, value in BASE_HEADERS.items()]
    await send(_start(status, headers))
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> HTTPResponseStartEvent:
    return {"type": "http.response.start", "status": status, "headers": headers}


def security_middleware_factory(
    *, https: bool, allowed_hosts: list[str]
) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware: refuses unknown hosts, negotiates the locale, adds security headers."""
    allowed = {host.lower() for host in allowed_hosts}

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            if _has_nul(scope):
                if scope.get("path", "").startswith("/api/"):
                    await _send_problem(send, 400, BAD_REQUEST_PROBLEM)
                else:
                    await _send_page(send, 400, BAD_REQUEST_PAGE)
                return
            if host_name(header_of(scope, b"host") or "") not in allowed:
                await _send_page(send, 400, UNKNOWN_HOST_PAGE)
                return
            locale = negotiate_locale(
                _cookie(scope, LOCALE_COOKIE), header_of(scope, b"accept-language")
            )
            token = current_locale.set(locale)

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
                    # A response with a policy of its own (the embeds, which may be framed)
                    # keeps it, and X-Frame-Options would contradict its frame-ancestors.
                    framable = "content-security-policy" in headers
                    for name, value in BASE_HEADERS.items():
                        if name not in headers and not (framable and name == "x-frame-options"):
                            headers[name] = value
                    if https:
                        headers["strict-transport-security"] = "max-age=31536000"
                    # Set by the router before the handler runs; absent for unrouted 404s.
                    handler = scope.get("route_handler")
                    if handler is not None and shows_personal_data(handler):
                        headers["cache-control"] = NO_STORE
                    headers.setdefault("content-language", locale)
                await send(message)

            try:
                await app(scope, receive, send_with_headers)
            finally:
                current_locale.reset(token)

        return middleware

    return factory
