"""The organiser's questions on an event's registration form
(``/manage/{community}/events/{event}/questions``): list, add, edit, remove, reorder; and
the same editor for a series' template (``/manage/{community}/series/{series}/questions``),
whose changes reach its occurrences still to come (events/services/series.py).

Every form is a plain POST answered by a 303 back to the page (with a flash message); with
htmx the editor section is swapped in place. A question is named by its id in the form
(field ``question``), not in the path: ids are short random strings, not UUIDs. An id that
no longer exists (removed in another tab) is answered with a message, not an error page.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import NotFound, ValidationFailed
from events.models import Community, Event, Membership
from events.services.questions import (
    MAX_QUESTIONS,
    Asker,
    Question,
    QuestionInput,
    QuestionKind,
    QuestionService,
    form_questions,
)
from events.services.series import SeriesQuestionService
from web.auth import Access, access
from web.forms import Form
from web.i18n import gettext as _
from web.messages import field_errors
from web.path_objects import MEMBERSHIP, provide_managed_event, provide_managed_series
from web.rendering import flash, page, wants_fragment

PAGE = "manage/questions.html"
FRAGMENT = "manage/questions_editor.html"
#: Form ``question`` value of the "add a question" form in the template (not an id).
NEW = "new"


class QuestionForm(Form):
    #: The id of the question being edited ("" when adding).
    question: str = ""
    kind: str = ""
    label: str = ""
    required: str = ""
    options: str = ""
    help: str = ""

    def __post_init__(self) -> None:
        # No blanket NUL refusal: the service reports it next to the field it is in.
        return None

    def to_input(self) -> QuestionInput:
        return QuestionInput(
            kind=self.kind,
            label=self.label,
            required=self.required,
            options=self.options,
            help=self.help,
        )

    def values(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "label": self.label,
            "required": self.required,
            "options": self.options,
            "help": self.help,
        }


class QuestionActionForm(Form):
    question: str = ""
    #: "up" or "down" (moving only).
    direction: str = ""


def kind_labels() -> dict[str, str]:
    return {
        QuestionKind.SHORT_TEXT.value: _("Short text"),
        QuestionKind.LONG_TEXT.value: _("Long text"),
        QuestionKind.SINGLE_CHOICE.value: _("Single choice (one answer)"),
        QuestionKind.MULTIPLE_CHOICE.value: _("Multiple choice (any number of answers)"),
        QuestionKind.CHECKBOX.value: _("Checkbox (yes or no)"),
    }


def values_of(question: Question) -> dict[str, str]:
    """A stored question as the editor's form values."""
    return {
        "kind": question.kind.value,
        "label": question.label,
        "required": "on" if question.required else "",
        "options": "\n".join(question.options),
        "help": question.help,
    }


def owner_url(community: Community, asker: Asker) -> str:
    """The organiser's page of the event or series that asks the questions."""
    area = "events" if isinstance(asker, Event) else "series"
    return f"/manage/{community.slug}/{area}/{asker.slug}"


def editor_url(community: Community, asker: Asker) -> str:
    return owner_url(community, asker) + "/questions"


