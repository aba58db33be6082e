"""A request's objects are freed when it ends, not by the garbage collector: a request
object kept in a reference cycle took the request's whole graph with it, and the
collector's passes over them stalled a server process for 10-50 ms (web/app.py)."""

from __future__ import annotations

import gc
from typing import Any

from litestar import Litestar, Request
from litestar.plugins.htmx import HTMXRequest

from tests.async_runner import run_async
from tests.conftest import BASE_URL


def _scope(app: Litestar, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", BASE_URL.split("//")[1].encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _serve(app: Litestar, count: int) -> list[int]:
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for n in range(count):
        headers = [(b"hx-request", b"true")] if n % 2 else []
        await app(_scope(app, "/login", headers), receive, send)  # type: ignore[arg-type]
    return statuses


def _requests_left_to_the_collector(run: Any) -> list[object]:
    gc.collect()
    gc.disable()
    try:
        run()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return [thing for thing in gc.garbage if isinstance(thing, Request)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_a_request_leaves_nothing_to_the_garbage_collector(app: Litestar) -> None:
    statuses: list[int] = []
    left = _requests_left_to_the_collector(lambda: statuses.extend(run_async(_serve, app, 20)))
    assert statuses == [200] * 20
    assert left == []


def test_htmx_s_request_class_would_have(app: Litestar) -> None:
    """Negative control: htmx's request object and its details refer to each other."""
    scope = _scope(app, "/login", [])
    left = _requests_left_to_the_collector(lambda: [HTMXRequest(scope) for _ in range(3)])  # type: ignore[arg-type]
    assert len(left) == 3
    assert len(_requests_left_to_the_collector(lambda: [Request(scope) for _ in range(3)])) == 0  # type: ignore[arg-type]
