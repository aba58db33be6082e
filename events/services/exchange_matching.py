"""Finding matches: filters, and a match score anyone can read.

Pure functions over listings' values (events/services/exchange_categories.py), no
database. Two listings of the same category **agree on a field** when both have a value
and:

- ``range``: the ranges overlap (a missing end is open): "budget 500–700 and 600–800";
- ``area``: one postcode begins with the other ("75" and "75011"), or the texts share a
  word of three letters or more, ignoring case and accents;
- ``date``: the windows overlap (a missing end is open);
- ``tags``: they share a tag, ignoring case (each shared tag counts);
- ``text``: never (it is for reading).

A listing's **score** for someone is, over their own listings of the same category on the
other side (an offer against their need, a need against their offer), the best count of
agreements: one point per field that agrees, one per shared tag. Each point is a
:class:`Reason`, which the page shows in one line ("budget overlaps: 600–700 · same area:
75011 · 2 shared: Python, design"). No hidden weights: the line is the whole score.

The **words** searched for must all appear in the text or in the fields (area, tags).
**Filters** are a listing that is looked for: the filter form has the fields of the
category, and a listing passes when it agrees with the filter on every field filled in.

A board shows **the listings passing the filters, best score first, then the ones new
since the reader's previous visit, then the newest** (:class:`Ranking`, which works out
what does not depend on the reader once per board version; tests/domain/
test_exchange_ranking.py holds it to this rule computed plainly).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, overload
from uuid import UUID

from events.services.exchange_categories import Category, CategoryField, FieldKind

_WORD = re.compile(r"\w{3,}")


@dataclass(frozen=True)
class Reason:
    """One field on which two listings agree (what the explanation line says)."""

    field_id: str
    kind: FieldKind
    label: str
    #: What they agree on: the overlap of ranges or dates, the postcode or words, the tags.
    detail: tuple[str, ...]
    points: int = 1
    # Reasons key the reasons lines kept for every page (web/listing_faces.py): the hash is
    # worked out once, not on each look-up.
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        values = (self.field_id, self.kind, self.label, self.detail, self.points)
        object.__setattr__(self, "_hash", hash(values))

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True)
class ListingView:
    """A listing as the board shows it (plain values, no ORM)."""

    id: UUID
    participant_id: UUID
    category: str
    side: str
    text: str
    details: Mapping[str, Any]
    display_name: str
    created_at: datetime
    updated_at: datetime
    paused: bool = False
    expires_at: datetime | None = None


class Scored(NamedTuple):
    """A listing found, as one reader sees it (a tuple: a board page makes hundreds)."""

    listing: ListingView
    score: int
    reasons: tuple[Reason, ...]
    #: Posted since the viewer's previous visit.
    new: bool = False


@dataclass(frozen=True)
class Filters:
    """What the board is filtered by; ``details`` holds the category's fields as a
    listing would (cleaned by exchange_categories.clean_details)."""

    category: str = ""
    side: str = ""
    words: str = ""
    only_new: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return bool(self.category or self.side or self.words or self.only_new or self.details)


# Both are pure and called for every field of every listing on each board view (an
# 800-listing board: ~1,500 calls per page, mostly on the same tags and area words).
@lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(_fold(text)))


def _bounds(value: Mapping[str, Any], low: str, high: str) -> tuple[Any, Any]:
    return value.get(low), value.get(high)


def _overlap(a: tuple[Any, Any], b: tuple[Any, Any]) -> tuple[Any, Any] | None:
    """The overlap of two intervals whose ends may be None (open); None if disjoint."""
    lows = [x for x in (a[0], b[0]) if x is not None]
    highs = [x for x in (a[1], b[1]) if x is not None]
    low = max(lows) if lows else None
    high = min(highs) if highs else None
    if low is not None and high is not None and low > high:
        return None
    return low, high


def _interval_text(interval: tuple[Any, Any]) -> tuple[str, ...]:
    low, high = interval
    return ("" if low is None else str(low), "" if high is None else str(high))


def _postcode(value: Mapping[str, Any]) -> str:
    return str(value.get("postcode") or "").replace(" ", "").upper()


def agreement(item: CategoryField, a: Any, b: Any) -> Reason | None:
    """How two values of ``item`` agree, or None (see the module docstring)."""
    if a is None or b is None or item.kind is FieldKind.TEXT:
        return None
    if item.kind in (FieldKind.RANGE, FieldKind.DATE):
        ends = ("min", "max") if item.kind is FieldKind.RANGE else ("from", "to")
        if not isinstance(a, Mapping) or not isinstance(b, Mapping):
            return None
        common = _overlap(_bounds(a, *ends), _bounds(b, *ends))
        if common is None:
            return None
        return Reason(item.id, item.kind, item.label, _interval_text(common))
    if item.kind is FieldKind.AREA:
        if not isinstance(a, Mapping) or not isinstance(b, Mapping):
            return None
        code_a, code_b = _postcode(a), _postcode(b)
        if code_a and code_b and (code_a.startswith(code_b) or code_b.startswith(code_a)):
            return Reason(item.id, item.kind, item.label, (max(code_a, code_b, key=len),))
        shared = _words(str(a.get("text") or "")) & _words(str(b.get("text") or ""))
        if shared:
            return Reason(item.id, item.kind, item.label, tuple(sorted(shared)))
        return None
    # Tags: each one shared counts, shown as the listing spells it.
    if not isinstance(a, list) or not isinstance(b, list):
        return None
    theirs = {_fold(str(tag)): str(tag) for tag in b}
    shared_tags = [theirs[_fold(str(tag))] for tag in a if _fold(str(tag)) in theirs]
    if not shared_tags:
        return None
    return Reason(item.id, item.kind, item.label, tuple(shared_tags), points=len(shared_tags))


def agreements(category: Category, a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Reason]:
    """Every field of ``category`` on which the values ``a`` and ``b`` agree, in order."""
    found = (agreement(item, a.get(item.id), b.get(item.id)) for item in category.fields)
    return [reason for reason in found if reason is not None]


def _searchable(details: Mapping[str, Any]) -> list[str]:
    """The words a listing's fields hold (free text, area, postcode, tags)."""
    words: list[str] = []
    for value in details.values():
        if isinstance(value, str):
            words.append(value)
        elif isinstance(value, list):
            words.extend(str(tag) for tag in value)
        elif isinstance(value, Mapping):
            words.extend(str(value.get(key) or "") for key in ("text", "postcode"))
    return words


