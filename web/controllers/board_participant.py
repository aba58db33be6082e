"""A participant's open-space board, from their ticket (``/t/{code}/board``): what is on now
and next, their topics, their interests and personal agenda, posting a topic, marking
topics, withdrawing their own, notes after their session, following topics (mailed their
notes: events/services/board_follows.py).

The ticket code in the path is the identity (as on ``/t/{code}``): no account, no e-mail.
Every form works without JavaScript (Post/Redirect/Get); with it, marks go through
``fetch`` (JSON answers) and the page stays current over the board's live stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, RateLimited, ValidationFailed
from events.lifecycle import board_posting_closed_reason, topic_notes_open
from events.models import TopicKind
from events.services.board_reports import report_topic
from events.services.board_state import board_state
from events.services.board_topics import (
    BoardTopics,
    Marked,
    Participant,
    TopicInput,
    participant,
)
from events.validation import is_placeholder_email
from web.auth import Access, access
from web.board.views import live_context
from web.db import run_write
from web.errors import JsonApi, json_api, wants_json
from web.forms import Form
from web.i18n import gettext as _
from web.messages import error_message, field_errors
from web.rendering import flash, mark_for_rollback, page

HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex, nofollow",
}


class TopicForm(Form):
    title: str = ""
    summary: str = ""
    kind: str = TopicKind.DISCUSSION.value
    cohost: str = ""
    show_host: str = ""

    def to_input(self) -> TopicInput:
        return TopicInput(
            title=self.title,
            summary=self.summary,
            kind=self.kind,
            cohost=self.cohost,
            show_host=self.show_host,
        )


class MarkForm(Form):
    mark: str = ""


class NotesForm(Form):
    notes: str = ""


def _base(code: str) -> str:
    return f"/t/{code}/board"


class BoardParticipantController(Controller):
    path = "/t/{code:str}/board"
    include_in_schema = False

    def _page(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        who: Participant,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        now = utcnow()
        closed = board_posting_closed_reason(who.board, who.event, now)
        state = board_state(session, who.board)
        moment = state.at(now)
        topics = BoardTopics(session)
        me = topics.mine(who)
        own = [
            t for t in board_state(session, who.board, hidden_too=True).topics if t.id in me.topics
        ]
        notes_open = {t.id for t in own if topic_notes_open(who.event, state.slot_of(t), now)}
        response = page(
            request,
            "board/phone.html",
            status_code=status_code,
            **live_context(state, who.event, moment),
            me=me,
            own=own,
            notes_open=notes_open,
            followed=topics.followed(who),
            can_follow=not is_placeholder_email(who.registration.email),
            base=_base(who.registration.ticket_code or ""),
            posting_closed=error_message(closed) if closed else "",
            values=values or {},
            errors=errors or {},
        )
        response.headers.update(HEADERS)
        return response

    def _act(
        self,
        request: Request[Any, Any, Any],
        who: Participant,
        action: Callable[[], object],
        notice: str,
        anchor: str,
    ) -> Response[Any]:
        """One action from the ticket: a refusal is flashed (and the request rolled back),
        a success says what happened; either way, back to where the person was."""
        try:
            action()
        except ValidationFailed as failed:
            mark_for_rollback(request)
            flash(request, " ".join(field_errors(failed.errors).values()), "error")
        except (Conflict, RateLimited) as refused:
            mark_for_rollback(request)
            flash(request, error_message(refused.code, **refused.params), "error")
        else:
            flash(request, notice)
        return self._back(who, anchor)

    def _back(self, who: Participant, anchor: str) -> Response[Any]:
        code = who.registration.ticket_code or ""
        return Redirect(f"{_base(code)}#{anchor}", status_code=303, headers=HEADERS)

    @get("/", opt=access(Access.TOKEN), sync_to_thread=True)
    def board(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        return self._page(request, db_session, participant(db_session, code))

    @post("/topics", opt=access(Access.TOKEN), sync_to_thread=True)
    def post_topic(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: URLEncodedBody[TopicForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        who = participant(db_session, code)
        values = {
            "title": data.title[:200],
            "summary": data.summary[:500],
            "kind": data.kind[:20],
            "cohost": data.cohost[:100],
            "show_host": data.show_host[:3],
        }
        try:
            BoardTopics(db_session).post(who, data.to_input())
        except ValidationFailed as failed:
            return self._page(
                request,
                db_session,
                who,
                values=values,
                errors=field_errors(failed.errors),
                status_code=400,
            )
        except Conflict as refused:
            return self._page(
                request,
                db_session,
                who,
                values=values,
                errors={"form": error_message(refused.code, **refused.params)},
                status_code=409,
            )
        flash(request, _("Your topic is on the board. Facilitators will place it in a slot."))
        return self._back(who, "board-mine")

    @post(
        "/topics/{topic_id:uuid}/mark",
        opt={**access(Access.TOKEN), **json_api(JsonApi.NEGOTIATED)},
    )
    async def mark(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        topic_id: FromPath[UUID],
        data: URLEncodedBody[MarkForm],
    ) -> Response[Any]:
        """The mark's whole transaction, commit included, runs in one thread call
        (``run_write``): a mark bumps the board's version, whose row stays locked until the
        commit, and every mark of the board queues on that row. With the request's session
        the commit came after the handler's return to the event loop and a second thread
        hop: on PostgreSQL under a loaded machine that held the row for tens of
        milliseconds a mark, and 20 marks a second queued for seconds
        (docs/performance.md)."""

        def unit(session: Session) -> tuple[Participant, Marked]:
            who = participant(session, code)
            return who, BoardTopics(session).mark(who, topic_id, data.mark)

        who, marked = await run_write(request, unit)
        if wants_json(request):
            choice = {True: "interested", False: "not_for_me", None: "none"}[marked.interested]
            body = {"topic": str(marked.topic_id), "mark": choice, "version": marked.version}
            return Response(body, status_code=200, headers=HEADERS)
        return self._back(who, f"topic-{topic_id}")

    @post("/topics/{topic_id:uuid}/report", opt=access(Access.TOKEN), sync_to_thread=True)
    def report(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        topic_id: FromPath[UUID],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        who = participant(db_session, code)
        try:
            report_topic(db_session, who, topic_id)
        except (Conflict, RateLimited) as refused:
            mark_for_rollback(request)
            flash(request, error_message(refused.code, **refused.params), "error")
        else:
            flash(
                request,
                _(
                    "Thank you: your report is counted. A topic that several people "
                    "report is hidden until a facilitator looks at it."
                ),
            )
        return self._back(who, "board-topics-title")

    @post("/topics/{topic_id:uuid}/withdraw", opt=access(Access.TOKEN), sync_to_thread=True)
    def withdraw(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        topic_id: FromPath[UUID],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        who = participant(db_session, code)
        topics = BoardTopics(db_session)
        return self._act(
            request,
            who,
            lambda: topics.withdraw(who, topic_id),
            _("Your topic was taken off the board."),
            "board-mine",
        )

    @post("/topics/{topic_id:uuid}/notes", opt=access(Access.TOKEN), sync_to_thread=True)
    def notes(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        topic_id: FromPath[UUID],
        data: URLEncodedBody[NotesForm],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        who = participant(db_session, code)
        topics = BoardTopics(db_session)
        return self._act(
            request,
            who,
            lambda: topics.write_notes(who, topic_id, data.notes),
            _("Your notes are saved: they show with your topic."),
            "board-mine",
        )

    @post("/topics/{topic_id:uuid}/follow", opt=access(Access.TOKEN), sync_to_thread=True)
    def follow(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        topic_id: FromPath[UUID],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        who = participant(db_session, code)
        topics = BoardTopics(db_session)
        return self._act(
            request,
            who,
            lambda: topics.follow(who, topic_id),
            _("You follow it: we will e-mail you its notes."),
            "board-follow",
        )

    @post("/topics/{topic_id:uuid}/unfollow", opt=access(Access.TOKEN), sync_to_thread=True)
    def unfollow(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        topic_id: FromPath[UUID],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        who = participant(db_session, code)
        topics = BoardTopics(db_session)
        return self._act(
            request,
            who,
            lambda: topics.unfollow(who, topic_id),
            _("You no longer follow it."),
            "board-follow",
        )
