"""Many open board views against a real server process: a stream holds no database
connection.

A live view (projector, phones, facilitators) keeps its request open for minutes. When the
request's session was closed only at the end of the response, every open view held one
pooled connection: with 16 per process (8 + 8 overflow), the 17th view and every page after
it waited for the pool until its timeout and got a 503 (found by bench/board_live.py with
200 phones). Here one worker serves more open streams than its pool has connections, and
still answers a page at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from events.database import Database
from tests import server_process
from tests.async_runner import run_coroutine
from tests.factories import Factories

pytestmark = pytest.mark.slow

STREAMS = 40  # more than a process's 16 pooled connections
TIMEOUT_S = 20.0


async def crowd(base_url: str, slug: str, ticket: str) -> tuple[int, list[str]]:
    limits = httpx.Limits(max_connections=STREAMS + 5)
    async with httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT_S, limits=limits) as client:
        opened: list[str] = []
        gate = asyncio.Event()

        async def hold(view: str) -> None:
            headers = {"accept": "text/event-stream"}
            url = f"/e/{slug}/board/live?view={view}"
            async with client.stream("GET", url, headers=headers) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line == "event: board":
                        opened.append(view)
                        break
                await gate.wait()  # keep the stream open

        views = ("phone", "screen", "public")
        holders = [asyncio.create_task(hold(views[n % 3])) for n in range(STREAMS)]
        while len(opened) < STREAMS:
            done = [task for task in holders if task.done() and task.exception()]
            if done:
                raise done[0].exception()  # type: ignore[misc]
            await asyncio.sleep(0.1)
        page = await client.get(f"/t/{ticket}/board/")
        gate.set()
        await asyncio.gather(*holders)
        return page.status_code, opened


def test_open_views_do_not_hold_database_connections(
    tmp_path: Path, database_url: str, db: Database, make: Factories
) -> None:
    space = make.open_space(participants=1)
    with server_process.serve(tmp_path, database_url, workers=1) as server:
        status, opened = run_coroutine(
            asyncio.wait_for(crowd(server.url, space.slug, space.tickets[0]), TIMEOUT_S * 2)
        )
    assert len(opened) == STREAMS
    assert status == 200
