"""Run a coroutine function to completion from a synchronous test."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


def run_async(function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``anyio.run(function, *args)`` in a thread of its own: another test of the same
    worker process (Playwright's sync API) may have left an event loop running in the
    main thread, where ``anyio.run`` refuses to start."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = anyio.run(function, *args)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)``, in a thread of its own for the same reason."""

    async def awaited() -> T:
        return await coroutine

    return run_async(awaited)
