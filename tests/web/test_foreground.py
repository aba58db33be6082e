"""Requests count as foreground work until their response starts (web/foreground.py), so
the inline mail worker renders between them, as it does between writes."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest
from litestar import Litestar

from events.write_activity import WriteActivity
from tests.async_runner import run_async
from web.foreground import CountingRequests

HTTP = {"type": "http", "method": "GET", "path": "/", "headers": []}


class Paused:
    """An ASGI app that sends its response start, then its body, each when told to."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.may_start = anyio.Event()
        self.may_finish = anyio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.may_start.wait()
        if self.fail:
            raise RuntimeError("the handler failed")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await self.may_finish.wait()
        await send({"type": "http.response.body", "body": b"done"})


async def _nothing() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


def _stepping_aside(activity: WriteActivity) -> threading.Event:
    returned = threading.Event()

    def run() -> None:
        activity.step_aside(30)
        returned.set()

    threading.Thread(target=run, daemon=True).start()
    return returned


def test_a_request_counts_until_its_response_starts() -> None:
    activity = WriteActivity()
    inner = Paused()
    sent: list[str] = []
    seen: dict[str, Any] = {}

    async def send(message: Any) -> None:
        sent.append(message["type"])

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(CountingRequests(inner, activity), HTTP, _nothing, send)
            await anyio.sleep(0.05)
            seen["busy before the answer"] = activity.busy
            renderer = _stepping_aside(activity)
            await anyio.sleep(0.2)
            seen["renderer waited"] = not renderer.is_set()
            inner.may_start.set()
            await anyio.sleep(0.05)
            # The headers are out, the body not yet (a live stream stays like this).
            seen["busy while streaming"] = activity.busy
            seen["renderer went on"] = await anyio.to_thread.run_sync(renderer.wait, 5)
            inner.may_finish.set()

    run_async(main)
    assert seen == {
        "busy before the answer": True,
        "renderer waited": True,
        "busy while streaming": False,
        "renderer went on": True,
    }
    assert sent == ["http.response.start", "http.response.body"]
    assert not activity.busy


def test_a_request_that_fails_before_answering_stops_counting() -> None:
    activity = WriteActivity()
    inner = Paused(fail=True)
    inner.may_start.set()

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent")

    with pytest.raises(RuntimeError, match="the handler failed"):
        run_async(CountingRequests(inner, activity), HTTP, _nothing, send)
    assert not activity.busy


def test_other_connections_are_not_counted() -> None:
    activity = WriteActivity()
    scopes: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        scopes.append(scope["type"])
        scopes.append("busy" if activity.busy else "idle")

    async def send(message: Any) -> None:
        return None

    run_async(CountingRequests(inner, activity), {"type": "lifespan"}, _nothing, send)
    run_async(CountingRequests(inner, activity), HTTP, _nothing, send)
    assert scopes == ["lifespan", "idle", "http", "busy"]


def test_the_app_counts_its_requests_in_its_gate(app: Litestar) -> None:
    handler = app.asgi_handler
    assert isinstance(handler, CountingRequests)
    assert handler.activity is app.state.write_gate.activity
