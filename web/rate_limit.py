"""The login and sign-up rate limit, counted exactly in the database by every process.

Litestar's ``RateLimitMiddleware`` reads a counter from its store, then writes it back: two
steps, guarded only by a lock inside one process, so concurrent attempts reaching several
worker processes (or nodes) read the same count and 30 simultaneous attempts passed 11 to
19 times through a limit of 10. This middleware keeps Litestar's configuration (the rate,
which requests are checked, the client identifier), its ``RateLimit-*`` headers and its
429 (``TooManyRequestsException``, rendered by web/errors.py), but counts each attempt with
one atomic statement (:func:`events.attempts.count_attempt`) in its own short write
transaction, taken through the process's write gate like every other write.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import AbstractMiddleware
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig, RateLimitMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from events.attempts import Attempts, count_attempt
from events.clock import utcnow
from events.database import Database
from web.write_gate import WriteGate


class DatabaseRateLimitMiddleware(RateLimitMiddleware):
    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        # Litestar's own __init__ sets the same attributes and also makes an anyio.Lock
        # (its in-process guard of read-then-write, which counting in one statement makes
        # useless). Made outside an event loop, once for each of the ~650 routes, those
        # locks cost ~30 ms of every app build (each server start, each web test).
        AbstractMiddleware.__init__(
            self,
            app=app,
            exclude=config.exclude,
            exclude_opt_key=config.exclude_opt_key,
            scopes={ScopeType.HTTP},
        )
        self.check_throttle_handler = config.check_throttle_handler  # type: ignore[assignment]
        self.config = config
        self.max_requests = config.rate_limit[1]
        self.unit = config.rate_limit[0]
        self.get_identifier_for_request = config.identifier_for_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app: Litestar = scope["litestar_app"]
        request = app.request_class(scope)
        if await self.should_check_request(request=request):
            attempts = await self.count(app, self.cache_key_from_request(request))
            headers = self.headers_for(attempts) if self.config.set_rate_limit_headers else {}
            if not attempts.allowed(self.max_requests):
                raise TooManyRequestsException(headers=headers or None)
            if headers:
                send = _with_headers(send, headers)
        await self.app(scope, receive, send)

    async def count(self, app: Litestar, key: str) -> Attempts:
        db: Database = app.state["db"]
        gate: WriteGate = app.state["write_gate"]
        window = timedelta(seconds=DURATION_VALUES[self.unit])

        def count_one() -> Attempts:
            with db.transaction() as session:
                return count_attempt(session, key, window=window)

        return await gate.run_sync(count_one)

    def headers_for(self, attempts: Attempts) -> dict[str, str]:
        """Litestar's headers: the policy, the limit, what is left, seconds to the reset."""
        config = self.config
        reset = math.ceil((attempts.window_ends_at - utcnow()).total_seconds())
        return {
            config.rate_limit_policy_header_key: (
                f"{self.max_requests}; w={DURATION_VALUES[self.unit]}"
            ),
            config.rate_limit_limit_header_key: str(self.max_requests),
            config.rate_limit_remaining_header_key: str(attempts.remaining(self.max_requests)),
            config.rate_limit_reset_header_key: str(max(reset, 0)),
        }


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            response_headers = MutableScopeHeaders(message)
            for name, value in headers.items():
                response_headers[name] = value
        await send(message)

    return send_with_headers


def rate_limit_config(limit_per_minute: int, paths: frozenset[str]) -> RateLimitConfig:
    """At most ``limit_per_minute`` POSTs to ``paths`` per client address and minute."""

    # A coroutine, not a plain function: Litestar runs a plain one in a worker thread, a
    # thread hop on every request of every route (9 % of a registration's samples).
    async def checked(request: Any) -> bool:
        return request.method == "POST" and request.url.path in paths

    return RateLimitConfig(
        rate_limit=("minute", limit_per_minute),
        check_throttle_handler=checked,
        middleware_class=DatabaseRateLimitMiddleware,
    )