def passes(listing: ListingView, filters: Filters, category: Category | None) -> bool:
    """Whether ``listing`` passes ``filters`` (every filled-in field agrees)."""
    if filters.category and listing.category != filters.category:
        return False
    if filters.side and listing.side != filters.side:
        return False
    if filters.words:
        wanted = _words(filters.words) or {_fold(filters.words.strip())}
        haystack = _fold(" ".join([listing.text, *_searchable(listing.details)]))
        if not all(word in haystack for word in wanted):
            return False
    if category is not None and filters.details:
        for item in category.fields:
            wanted_value = filters.details.get(item.id)
            if wanted_value is None:
                continue
            if agreement(item, wanted_value, listing.details.get(item.id)) is None:
                return False
    return True


#: Remembered agreements of two listings, by both versions and the category's definition:
#: a board is viewed again and again (each filter, each reload) against the same few own
#: listings, and an agreement changes only when one of the three does. Bounded: cleared
#: when full (a board view then computes its agreements once more).
_AGREEMENTS: dict[tuple[Any, ...], tuple[Reason, ...]] = {}
AGREEMENTS_KEPT = 50_000


def remembered_agreements(
    category: Category, own: ListingView, listing: ListingView, number: int | None = None
) -> tuple[Reason, ...]:
    """:func:`agreements` of ``own`` and ``listing``, computed once per version of each;
    ``number``: the category's (:func:`_number_of`), which is quicker to hash."""
    key = (number or category, own.id, own.updated_at, listing.id, listing.updated_at)
    found = _AGREEMENTS.get(key)
    if found is None:
        if len(_AGREEMENTS) >= AGREEMENTS_KEPT:
            _AGREEMENTS.clear()
        found = _AGREEMENTS[key] = tuple(agreements(category, own.details, listing.details))
    return found


#: Whether a listing version passes a filter, remembered like the agreements (the same
#: filtered board is loaded again and again); keyed by a number per filter (hashing the
#: filter's category and values once per board view, not once per listing).
_PASSES: dict[tuple[int, UUID, datetime], bool] = {}
#: A number for each category definition and filter seen (never reused: counted up).
_NUMBERS: dict[tuple[Any, ...], int] = {}
_COUNTER = [0]


