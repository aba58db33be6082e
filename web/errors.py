"""Errors become a friendly page (HTML), a fragment (htmx) or problem details (JSON).

Nothing a user sends produces a traceback: unknown exceptions are logged and answered
with a generic 500 page; an unreachable database answers 503 with ``Retry-After``.

Who gets problem details (RFC 9457, ``application/problem+json``): everything under
``/api/``, and routes that declare themselves a JSON API with ``json_api(...)`` in their
``opt``: ``JsonApi.ONLY`` for routes that answer nothing but JSON (errors always problem
details), ``JsonApi.NEGOTIATED`` for routes that serve a script in JSON and a plain form in
HTML (problem details when the request is JSON or accepts JSON). Field errors of a
``ValidationFailed`` go in the problem's ``errors`` member, a refusal's code in ``code``.

An error that has a page of its own (a sign-in page, an expired-link page) raises an
``ErrorWithPage``: the same handler answers it, with that page for browsers and problem
details for JSON.

No dead ends for people:

- a GET on an address that only receives forms (a reload of a form's failed answer, a
  pasted link) leads to the page above it instead of "405 Method not allowed";
- a failed form sent by htmx (a boosted form) keeps the page's address
  (``HX-Push-Url: false``): a reload shows the form again, never the POST's address;
- in the organiser area, a refused action (a ``Conflict`` such as removing the last owner)
  goes back to the page it came from with the message on it (browsers: a flash and a 303
  to the same-site ``Referer``; htmx: the message in the page's flash area); error pages
  there link back to where the user was.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from advanced_alchemy.exceptions import NotFoundError as RepositoryNotFound
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from events.errors import (
    Busy,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from web.i18n import gettext as _
from web.messages import error_message, field_errors
from web.rendering import KEEP_ADDRESS, VARY, flash, wants_fragment

log = logging.getLogger("rencontres.errors")
RETRY_AFTER_SECONDS = "30"
#: What a ``RateLimited`` refusal tells the client to wait (the counters' windows are
#: minutes long; events/attempts.py).
RATE_LIMIT_RETRY_AFTER = "60"
#: Route ``opt`` key saying how a route outside /api/ answers JSON (see ``json_api``).
JSON_API_OPT = "json_api"
JSON_TYPE = "application/json"
ORGANISER_AREA = "/manage/"
SAFE_METHODS = frozenset({"GET", "HEAD"})


class JsonApi(enum.StrEnum):
    #: The route answers JSON only (a stream, a snapshot): its errors are problem details.
    ONLY = "only"
    #: JSON for a script (the request is or accepts JSON), pages for plain forms.
    NEGOTIATED = "negotiated"


def json_api(kind: JsonApi) -> dict[str, JsonApi]:
    """The ``opt`` entry of a route that answers JSON."""
    return {JSON_API_OPT: kind}


class ExplainedError(HTTPException):
    """An HTTP error with a sentence for people (Litestar's own details are English and
    technical, and are not shown). ``explain`` says it when the error is answered, in the
    language of the request that gets it: it may be raised elsewhere (a batch of scans
    runs in another request's context)."""

    def __init__(self, status_code: int, explain: Callable[[], str]) -> None:
        super().__init__(status_code=status_code)
        self.explain = explain


class ErrorWithPage(ExplainedError):
    """An HTTP error that browsers see as a page of its own (``template`` with
    ``context``); JSON requests get problem details, htmx requests the usual error
    fragment."""

    def __init__(
        self, status_code: int, explain: Callable[[], str], template: str, **context: Any
    ) -> None:
        super().__init__(status_code, explain)
        self.template = template
        self.context = context


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("Bad request"),
            _("The request could not be understood. Please check what you sent."),
        ),
        401: (_("Please log in"), _("You need to log in to see this page.")),
        403: (
            _("Not allowed"),
            _(
                "You are not allowed to do this. "
                "If you submitted a form, reload the page and try again."
            ),
        ),
        404: (
            _("Page not found"),
            _("There is nothing at this address. It may have moved or been deleted."),
        ),
        405: (_("Method not allowed"), _("This address does not accept this kind of request.")),
        409: (_("Conflict"), _("This could not be done in the current state.")),
        410: (_("No longer valid"), _("What was here has expired or was withdrawn.")),
        413: (_("Too large"), _("What you sent is too large.")),
        429: (_("Too many attempts"), _("Please wait a minute before trying again.")),
        500: (
            _("Something went wrong"),
            _("An unexpected error happened on our side. It has been logged; please try again."),
        ),
        503: (
            _("Temporarily unavailable"),
            _("The service is temporarily unavailable. Please try again in a moment."),
        ),
    }


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def wants_json(request: Request) -> bool:
    """Whether this request is answered in JSON, errors included (see the module doc)."""
    if is_api(request):
        return True
    handler = request.scope.get("route_handler")
    kind = handler.opt.get(JSON_API_OPT) if handler is not None else None
    if kind is JsonApi.ONLY:
        return True
    if kind is JsonApi.NEGOTIATED:
        return request.headers.get("content-type", "").startswith(JSON_TYPE) or request.headers.get(
            "accept", ""
        ).startswith(JSON_TYPE)
    return False