class ManageQuestionsController(Controller):
    """An event's questions; ``ManageSeriesQuestionsController`` below is the same
    editor over a series' template (``asker`` is whichever the path names)."""

    path = "/manage/{community:str}/events/{event:str}/questions"
    include_in_schema = False
    dependencies = {**MEMBERSHIP, "asker": Provide(provide_managed_event, sync_to_thread=True)}

    @staticmethod
    def service(session: Session) -> QuestionService:
        return QuestionService(session)

    # -- rendering ------------------------------------------------------------------------
    @staticmethod
    def _render(
        request: Request,
        community: Community,
        event: Asker,
        *,
        status_code: int = 200,
        editing: str | None = None,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> Template:
        """The page (or, for htmx, the editor section). ``editing`` is the id of the question
        whose form shows ``form`` and ``errors`` (``NEW`` for the "add" form)."""
        questions = form_questions(event)
        return page(
            request,
            PAGE,
            fragment=FRAGMENT,
            status_code=status_code,
            community=community,
            asker=event,
            is_series=not isinstance(event, Event),
            owner_url=owner_url(community, event),
            qbase=editor_url(community, event),
            questions=questions,
            removed_count=len(event.questions or []) - len(questions),
            max_questions=MAX_QUESTIONS,
            kinds=kind_labels(),
            values_of=values_of,
            editing=editing,
            form=form or {},
            errors=errors or {},
        )

    def _done(
        self, request: Request, community: Community, event: Asker, message: str, level: str
    ) -> Template | Response[Any]:
        flash(request, message, level)
        if wants_fragment(request):
            return self._render(request, community, event)
        return Redirect(editor_url(community, event), status_code=303)

    def _gone(
        self, request: Request, community: Community, event: Asker
    ) -> Template | Response[Any]:
        message = _("This question no longer exists: the list is up to date now.")
        return self._done(request, community, event, message, "error")

    # -- the page -------------------------------------------------------------------------
    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def index(
        self,
        request: Request,
        asker: NamedDependency[SkipValidation[Asker]],
        membership: NamedDependency[Membership],
    ) -> Template:
        return self._render(request, membership.community, asker)

    # -- changes --------------------------------------------------------------------------
    @post("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def add(
        self,
        request: Request,
        asker: NamedDependency[SkipValidation[Asker]],
        data: URLEncodedBody[QuestionForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        try:
            question = self.service(db_session).add(asker, data.to_input())
        except ValidationFailed as failed:
            return self._render(
                request,
                membership.community,
                asker,
                status_code=400,
                editing=NEW,
                form=data.values(),
                errors=field_errors(failed.errors),
            )
        message = _("Question “%(label)s” added.", label=question.label)
        return self._done(request, membership.community, asker, message, "success")

    @post("/edit", opt=access(Access.ORGANISER), sync_to_thread=True)
    def edit(
        self,
        request: Request,
        asker: NamedDependency[SkipValidation[Asker]],
        data: URLEncodedBody[QuestionForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        try:
            question = self.service(db_session).update(asker, data.question, data.to_input())
        except NotFound:
            return self._gone(request, membership.community, asker)
        except ValidationFailed as failed:
            return self._render(
                request,
                membership.community,
                asker,
                status_code=400,
                editing=data.question,
                form=data.values(),
                errors=field_errors(failed.errors),
            )
        message = _("Question “%(label)s” saved.", label=question.label)
        return self._done(request, membership.community, asker, message, "success")

    @post("/delete", opt=access(Access.ORGANISER), sync_to_thread=True)
    def delete(
        self,
        request: Request,
        asker: NamedDependency[SkipValidation[Asker]],
        data: URLEncodedBody[QuestionActionForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        service = self.service(db_session)
        try:
            question = service.get(asker, data.question)
            service.remove(asker, question.id)
        except NotFound:
            return self._gone(request, membership.community, asker)
        message = _("Question “%(label)s” removed from the form.", label=question.label)
        return self._done(request, membership.community, asker, message, "success")

    @post("/move", opt=access(Access.ORGANISER), sync_to_thread=True)
    def move(
        self,
        request: Request,
        asker: NamedDependency[SkipValidation[Asker]],
        data: URLEncodedBody[QuestionActionForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Response[Any]:
        try:
            self.service(db_session).move(
                asker, data.question, -1 if data.direction == "up" else +1
            )
        except NotFound:
            return self._gone(request, membership.community, asker)
        return self._done(request, membership.community, asker, _("Order saved."), "success")


class ManageSeriesQuestionsController(ManageQuestionsController):
    """The questions of a series' template: the same editor, the same forms."""

    path = "/manage/{community:str}/series/{series:str}/questions"
    dependencies = {**MEMBERSHIP, "asker": Provide(provide_managed_series, sync_to_thread=True)}

    @staticmethod
    def service(session: Session) -> QuestionService:
        return SeriesQuestionService(session, now=utcnow())