def _number_of(key: tuple[Any, ...]) -> int:
    number = _NUMBERS.get(key)
    if number is None:
        if len(_NUMBERS) >= AGREEMENTS_KEPT:
            _NUMBERS.clear()
        _COUNTER[0] += 1
        number = _NUMBERS[key] = _COUNTER[0]
    return number


def _filter_number(filters: Filters, category: Category | None) -> int:
    details = repr(filters.details)
    return _number_of((category, filters.category, filters.side, filters.words, details))


def remembered_passes(
    number: int, listing: ListingView, filters: Filters, category: Category | None
) -> bool:
    """:func:`passes`, once per listing version and filter (``number``, from
    :func:`_filter_number`)."""
    key = (number, listing.id, listing.updated_at)
    found = _PASSES.get(key)
    if found is None:
        if len(_PASSES) >= AGREEMENTS_KEPT:
            _PASSES.clear()
        found = _PASSES[key] = passes(listing, filters, category)
    return found


#: What a :class:`Ranking` worked out for a filter (the positions passing it) or for one
#: own listing (the positions agreeing with it, with their points and reasons), by the
#: ranking's serial number: bounded by the entries held in all (cleared when full).
_PASSING: dict[tuple[int, int], tuple[int, ...]] = {}
_AGREEING: dict[tuple[Any, ...], dict[int, tuple[int, tuple[Reason, ...]]]] = {}
_MEMO_HELD = [0]
MEMO_KEPT = 50_000
_SERIALS = itertools.count()
_NOTHING: tuple[int, tuple[Reason, ...]] = (0, ())


def _hold(entries: int) -> None:
    if _MEMO_HELD[0] + entries > MEMO_KEPT:
        _PASSING.clear()
        _AGREEING.clear()
        _MEMO_HELD[0] = 0
    _MEMO_HELD[0] += entries


