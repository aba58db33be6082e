"""Confirmation links of the double opt-in (``/c/{token}``), for every feature.

Opening the link shows what it confirms and a button: mail scanners that open every
link in a message must not confirm anything, so the action needs the POST. Confirming
finishes the action (events/services/confirmations.py) and makes this browser the
person whose address it proved, for that community (web/visitors.py).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Response
from sqlalchemy.orm import Session

from events.errors import Conflict
from events.services import confirmations
from web.auth import Access, access
from web.i18n import gettext as _
from web.messages import error_message
from web.rendering import PRIVATE_HEADERS, flash, page, private
from web.visitors import remember


def _done_message(done: str) -> str:
    messages = {
        "proposal_published": _("Your address is confirmed: your proposal is published."),
        "supported": _("Your address is confirmed: your support is counted."),
        "following": _("Your address is confirmed: you follow it now."),
        "reported": _("Your address is confirmed: the organisers will look at your report."),
        "co_proposal_requested": _(
            "Your address is confirmed: your request is sent to the proposer."
        ),
        "volunteered": _(
            "Your address is confirmed: you are on the shift. Thank you! The link to your "
            "volunteer page is in the e-mail we sent you."
        ),
    }
    return messages.get(done, _("Your address is confirmed."))


class ConfirmationController(Controller):
    path = "/c/{token:str}"
    include_in_schema = False

    @get("/", opt=access(Access.TOKEN), sync_to_thread=True)
    def confirm_page(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        pending = confirmations.describe(db_session, token)
        response = page(request, "proposals/confirm.html", pending=pending, token=token)
        return private(response)

    @post("/", opt=access(Access.TOKEN), sync_to_thread=True)
    def confirm(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        try:
            outcome = confirmations.confirm_address(db_session, token)
        except Conflict as refused:
            pending = confirmations.describe(db_session, token)
            response = page(
                request,
                "proposals/confirm.html",
                status_code=409,
                pending=pending,
                token=token,
                error=error_message(refused.code),
            )
            response.headers.update(PRIVATE_HEADERS)
            return response
        remember(request, outcome.person)
        if outcome.error:
            flash(request, _done_message("") + " " + error_message(outcome.error), "warning")
        else:
            flash(request, _done_message(outcome.done))
        return Redirect(outcome.path, status_code=303, headers=PRIVATE_HEADERS)