def error_response(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
    field_codes: dict[str, str] | None = None,
) -> Response[Any]:
    """The error answer of ``status``: problem details, an htmx fragment or a page.
    ``errors``: field name → message; ``code``: a refusal's machine-readable code."""
    title, default_detail = _titles().get(status, _titles()[400 if status < 500 else 500])
    detail = detail or default_detail
    headers = dict(headers or {})
    if wants_json(request):
        problem: dict[str, Any] = {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
        }
        # The machine-readable reason: the same codes the pages translate (web/messages.py).
        if code:
            problem["code"] = code
        if field_codes:
            problem["fields"] = field_codes
        if errors:
            problem["errors"] = errors
        return Response(
            problem, status_code=status, media_type="application/problem+json", headers=headers
        )
    context = {
        "status": status,
        "title": title,
        "detail": detail,
        "errors": errors or {},
        "back_url": back_url(request),
    }
    if request.method not in SAFE_METHODS:
        headers.update(KEEP_ADDRESS)
    if wants_fragment(request):
        # htmx does not swap error responses by default: send a 200 that retargets the
        # main area so the visitor sees the message where the page changes.
        headers.update({"HX-Retarget": "#main", "HX-Reswap": "innerHTML"})
        return Template(
            "errors/_error.html",
            context=context,
            status_code=200,
            headers=headers,
            media_type=MediaType.HTML,
        )
    return Template(
        "errors/error.html",
        context=context,
        status_code=status,
        headers=headers,
        media_type=MediaType.HTML,
    )


def same_site_referer(request: Request) -> str | None:
    """The path (and query) of the page the request came from, if it is on this site."""
    referer = request.headers.get("referer", "")
    if not referer:
        return None
    try:
        parts = urlsplit(referer)
    except ValueError:
        return None
    if parts.netloc != request.url.netloc or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def back_url(request: Request) -> str | None:
    """Where an organiser's error page links back to: the page they came from, else
    their community's page, else the organiser area. None outside it (the page then
    offers the list of events)."""
    path = request.url.path
    if not path.startswith(ORGANISER_AREA):
        return None
    came_from = same_site_referer(request)
    if came_from and came_from != path:
        return came_from
    community = path[len(ORGANISER_AREA) :].split("/", 1)[0]
    return f"{ORGANISER_AREA}{community}" if community else ORGANISER_AREA


def page_above(path: str) -> str:
    """``/manage/c/events/e/cover`` → ``/manage/c/events/e``."""
    parent = path.rstrip("/").rsplit("/", 1)[0]
    return parent or "/"


