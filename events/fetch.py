"""Fetching a subscribed calendar politely and safely.

Polite: conditional requests (``If-None-Match`` / ``If-Modified-Since`` from the last
successful fetch, a 304 is "nothing changed"), a User-Agent that names us, short timeouts.
Safe: http and https only; at most :data:`MAX_REDIRECTS` redirects, each one checked
again; the body is streamed and cut at the size limit (after decompression, so a gzip
bomb is cut too); and no request reaches a private, loopback, link-local or otherwise
non-public address unless ``allow_private`` says so (events/public_addresses.py, IPv4
addresses embedded in IPv6 ones included). The check runs on the addresses the name
resolves to, on every hop, and the connection then goes to the checked address itself
(the Host header and TLS server name keep the original name), so a DNS answer that
changes between check and connection (DNS rebinding) cannot slip through.

:func:`fetch_calendar` never raises: it returns a :class:`FetchResult` whose ``status``
is ``ok``, ``not_modified`` or an error code, with a human-readable ``error``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from events.public_addresses import AddressRefused, Resolver, public_address

__all__ = [
    "ERROR_CODES",
    "FetchPolicy",
    "FetchResult",
    "PostResult",
    "Resolver",
    "fetch_calendar",
    "post_body",
]

MAX_REDIRECTS = 3
USER_AGENT = "Rencontres/0.1 (community calendar import)"
ACCEPT = "text/calendar, application/ics;q=0.9, text/plain;q=0.5, */*;q=0.1"
#: Every status a fetch can end with besides "ok" and "not_modified".
ERROR_CODES = (
    "invalid_url",
    "private_address",
    "dns_error",
    "connection_failed",
    "timeout",
    "too_many_redirects",
    "http_error",
    "too_large",
)
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class FetchPolicy:
    allow_private: bool = False
    connect_timeout: float = 5.0
    #: The whole fetch, redirects and body included.
    total_timeout: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class FetchResult:
    status: str
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    error: str = ""
    url: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class _Refused(Exception):
    def __init__(self, status: str, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def _split(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise _Refused("invalid_url", f"not a valid address: {error}") from error
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _Refused("invalid_url", "only http:// and https:// addresses can be fetched")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _pick_address(host: str, port: int, policy: FetchPolicy, resolver: Resolver | None) -> str:
    try:
        return public_address(host, port, resolver=resolver, allow_private=policy.allow_private)
    except AddressRefused as refused:
        raise _Refused(refused.code, refused.detail) from refused


def _pinned_url(url: str, address: str) -> str:
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()


def _host_header(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return host if parts.port is None else f"{host}:{parts.port}"


def fetch_calendar(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    policy: FetchPolicy | None = None,
    resolver: Resolver | None = None,
    transport: httpx.BaseTransport | None = None,
) -> FetchResult:
    """GET ``url`` under ``policy``; a :class:`FetchResult`, whatever happens.

    ``resolver`` and ``transport`` replace the system's DNS and network (tests)."""
    policy = policy or FetchPolicy()
    deadline = time.monotonic() + policy.total_timeout
    try:
        return _fetch(url, etag, last_modified, policy, resolver, transport, deadline)
    except _Refused as refused:
        return FetchResult(status=refused.status, error=refused.error, url=url)
    except httpx.TimeoutException:
        return FetchResult(
            status="timeout", error=f"no answer within {policy.total_timeout:g} s", url=url
        )
    except (httpx.HTTPError, OSError, ValueError) as error:
        return FetchResult(status="connection_failed", error=_describe(error), url=url)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return " ".join(text.split())[:300]


def _fetch(
    url: str,
    etag: str,
    last_modified: str,
    policy: FetchPolicy,
    resolver: Resolver | None,
    transport: httpx.BaseTransport | None,
    deadline: float,
) -> FetchResult:
    headers = {"User-Agent": policy.user_agent, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    # Certificates are checked against the name, not the pinned address (sni_hostname).
    with httpx.Client(follow_redirects=False, trust_env=False, transport=transport) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            scheme, host, port = _split(current)
            address = _pick_address(host, port, policy, resolver)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise httpx.TimeoutException("deadline")
            timeout = httpx.Timeout(
                min(remaining, 10.0), connect=min(policy.connect_timeout, remaining)
            )
            request = client.build_request(
                "GET",
                _pinned_url(current, address),
                headers={**headers, "Host": _host_header(current)},
                timeout=timeout,
                extensions={"sni_hostname": host} if scheme == "https" else None,
            )
            response = client.send(request, stream=True)
            try:
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location", "")
                    if not location:
                        raise _Refused(
                            "http_error", f"HTTP {response.status_code} without Location"
                        )
                    current = urljoin(current, location)
                    continue
                if response.status_code == 304:
                    return FetchResult(status="not_modified", url=current)
                if response.status_code != 200:
                    reason = response.reason_phrase or ""
                    raise _Refused("http_error", f"HTTP {response.status_code} {reason}".strip())
                body = _read_body(response, policy, deadline)
                return FetchResult(
                    status="ok",
                    body=body,
                    etag=response.headers.get("etag", "")[:500],
                    last_modified=response.headers.get("last-modified", "")[:100],
                    url=current,
                )
            finally:
                response.close()
    raise _Refused("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")


def _read_body(response: httpx.Response, policy: FetchPolicy, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise _Refused("too_large", f"{int(declared):,} bytes; at most {policy.max_bytes:,}")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > policy.max_bytes:
            raise _Refused("too_large", f"more than {policy.max_bytes:,} bytes")
        if time.monotonic() > deadline:
            raise httpx.TimeoutException("deadline")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class PostResult:
    """What a receiver answered to a POST: its status (None: no answer) and why not."""

    status_code: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


#: Redirects a POST may follow: those that keep the method and the body.
_POST_REDIRECTS = {307, 308}


def post_body(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    policy: FetchPolicy,
    resolver: Resolver | None = None,
) -> PostResult:
    """POST ``body`` to ``url`` under the same protections as :func:`fetch_calendar`
    (public addresses only unless allowed, checked after resolution and on every
    redirect, the connection pinned to the checked address, one deadline, a size cap).
    Never raises."""
    deadline = time.monotonic() + policy.total_timeout
    current = url
    try:
        with httpx.Client(follow_redirects=False, trust_env=False) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                scheme, host, port = _split(current)
                address = _pick_address(host, port, policy, resolver)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise httpx.TimeoutException("deadline")
                request = client.build_request(
                    "POST",
                    _pinned_url(current, address),
                    headers={
                        **headers,
                        "User-Agent": policy.user_agent,
                        "Host": _host_header(current),
                    },
                    content=body,
                    timeout=httpx.Timeout(
                        min(remaining, 10.0), connect=min(policy.connect_timeout, remaining)
                    ),
                    extensions={"sni_hostname": host} if scheme == "https" else None,
                )
                response = client.send(request, stream=True)
                try:
                    location = response.headers.get("location", "")
                    if response.status_code in _POST_REDIRECTS and location:
                        current = urljoin(current, location)
                        continue
                    # The answer's body is not read: its status is all a delivery needs.
                    return PostResult(response.status_code)
                finally:
                    response.close()
        raise _Refused("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")
    except _Refused as refused:
        return PostResult(None, f"{refused.status}: {refused.error}")
    except httpx.TimeoutException:
        return PostResult(None, f"timeout: no answer within {policy.total_timeout:g} s")
    except (httpx.HTTPError, OSError, ValueError) as error:
        return PostResult(None, f"connection_failed: {_describe(error)}")
