"""Requests being answered count as foreground work, so that background work steps aside.

Rule: from a request's arrival until its response starts (``http.response.start``), the
process's activity counter (events/write_activity.py) counts it, as it counts a write
holding the database's lock. The inline mail worker renders only when neither is under
way, or at its floor rate (one mail per ``MAX_STEP_ASIDE``) when they never stop: in a
rush of registrations their confirmations are committed with them and rendered a few
seconds later, once the rush is over, instead of taking the CPU the rush needs. A
stream (the board's and the door's live updates) stops counting once its headers are out.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from events.write_activity import WriteActivity


class CountingRequests:
    """ASGI wrapper: each HTTP request counts in ``activity`` until its response starts."""

    def __init__(self, app: ASGIApp, activity: WriteActivity) -> None:
        self.app = app
        self.activity = activity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        activity = self.activity
        counted = True
        activity.started()

        async def sending(message: Message) -> None:
            nonlocal counted
            if counted and message["type"] == "http.response.start":
                counted = False
                activity.done()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if counted:
                activity.done()
