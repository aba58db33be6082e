"""Feedback pages.

- ``/r/{token}/feedback``: the form, from a registrant's private link (the feedback mail
  carries one); answering again edits the answer;
- ``/manage/{community}/events/{event}/feedback``: the organisers' figures and anonymous
  text, their own questions, links for the sessions' hosts (shown once);
- ``/feedback/session/{token}``: a host's view of their session's figures.

Who may answer and when is the domain's (events/services/feedback.py); refusals are shown
on the page, never as an error page.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.errors import Conflict, NotFound, ValidationFailed
from events.models import Event, Membership, ProgrammeItem, Registration
from events.services.feedback import (
    SESSION_PREFIX,
    FeedbackInput,
    FeedbackService,
    feedback_questions,
)
from events.services.programme import ProgrammeService
from events.services.questions import FIELD_PREFIX
from events.services.registrations import RegistrationService
from web.auth import Access, access
from web.forms import Form
from web.i18n import gettext as _
from web.messages import error_message, field_errors
from web.path_objects import MANAGED_EVENT, MEMBERSHIP
from web.rendering import flash, page, private
from web.settings import Settings


class FeedbackForm(Form):
    rating: str = ""
    keep: str = ""
    change: str = ""


class QuestionsForm(Form):
    questions: str = ""


class HostLinkForm(Form):
    item: str = ""


async def provide_extra_fields(request: Request) -> dict[str, Any]:
    """The form's session ratings (``s_<id>``) and answers (``q_<id>``)."""
    form = await request.form()
    return {
        key: form.get(key)
        for key in form
        if key.startswith(SESSION_PREFIX) or key.startswith(FIELD_PREFIX)
    }


def _programme(session: Session, event: Event) -> list[ProgrammeItem]:
    return ProgrammeService(session).items(event)


class FeedbackController(Controller):
    include_in_schema = False

    # -- the registrant's form ------------------------------------------------------------
    def _form(
        self,
        request: Request,
        session: Session,
        registration: Registration,
        token: str,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        event = session.get(Event, registration.event_id)
        if event is None:
            raise NotFound()
        service = FeedbackService(session)
        existing = service.of_registration(registration)
        refusal = ""
        try:
            service.may_answer(event, registration)
        except Conflict as refused:
            refusal = error_message(refused.code or "")
        if values is None and existing is not None:
            values = {
                "rating": str(existing.rating),
                "keep": existing.keep,
                "change": existing.change,
                **{f"{SESSION_PREFIX}{k}": str(v) for k, v in existing.session_ratings.items()},
                **{f"{FIELD_PREFIX}{k}": v for k, v in existing.answers.items()},
            }
        return private(
            page(
                request,
                "feedback/form.html",
                status_code=status_code,
                event=event,
                token=token,
                existing=existing,
                refusal=refusal,
                sessions=_programme(session, event),
                questions=feedback_questions(event),
                values=values or {},
                errors=errors or {},
            )
        )

    @get("/r/{token:str}/feedback", opt=access(Access.TOKEN), sync_to_thread=True)
    def form(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        registration = RegistrationService(db_session).by_manage_token(token)
        return self._form(request, db_session, registration, token)

    @post(
        "/r/{token:str}/feedback",
        opt=access(Access.TOKEN),
        sync_to_thread=True,
        dependencies={"extra": Provide(provide_extra_fields)},
    )
    def give(
        self,
        request: Request,
        token: FromPath[str],
        data: URLEncodedBody[FeedbackForm],
        extra: NamedDependency[dict[str, Any]],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        registration = RegistrationService(db_session).by_manage_token(token)
        event = db_session.get(Event, registration.event_id)
        feedback = FeedbackInput(
            rating=data.rating,
            keep=data.keep,
            change=data.change,
            sessions={k: v for k, v in extra.items() if k.startswith(SESSION_PREFIX)},
            answers={k: v for k, v in extra.items() if k.startswith(FIELD_PREFIX)},
        )
        values = {"rating": data.rating, "keep": data.keep, "change": data.change, **extra}
        try:
            FeedbackService(db_session).give(event, registration, feedback)  # type: ignore[arg-type]
        except ValidationFailed as failed:
            return self._form(
                request,
                db_session,
                registration,
                token,
                values=values,
                errors=field_errors(failed.errors),
                status_code=400,
            )
        except Conflict as refused:
            return self._form(
                request,
                db_session,
                registration,
                token,
                values=values,
                errors={"form": error_message(refused.code or "")},
                status_code=409,
            )
        flash(request, _("Thank you for your feedback! You can change it for a week."))
        return private(Redirect(f"/r/{token}/feedback", status_code=303))

    # -- a host's view --------------------------------------------------------------------
    @get("/feedback/session/{token:str}", opt=access(Access.TOKEN), sync_to_thread=True)
    def host_view(
        self, request: Request, token: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[Any]:
        event, figures = FeedbackService(db_session).session_summary(token)
        return private(page(request, "feedback/host.html", event=event, figures=figures))


class ManageFeedbackController(Controller):
    path = "/manage/{community:str}/events/{event:str}/feedback"
    include_in_schema = False
    dependencies = {**MEMBERSHIP, **MANAGED_EVENT}

    def _render(
        self,
        request: Request,
        session: Session,
        membership: Membership,
        event: Event,
        *,
        host_link: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        questions = feedback_questions(event)
        return page(
            request,
            "feedback/manage.html",
            status_code=status_code,
            community=membership.community,
            event=event,
            summary=FeedbackService(session).summary(event),
            sessions=_programme(session, event),
            host_link=host_link,
            values=values or {"questions": "\n".join(q.label for q in questions)},
            errors=errors or {},
        )

    def _here(self, membership: Membership, event: Event) -> str:
        return f"/manage/{membership.community.slug}/events/{event.slug}/feedback"

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def index(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        return self._render(request, db_session, membership, managed_event)

    @post("/questions", opt=access(Access.ORGANISER), sync_to_thread=True)
    def set_questions(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        data: URLEncodedBody[QuestionsForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        try:
            FeedbackService(db_session).set_questions(managed_event, data.questions)
        except (ValidationFailed, Conflict) as failure:
            errors = (
                field_errors(failure.errors)
                if isinstance(failure, ValidationFailed)
                else {"questions": error_message(failure.code or "")}
            )
            return self._render(
                request,
                db_session,
                membership,
                managed_event,
                values={"questions": data.questions},
                errors=errors,
                status_code=400 if isinstance(failure, ValidationFailed) else 409,
            )
        flash(request, _("Feedback questions saved."))
        return Redirect(self._here(membership, managed_event), status_code=303)

    @post("/host-links", opt=access(Access.ORGANISER), sync_to_thread=True)
    def host_link(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        data: URLEncodedBody[HostLinkForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        try:
            item, token = FeedbackService(db_session).host_link(managed_event, data.item)
        except NotFound:
            flash(request, _("This session no longer exists."), "error")
            return Redirect(self._here(membership, managed_event), status_code=303)
        settings: Settings = request.app.state.settings
        # Shown once, in this very answer: the token is not kept anywhere.
        link = {"title": item.title, "url": settings.absolute_url(f"/feedback/session/{token}")}
        return self._render(request, db_session, membership, managed_event, host_link=link)
