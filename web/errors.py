"""Errors become a friendly page (HTML), a fragment (htmx) or problem details (API).

Nothing a user sends produces a traceback: unknown exceptions are logged and answered
with a generic 500 page; an unreachable database answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from advanced_alchemy.exceptions import NotFoundError as RepositoryNotFound
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from events.errors import (
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
from web.rendering import wants_fragment

log = logging.getLogger("rencontres.errors")
RETRY_AFTER_SECONDS = "30"
#: What a ``RateLimited`` refusal tells the client to wait (the counters' windows are
#: minutes long; events/attempts.py).
RATE_LIMIT_RETRY_AFTER = "60"


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
    title, default_detail = _titles().get(status, _titles()[400 if status < 500 else 500])
    detail = detail or default_detail
    headers = dict(headers or {})
    if is_api(request):
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
    context = {"status": status, "title": title, "detail": detail, "errors": errors or {}}
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


def http_exception_handler(request: Request, exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status == 401 and not is_api(request):
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return Redirect(f"/login?next={target}", status_code=303)
    headers = dict(exc.headers or {})
    detail = None
    if status == 400 and isinstance(exc.extra, list) and is_api(request):
        detail = "; ".join(
            str(item.get("message", "")) for item in exc.extra if isinstance(item, dict)
        )
    return error_response(request, status, detail, headers=headers)


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
    status = 403 if isinstance(exc, Forbidden) else 409 if isinstance(exc, Conflict) else 400
    return error_response(request, status, error_message(exc.code, **exc.params), code=exc.code)


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
