"""Human-readable, unique slugs for URLs that must stay stable for years."""

from __future__ import annotations

from collections.abc import Collection

from advanced_alchemy.utils.text import slugify
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

#: Words that are also fixed path segments next to slugs (``/manage/{c}/events/new``...).
RESERVED = frozenset({"new", "edit", "past", "feed", "feeds", "manage", "api", "static"})


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
    base = (slugify(wanted) or fallback)[:max_length].strip("-") or fallback
    taken = set(session.scalars(select(column).where((column == base) | column.like(f"{base}-%"))))
    taken |= RESERVED | set(reserved)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
