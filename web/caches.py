"""Every in-process cache, and its bound: the rule is that none grows without one.

A worker process lives for weeks; a cache keyed by anything that keeps changing (content
versions, minutes, events, tickets, listings) grows with time unless it is bounded, and
two workers must stay within the memory budget (issue 20 item 4, docs/performance.md
"Memory": at rest <= 250 MiB, after the benchmark load <= 350 MiB, PSS of the whole
server). So each cache is bounded by entries and, where an entry's size varies with the
data (rendered pages, feeds), by bytes too. A new cache is added to :data:`CACHES`;
tests/web/test_cache_bounds.py fills each one past its bound.

The worst case per worker of the caches with a size that grows with the data: pages 16 MiB,
whole public pages 8 MiB (~4 MiB at their 256 entries), cards 16 MiB, feeds 24 MiB (+ served
feeds 24 MiB sharing those bodies), feed blocks ~20 MiB (20,000 of ~1 KB), QR codes ~7 MiB
(512 SVGs of ~13 KB), board listings, rankings and matches a few MiB (the rankings' memos
50,000 positions and agreements, ~6 MiB at most); board watches 256 (one snapshot
each). The caches of statements, translations and time zones hold one entry per dialect,
language or zone table.

Not listed: the libraries' own bounded caches (SQLAlchemy's compiled statements, 500 per
engine; Jinja's templates, 400 per environment).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import events.attempts
import events.calendar
import events.mail.i18n
import events.mail.render
import events.qr
import events.services.call_allowances
import events.services.exchange_categories
import events.services.exchange_listings
import events.services.exchange_matching
import events.services.supports
import web.i18n
import web.listing_faces
import web.store
import web.whole_pages as whole_pages
from events.services import exchange_categories, exchange_listings, exchange_matching
from web.app import CARD_CACHE_ENTRIES
from web.board.live import MAX_WATCHED_BOARDS
from web.controllers import feeds
from web.page_cache import MAX_BYTES, MAX_ENTRIES


@dataclass(frozen=True)
class CacheBound:
    """One cache: where it is, how many entries it may hold, and how to count them."""

    name: str
    max_entries: int
    held: Callable[[Any], int]  # entries held now; receives the app (for app.state caches)
    max_bytes: int | None = None

    @property
    def bound(self) -> str:
        size = f", {self.max_bytes / 2**20:g} MiB" if self.max_bytes is not None else ""
        return f"<= {self.max_entries:,} entries{size}"


def _lru(function: Any) -> CacheBound:
    """A ``functools.lru_cache``-wrapped function, bounded by its ``maxsize``."""
    maxsize = function.cache_parameters()["maxsize"]
    assert maxsize is not None, f"{function.__qualname__} is unbounded"
    name = f"{function.__module__}.{function.__qualname__}"
    return CacheBound(name, maxsize, lambda _app: function.cache_info().currsize)


def _kept(module: ModuleType, name: str, max_entries: int) -> CacheBound:
    """A module's dict ``name``, bounded by ``max_entries``."""
    return CacheBound(
        f"{module.__name__}.{name}", max_entries, lambda _app: len(getattr(module, name))
    )


def _state(key: str, max_entries: int) -> CacheBound:
    """A :class:`~web.page_cache.PageCache` kept in ``app.state``."""
    return CacheBound(
        f"app.state.{key}", max_entries, lambda app: len(app.state[key]), max_bytes=MAX_BYTES
    )


CACHES: tuple[CacheBound, ...] = (
    _state("page_cache", MAX_ENTRIES),
    _state("card_cache", CARD_CACHE_ENTRIES),
    CacheBound("app.state.board_watch", MAX_WATCHED_BOARDS, lambda app: len(app.state.board_watch)),
    CacheBound(
        "app.state.whole_pages",
        whole_pages.MAX_PAGES,
        lambda app: len(app.state.whole_pages),
        max_bytes=whole_pages.MAX_BYTES,
    ),
    CacheBound(
        "web.controllers.feeds.RENDERED",
        feeds.RENDERED_CACHE_ENTRIES,
        lambda _app: len(feeds.RENDERED),
        max_bytes=feeds.RENDERED_CACHE_BYTES,
    ),
    CacheBound(
        "web.controllers.feeds.SERVED",
        feeds.SERVED_CACHE_ENTRIES,
        lambda _app: len(feeds.SERVED),
        max_bytes=feeds.RENDERED_CACHE_BYTES,
    ),
    _lru(events.calendar._block),
    _lru(events.calendar._header),
    _lru(events.calendar._vtimezone_block),
    _lru(events.qr.qr_png),
    _lru(events.qr.qr_svg),
    _lru(events.services.exchange_matching._fold),
    _lru(events.services.exchange_matching._words),
    _kept(exchange_matching, "_AGREEMENTS", exchange_matching.AGREEMENTS_KEPT),
    _kept(exchange_matching, "_PASSES", exchange_matching.AGREEMENTS_KEPT),
    _kept(exchange_matching, "_NUMBERS", exchange_matching.AGREEMENTS_KEPT),
    _kept(exchange_matching, "_PASSING", exchange_matching.MEMO_KEPT),
    _kept(exchange_matching, "_AGREEING", exchange_matching.MEMO_KEPT),
    _kept(exchange_categories, "_PARSED", exchange_categories.PARSED_KEPT),
    _kept(exchange_listings, "_BOARDS", exchange_listings.BOARDS_KEPT),
    _kept(web.listing_faces, "_ITEMS", web.listing_faces.FACES_KEPT),
    _kept(web.listing_faces, "_REASONS", web.listing_faces.FACES_KEPT),
    _kept(web.listing_faces, "_FORMS", web.listing_faces.FACES_KEPT),
    _lru(web.i18n.translations),
    _lru(events.mail.i18n.translations),
    _lru(events.mail.render.environment),
    _lru(events.attempts._counting),
    _lru(events.services.call_allowances._taking),
    _lru(events.services.supports._inserting),
    _lru(web.store._upsert_statement),
)