def http_exception_handler(request: Request, exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status == 405 and request.method in SAFE_METHODS and not wants_json(request):
        # This address only receives forms: go to the page above it (repeated up the path
        # until one answers a GET) rather than a dead end.
        return Redirect(page_above(request.url.path), status_code=303)
    if isinstance(exc, ErrorWithPage):
        if wants_json(request) or wants_fragment(request):
            return error_response(request, status, exc.explain())
        return Template(
            exc.template,
            context=exc.context,
            status_code=status,
            headers=VARY,
            media_type=MediaType.HTML,
        )
    if status == 401 and not wants_json(request):
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return Redirect(f"/login?next={target}", status_code=303)
    headers = dict(exc.headers or {})
    detail = exc.explain() if isinstance(exc, ExplainedError) else None
    if status == 400 and isinstance(exc.extra, list) and wants_json(request):
        detail = "; ".join(
            str(item.get("message", "")) for item in exc.extra if isinstance(item, dict)
        )
    return error_response(request, status, detail, headers=headers)


def refused_in_place(request: Request, message: str) -> Response[Any] | None:
    """An organiser's refused action, answered on the page it came from (see the module
    doc), or None when that page is unknown (then the error page is shown)."""
    if not request.url.path.startswith(ORGANISER_AREA) or request.method in SAFE_METHODS:
        return None
    if wants_fragment(request):
        return Template(
            "errors/_refused.html",
            context={"message": message},
            status_code=200,
            headers={"HX-Retarget": "#flashes", "HX-Reswap": "innerHTML", **KEEP_ADDRESS},
            media_type=MediaType.HTML,
        )
    came_from = same_site_referer(request)
    if came_from is None or came_from == request.url.path:
        return None
    flash(request, message, "error")
    return Redirect(came_from, status_code=303)


def domain_error_handler(request: Request, exc: DomainError) -> Response[Any]:
    if isinstance(exc, ValidationFailed):
        return error_response(
            request,
            400,
            errors=field_errors(exc.errors),
            code=exc.code,
            field_codes=dict(exc.errors),
        )
    if isinstance(exc, NotFound):
        return error_response(request, 404, code=exc.code)
    if isinstance(exc, RateLimited):
        return error_response(
            request, 429, headers={"Retry-After": RATE_LIMIT_RETRY_AFTER}, code=exc.code
        )
    if isinstance(exc, Unauthenticated):
        return error_response(
            request,
            401,
            error_message(exc.code),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            code=exc.code,
        )
    if isinstance(exc, Busy):  # nothing was done: the same request later will work
        headers = {"Retry-After": str(exc.retry_after)}
        return error_response(request, 503, error_message("busy"), headers=headers, code=exc.code)
    status = 403 if isinstance(exc, Forbidden) else 409 if isinstance(exc, Conflict) else 400
    message = error_message(exc.code, **exc.params)
    if isinstance(exc, Conflict) and not wants_json(request):
        in_place = refused_in_place(request, message)
        if in_place is not None:
            return in_place
    return error_response(request, status, message, code=exc.code)


def not_found_handler(request: Request, exc: Exception) -> Response[Any]:
    return error_response(request, 404)


def database_down_handler(request: Request, exc: Exception) -> Response[Any]:
    log.error("database unavailable: %s", exc.__class__.__name__)
    return error_response(request, 503, headers={"Retry-After": RETRY_AFTER_SECONDS})


def server_error_handler(request: Request, exc: Exception) -> Response[Any]:
    if isinstance(exc, HTTPException):
        return http_exception_handler(request, exc)
    if isinstance(exc, (OperationalError, PoolTimeout)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return database_down_handler(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: http_exception_handler,
    DomainError: domain_error_handler,
    RepositoryNotFound: not_found_handler,
    OperationalError: database_down_handler,
    PoolTimeout: database_down_handler,
    500: server_error_handler,
}
