"""How the door answers: JSON for the scanner's script, a page (or an htmx fragment) for
plain forms, with the same verdict and words either way. Nothing here is cached anywhere:
a door answer names people."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from litestar.response import Response, Template

from events.models import Event
from events.services.door import ScanResult
from web.door.verdicts import result_json, tone_of, verdict_detail, verdict_message
from web.errors import wants_json
from web.rendering import page

NO_STORE = {"cache-control": "no-store", "referrer-policy": "no-referrer", "vary": "Cookie"}


def new_nonce() -> str:
    """A nonce for a form the page sends back (one per rendered form)."""
    return uuid.uuid4().hex


def json_answer(body: Any) -> Response[Any]:
    return Response(body, headers=NO_STORE, status_code=200)


def verdict_page(
    request: Request[Any, Any, Any],
    event: Event,
    result: ScanResult,
    *,
    inspecting: bool = False,
    code: str = "",
    fragment: str = "door/_verdict.html",
) -> Template:
    """The verdict as HTML; ``code`` is the ticket a careful-mode confirmation sends."""
    return page(
        request,
        "door/verdict.html",
        fragment=fragment,
        event=event,
        result=result,
        tone=tone_of(result),
        message=verdict_message(result, event, inspecting=inspecting),
        detail=verdict_detail(result),
        inspecting=inspecting,
        scanned=code,
        nonce=new_nonce(),
    )


def verdict_answer(
    request: Request[Any, Any, Any],
    event: Event,
    result: ScanResult,
    *,
    inspecting: bool = False,
    code: str = "",
) -> Response[Any]:
    if wants_json(request):
        return json_answer(result_json(result, event, inspecting=inspecting))
    return verdict_page(request, event, result, inspecting=inspecting, code=code)