class Ranking:
    """One list of listings, ranked for reader after reader (a board's list at one version,
    events/services/exchange_listings.py): **the listings passing the filters, best score
    first, then the new ones, then the newest**; each with its score, reasons and "new"
    mark (:meth:`rank`).

    What depends only on the list is worked out once (each listing's position, newest
    first; the positions by kind and by author), what depends on the list and a filter
    (who passes it) once per filter, and what depends on the list and one of a reader's
    own listings (who agrees with it, and how) once per version of that listing. A reader's
    view then only adds their own parts: the people and listings they do not see, the
    "new" marks, the best of their listings' agreements. Immutable once made, apart from
    the bounded memos: safe to share between threads."""

    def __init__(self, views: Sequence[ListingView]) -> None:
        # Newest first; equal times keep the given order (a board reads them by id then).
        self.views = tuple(sorted(views, key=lambda view: view.created_at, reverse=True))
        self.serial = next(_SERIALS)
        self._position = {view.id: index for index, view in enumerate(self.views)}
        by_kind: dict[tuple[str, str], list[int]] = {}
        by_author: dict[UUID, list[int]] = {}
        for index, view in enumerate(self.views):
            by_kind.setdefault((view.category, view.side), []).append(index)
            by_author.setdefault(view.participant_id, []).append(index)
        self._by_kind = {kind: tuple(found) for kind, found in by_kind.items()}
        self._by_author = by_author

    def kind(self, category: str, side: str) -> tuple[ListingView, ...]:
        """The listings of ``category`` (all: "") on ``side`` (both: ""), newest first."""
        return tuple(self.views[index] for index in self._candidates(category, side))

    def _candidates(self, category: str, side: str) -> tuple[int, ...]:
        if category and side:
            return self._by_kind.get((category, side), ())
        return tuple(
            index
            for (of_category, of_side), found in self._by_kind.items()
            if (not category or of_category == category) and (not side or of_side == side)
            for index in found
        )

    def _excluded(self, people: Iterable[UUID], listings: Iterable[UUID]) -> set[int]:
        excluded = {index for person in people for index in self._by_author.get(person, ())}
        excluded.update(self._position[id_] for id_ in listings if id_ in self._position)
        return excluded

    def _passing(self, filters: Filters, category: Category | None) -> tuple[int, ...]:
        number = _filter_number(filters, category)
        key = (self.serial, number)
        found = _PASSING.get(key)
        if found is None:
            views = self.views
            found = tuple(
                index
                for index in sorted(self._candidates(filters.category, filters.side))
                if remembered_passes(number, views[index], filters, category)
            )
            _hold(len(found) + 1)
            _PASSING[key] = found
        return found

    def _agreeing(
        self, own: ListingView, category: Category
    ) -> dict[int, tuple[int, tuple[Reason, ...]]]:
        """The positions of the listings agreeing with ``own`` (same category, other
        side), with their points and reasons."""
        number = _number_of((category,))
        key = (self.serial, number, own.id, own.updated_at)
        found = _AGREEING.get(key)
        if found is None:
            found = {}
            for (of_category, of_side), indexes in self._by_kind.items():
                if of_category != own.category or of_side == own.side:
                    continue
                for index in indexes:
                    reasons = remembered_agreements(category, own, self.views[index], number)
                    if reasons:
                        found[index] = (sum(reason.points for reason in reasons), reasons)
            _hold(len(found) + 1)
            _AGREEING[key] = found
        return found

    def rank(
        self,
        *,
        mine: Sequence[ListingView],
        categories: Mapping[str, Category],
        filters: Filters,
        seen_until: datetime | None,
        hidden_people: Iterable[UUID] = (),
        hidden_listings: Iterable[UUID] = (),
    ) -> tuple[Found, int]:
        """The listings passing ``filters`` but those of ``hidden_people`` and the
        ``hidden_listings``, ranked against ``mine`` (see the class docstring); and how
        many listings of the filters' category and side are shown before the other
        filters."""
        category = categories.get(filters.category) if filters.category else None
        excluded = self._excluded(hidden_people, hidden_listings)
        candidates = self._candidates(filters.category, filters.side)
        total = len(candidates) - sum(1 for index in candidates if index in excluded)
        # Only own listings that can agree with a listing the filters let through: of its
        # category, on the other side.
        agreeing = [
            self._agreeing(own, categories[own.category])
            for own in mine
            if own.category in categories
            and (not filters.category or own.category == filters.category)
            and (not filters.side or own.side != filters.side)
        ]
        views, only_new = self.views, filters.only_new
        # Each listing found is one integer that sorts as (-score, not new, position):
        # integers are not tracked by the garbage collector, and a page builds only the
        # tuples it shows (:class:`Found`); hundreds of tuples per page were a tenth of
        # its time, the collections they set off included.
        size = len(views)
        keys: list[int] = []
        bests: dict[int, tuple[int, tuple[Reason, ...]]] = {}
        for index in self._passing(filters, category):
            if index in excluded:
                continue
            new = seen_until is not None and views[index].created_at > seen_until
            if only_new and not new:
                continue
            best = _NOTHING
            for agreements_of_own in agreeing:
                found = agreements_of_own.get(index)
                if found is not None and found[0] > best[0]:
                    best = found
            if best[0]:
                bests[index] = best
            keys.append((-2 * best[0] + (not new)) * size + index)
        keys.sort()
        return Found(views, keys, bests), total


class Found(Sequence[Scored]):
    """The listings a reader found, best first (:meth:`Ranking.rank`): each made into a
    :class:`Scored` when read."""

    __slots__ = ("_bests", "_keys", "_views")

    def __init__(
        self,
        views: tuple[ListingView, ...],
        keys: list[int],
        bests: Mapping[int, tuple[int, tuple[Reason, ...]]],
    ) -> None:
        self._views, self._keys, self._bests = views, keys, bests

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, item: int) -> Scored: ...
    @overload
    def __getitem__(self, item: slice) -> list[Scored]: ...
    def __getitem__(self, item: int | slice) -> Scored | list[Scored]:
        if isinstance(item, slice):
            return [self._scored(key) for key in self._keys[item]]
        return self._scored(self._keys[item])

    def _scored(self, key: int) -> Scored:
        # key = (-2 * score + (not new)) * size + position (see Ranking.rank)
        size = len(self._views)
        rest = key % (2 * size)
        index = rest % size
        points, reasons = self._bests.get(index, _NOTHING)
        return Scored(self._views[index], points, reasons, rest < size)
