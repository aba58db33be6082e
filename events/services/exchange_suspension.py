"""Whether someone is suspended on an offers board: the one place that reads it.

A person whose relayed messages were reported by enough different people, or whom the
organisers suspended (events/services/exchange_reports.py decides both), is suspended on
that board: the others no longer see their listings (:func:`not_suspended` in the lists),
nor the requests they sent that still await an answer (:func:`request_hidden`, in the
recipient's conversations and before the recipient answers or reports one), and they can
no longer write to anyone (:func:`refuse_if_suspended` before a request).

Hidden, never deleted: the listings and requests stay in the database, so the organisers'
*Restore* brings them back as they were (a request sent before the suspension awaits its
answer again).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from events.errors import Conflict
from events.models import ContactState, ExchangeParticipant


def is_suspended(participant: ExchangeParticipant) -> bool:
    """Whether ``participant`` is suspended on their board."""
    return bool(participant.suspended)


def not_suspended() -> ColumnElement[bool]:
    """SQL: the ``ExchangeParticipant`` of the query (a listing's author) is not
    suspended; lists of listings filter with it."""
    return ExchangeParticipant.suspended.is_(False)


def request_hidden(requester: ExchangeParticipant, state: ContactState | str) -> bool:
    """Whether a request in ``state`` sent by ``requester`` is hidden from its recipient:
    it awaits an answer and its sender is suspended (whenever they sent it). An answered
    request stays: the recipient already decided about that person."""
    return is_suspended(requester) and ContactState(state) is ContactState.PENDING


def refuse_if_suspended(participant: ExchangeParticipant) -> None:
    """``Conflict("suspended")`` when ``participant`` may no longer write to anyone."""
    if is_suspended(participant):
        raise Conflict("suspended")
