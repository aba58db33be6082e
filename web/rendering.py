"""Rendering helpers: pages versus htmx fragments, and flash messages."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import MediaType, Request
from litestar.plugins.htmx import HTMXDetails
from litestar.response import Response, Template

#: Any response type: :func:`private` gives back what it was given.
R = TypeVar("R", bound=Response[Any])
FLASH_KEY = "flash"
#: Pages differ by htmx fragment, language and login: shared caches must keep them apart.
VARY = {"vary": "HX-Request, Accept-Language, Cookie"}
ROLLBACK_FLAG = "rencontres.rollback"
#: Private pages (a secret token in the address): never indexed, and no ``Referer`` carries
#: the token to another site. (Never cached either: their routes declare personal data,
#: web/security.py sends ``Cache-Control: no-store``.)
PRIVATE_HEADERS = {
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex, nofollow",
}
#: On a form's failed answer (htmx, e.g. a boosted form): keep the address the page had, so
#: a reload shows the form again instead of asking the POST's address for a page.
KEEP_ADDRESS = {"HX-Push-Url": "false"}


def mark_for_rollback(request: Request) -> None:
    """Whatever this request wrote is discarded, even though a response is returned."""
    request.scope[ROLLBACK_FLAG] = True  # type: ignore[literal-required]


def wants_fragment(request: Request) -> bool:
    """An htmx request that targets part of the page (not a boosted navigation)."""
    # Read from the headers for this call only: a request that kept its HTMXDetails would
    # be one half of a reference cycle (web/app.py).
    htmx = HTMXDetails(request)
    return bool(htmx) and not (htmx.boosted or htmx.history_restore_request)


def page(
    request: Request,
    template: str,
    *,
    fragment: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """The full page, or ``fragment`` for htmx requests that only swap part of it."""
    name = fragment if fragment and wants_fragment(request) else template
    headers = VARY
    if status_code >= 400:
        mark_for_rollback(request)
        if request.method not in {"GET", "HEAD"}:
            headers = {**VARY, **KEEP_ADDRESS}
    return Template(
        template_name=name,
        context=context,
        status_code=status_code,
        headers=headers,
        # Every page is HTML: said here, Litestar does not guess it from the name's
        # suffix on each response (a path object and a mimetypes lookup per page).
        media_type=MediaType.HTML,
    )


def flash(request: Request, message: str, level: str = "success") -> None:
    """Queue a message for the next page this visitor sees (kept in their session)."""
    session = request.scope.get("session")
    if not isinstance(session, dict):
        session = {}
        request.set_session(session)
    # A new list, not an append: the session backend detects changes by comparing with a
    # shallow copy, so mutating the stored list would silently lose this message.
    session[FLASH_KEY] = [*session.get(FLASH_KEY, []), {"message": message, "level": level}]


def pop_flashes(request: Request) -> list[dict[str, str]]:
    session = request.scope.get("session")
    if not isinstance(session, dict) or FLASH_KEY not in session:
        return []
    flashes: list[dict[str, str]] = session.pop(FLASH_KEY)
    return flashes


def session_of(request: Request) -> dict[str, Any]:
    """The visitor's session data, or {} where no session middleware ran (early 404s)."""
    session = request.scope.get("session")
    return session if isinstance(session, dict) else {}


def csv_download(body: bytes, filename: str) -> Response[bytes]:
    """A CSV export as an attachment (its organiser route declares personal data, so
    web/security.py sends it with ``Cache-Control: no-store``)."""
    return Response(
        content=body,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def private(response: R) -> R:
    """``response`` with :data:`PRIVATE_HEADERS`."""
    response.headers.update(PRIVATE_HEADERS)
    return response
