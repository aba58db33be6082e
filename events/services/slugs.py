"""Human-readable, unique slugs for URLs that must stay stable for years."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence

from advanced_alchemy.utils.text import slugify
from sqlalchemy import or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

#: Words that are also fixed path segments next to slugs (``/manage/{c}/events/new``...).
RESERVED = frozenset({"new", "edit", "past", "feed", "feeds", "manage", "api", "static"})
#: Slugs looked up per query: well under every database's limit on bound parameters.
_EXACT_PER_QUERY = 500
#: ``LIKE 'base-%'`` patterns in one query (each row is matched against all of them);
#: with more, the column is read once instead.
_PATTERNS_PER_QUERY = 100


def _chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def available_slugs(
    session: Session,
    column: InstrumentedAttribute[str],
    wanted: Sequence[str],
    *,
    fallback: str,
    max_length: int = 60,
    reserved: Collection[str] = (),
) -> list[str]:
    """A free slug for each of ``wanted``, all different from the column's and from each
    other: ``wanted`` itself, or with ``-2``, ``-3``... appended if it is taken.

    In few queries whatever the number (an import creates up to 2,000 events in one
    write): one exact lookup per 500 slugs, then, only for those that are taken or
    wanted twice, one ``LIKE 'slug-%'`` query (or one read of the column if they are many).
    ``reserved``: further slugs none may take (addresses that redirect elsewhere).
    """
    bases = [(slugify(w) or fallback)[:max_length].strip("-") or fallback for w in wanted]
    distinct = list(dict.fromkeys(bases))
    taken: set[str] = set(RESERVED) | set(reserved)
    for chunk in _chunks(distinct, _EXACT_PER_QUERY):
        taken.update(session.scalars(select(column).where(column.in_(chunk))))
    counts = Counter(bases)
    clashing = [base for base in distinct if base in taken or counts[base] > 1]
    if len(clashing) <= _PATTERNS_PER_QUERY:
        if clashing:
            patterns = [column.like(f"{base}-%") for base in clashing]
            taken.update(session.scalars(select(column).where(or_(*patterns))))
    else:
        # Many patterns would each be matched against every row: read the column once
        # (an index-only scan) and keep the "<base>-<n>" the numbering below may meet.
        wanted_bases = set(clashing)
        for slug in session.scalars(select(column)):
            head, _, tail = slug.rpartition("-")
            if tail.isdigit() and head in wanted_bases:
                taken.add(slug)
    slugs: list[str] = []
    for base in bases:
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs.append(slug)
    return slugs


def available_slug(
    session: Session,
    column: InstrumentedAttribute[str],
    wanted: str,
    *,
    fallback: str,
    max_length: int = 60,
    reserved: Collection[str] = (),
) -> str:
    """``wanted`` as a slug, with ``-2``, ``-3``... appended if the column already has it
    (or it is one of ``reserved``)."""
    (slug,) = available_slugs(
        session, column, [wanted], fallback=fallback, max_length=max_length, reserved=reserved
    )
    return slug
