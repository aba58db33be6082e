"""Whether someone is suspended on an offers board: the one place that reads it.

A person whose relayed messages were reported by enough different people, or whom the
organisers suspended (events/services/exchange_reports.py decides both), is suspended on
that board: the others no longer see their listings (:func:`not_suspended` in the lists)
and they can no longer write to anyone (:func:`refuse_if_suspended` before a request).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from events.errors import Conflict
from events.models import ExchangeParticipant


def is_suspended(participant: ExchangeParticipant) -> bool:
    """Whether ``participant`` is suspended on their board."""
    return bool(participant.suspended)


def not_suspended() -> ColumnElement[bool]:
    """SQL: the ``ExchangeParticipant`` of the query (a listing's author) is not
    suspended; lists of listings filter with it."""
    return ExchangeParticipant.suspended.is_(False)


def refuse_if_suspended(participant: ExchangeParticipant) -> None:
    """``Conflict("suspended")`` when ``participant`` may no longer write to anyone."""
    if is_suspended(participant):
        raise Conflict("suspended")
