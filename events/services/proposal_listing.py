"""What a call's page lists: its visible proposals as cards, in the visitor's order.

A proposal is **visible** when its status is public (not ``submitted``) and moderation did
not hide it (events/services/moderation.py). The list reads narrow cards (no ORM objects:
a call of 500 proposals is one small query) and orders them in Python:

- **random** (the default): one visitor's order, a permutation of the proposal numbers,
  ``(number * a + b) mod p`` with ``a`` and ``b`` from the visitor's seed: the same visitor
  sees the same order, another visitor another one, and no proposal is favoured (no
  ranking, so no race for supports);
- **most supported first** or **newest first**, when the organisers ask for it.

Also here: the filters' counts, the feed's selection, and similar titles shown while
someone types a proposal (to join forces rather than propose the same again).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.models import Proposal, ProposalCall
from events.proposal_lifecycle import PUBLIC_STATUSES
from events.services import moderation
from events.services.proposal_records import PROPOSAL

PER_PAGE = 30
#: Characters of a proposal's text its card may show.
EXCERPT_CHARS = 400
SIMILAR_LIMIT = 5
TITLE_MAX_LENGTH = 200
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ProposalCard:
    """What a call's list shows of one proposal (read without loading the proposal)."""

    id: UUID
    number: int
    title: str
    kind: str
    status: str
    supports: int
    #: The start of its text (plain), for the excerpt.
    excerpt: str
    updated_at: datetime
    published_at: datetime | None


def paginate(cards: list[ProposalCard], page: int, per_page: int = PER_PAGE) -> ProposalPage:
    """Page ``page`` of ``cards`` (a page past the end gives the last one)."""
    total = len(cards)
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    return ProposalPage(cards[(page - 1) * per_page : page * per_page], page, pages, total)


def visible_conditions(call_id: UUID, *, kind: str = "", status: str = "") -> list[Any]:
    """SQL conditions of a call's visible proposals (public status, not hidden by
    moderation), with the list's filters."""
    conditions: list[Any] = [
        Proposal.call_id == call_id,
        Proposal.status.in_([s.value for s in PUBLIC_STATUSES]),
        ~moderation.hidden_clause(PROPOSAL, Proposal.id),
    ]
    if kind:
        conditions.append(Proposal.kind == kind)
    if status:
        conditions.append(Proposal.status == status)
    return conditions


def visible_cards(
    session: Session, call_id: UUID, *, kind: str = "", status: str = ""
) -> list[ProposalCard]:
    """Every visible proposal of a call as a card (one narrow query, no ORM objects), by
    number; :func:`arrange` puts them in order."""
    rows = session.execute(
        select(
            Proposal.id,
            Proposal.number,
            Proposal.title,
            Proposal.kind,
            Proposal.status,
            Proposal.supports,
            func.substr(Proposal.body_text, 1, EXCERPT_CHARS),
            Proposal.updated_at,
            Proposal.published_at,
        )
        .where(*visible_conditions(call_id, kind=kind, status=status))
        .order_by(Proposal.number)
    )
    return [ProposalCard(*row) for row in rows]


@dataclass(frozen=True)
class ProposalPage:
    proposals: list[ProposalCard]
    page: int
    pages: int
    total: int


#: A prime above any proposal number: ``(number * a + b) mod P`` with ``0 < a < P``
#: is a permutation of the numbers, a different one for each (a, b).
ORDER_PRIME = 1_000_003


def _permutation(seed: str) -> tuple[int, int]:
    digest = hashlib.blake2b(seed.encode("utf-8", "surrogatepass")[:64], digest_size=8).digest()
    multiplier = int.from_bytes(digest[:4], "big") % (ORDER_PRIME - 1) + 1
    return multiplier, int.from_bytes(digest[4:], "big") % ORDER_PRIME


def arrange(cards: list[ProposalCard], order: str, seed: str) -> list[ProposalCard]:
    """``cards`` in a call's ``order``; for ``random``, the order of one visitor (the same
    for the same ``seed``, another for another seed: a permutation of the proposal
    numbers, so no ranking shows unless the organisers ask for one)."""
    if order == "most_supported":
        return sorted(cards, key=lambda card: (-card.supports, card.number))
    if order == "newest":
        return sorted(cards, key=lambda card: card.published_at or card.updated_at, reverse=True)
    multiplier, shift = _permutation(seed)
    return sorted(cards, key=lambda card: (card.number * multiplier + shift) % ORDER_PRIME)


def _words(title: str) -> set[str]:
    """The words of a title that carry meaning: accents, case and plurals set aside,
    short words (articles, prepositions) left out."""
    flat = unicodedata.normalize("NFKD", title.casefold())
    flat = "".join(ch for ch in flat if not unicodedata.combining(ch))
    return {word.rstrip("sx") for word in _WORD.findall(flat) if len(word) > 3}


def similarity(a: str, b: str) -> float:
    """How alike two titles read (0..1): the share of the shorter one's words found in
    the other (so a few typed words already find a longer title), or the same letters in
    the same order."""
    words_a, words_b = _words(a), _words(b)
    shared = (
        len(words_a & words_b) / min(len(words_a), len(words_b)) if words_a and words_b else 0.0
    )
    return max(shared, SequenceMatcher(None, a.casefold(), b.casefold()).ratio())


class ProposalListing:
    """The lists of a call (the page, the filters' counts, the feed, similar titles)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def page_of(
        self,
        call: ProposalCall,
        *,
        seed: str,
        kind: str = "",
        status: str = "",
        page: int = 1,
        per_page: int = PER_PAGE,
    ) -> ProposalPage:
        """One page of the call's visible proposals (as cards), in the call's order (for
        ``random``, the visitor's: ``seed`` is theirs), with the page count."""
        cards = visible_cards(self.session, call.id, kind=kind, status=status)
        return paginate(arrange(cards, call.order, seed), page, per_page)

    def status_counts(self, call: ProposalCall) -> dict[str, int]:
        """Visible proposals per status (for the filters)."""
        rows = self.session.execute(
            select(Proposal.status, func.count())
            .where(*visible_conditions(call.id))
            .group_by(Proposal.status)
        )
        return {status: int(count) for status, count in rows}

    def recently_changed(self, call: ProposalCall, *, limit: int) -> list[Proposal]:
        """The call's visible proposals, most recently changed first (for its feed)."""
        return list(
            self.session.scalars(
                select(Proposal)
                .where(*visible_conditions(call.id))
                .order_by(Proposal.updated_at.desc(), Proposal.number.desc())
                .limit(limit)
            )
        )

    def similar(
        self, call: ProposalCall, title: str, *, threshold: float = 0.5
    ) -> list[tuple[int, str]]:
        """Visible proposals of the call whose titles read like ``title`` (number, title),
        most alike first: shown while someone types, to join forces instead of proposing
        the same again."""
        wanted = " ".join((title or "").split())[:TITLE_MAX_LENGTH]
        if len(wanted) < 4:
            return []
        rows = self.session.execute(
            select(Proposal.number, Proposal.title).where(*visible_conditions(call.id))
        ).all()
        scored = [(similarity(wanted, row.title), row.number, row.title) for row in rows]
        alike = sorted((s for s in scored if s[0] >= threshold), key=lambda s: (-s[0], s[1]))
        return [(number, found) for _score, number, found in alike[:SIMILAR_LIMIT]]
