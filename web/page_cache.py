"""Rendered public HTML, reused until what it shows changes.

An entry's key holds the shared content version (events/content_version.py: any committed
change to events, venues, registrations... makes a new one, seen by every worker process
within a second through web/content_watch.py), the
current minute (lists drop events that end, "places left" and "over" depend on the time),
the language and whatever the caller adds (path, query string, fragment or full page).
Only anonymous-safe parts are cached: nothing with a session, a CSRF token or a name.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from litestar import Request

from events.clock import utcnow
from web.content_watch import ContentWatch
from web.i18n import current_locale

MAX_ENTRIES = 1024
#: Per process: a cached page is 5-60 KB, so the entry bound alone allowed ~60 MiB per
#: worker; the byte bound keeps the two workers' caches within the memory budget
#: (issue 20 item 4, docs/performance.md "Memory").
MAX_BYTES = 16 * 1024 * 1024
T = TypeVar("T")
#: Set on the request that renders a page kept whole (web/whole_pages.py).
SHELL_SCOPE_KEY = "rencontres.whole_page_shell"


def rendering_shell(request: Request) -> bool:
    """Whether this request renders a page shared by every browser without a session
    (web/whole_pages.py): its per-visitor values are left as marks to set in later."""
    return bool(request.scope.get(SHELL_SCOPE_KEY))


def current_minute() -> datetime:
    """The minute a cached page belongs to ("places left", "over" and lists move with it)."""
    return utcnow().replace(second=0, microsecond=0)


def weight(value: Any) -> int:
    """Bytes held by a cached value: its strings and bytes (``sys.getsizeof``, exact for
    them), summed through tuples, lists, dicts, dataclasses and ``__slots__`` objects."""
    if isinstance(value, str | bytes):
        return sys.getsizeof(value)
    if isinstance(value, tuple | list | frozenset | set):
        return sys.getsizeof(value) + sum(weight(item) for item in value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(weight(k) + weight(v) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return sys.getsizeof(value) + sum(weight(getattr(value, f.name)) for f in fields)
    slots = getattr(type(value), "__slots__", None)
    if slots and not isinstance(value, type):
        held = (getattr(value, name, None) for name in slots)
        return sys.getsizeof(value) + sum(weight(item) for item in held)
    return sys.getsizeof(value)


class PageCache:
    """A bounded, thread-safe LRU of rendered HTML (strings, or a page's parts): at most
    ``max_entries`` entries and ``max_bytes`` bytes (:func:`weight`, taken when an entry
    is stored)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._weights: dict[Hashable, int] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self._max_entries = max_entries
        self._max_bytes = max_bytes

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def held_bytes(self) -> int:
        return self._bytes

    def peek(self, key: Hashable) -> Any | None:
        """The entry under ``key``, if any (marked as recently used)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def get_or_render(self, key: Hashable, render: Callable[[], T]) -> T:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                cached: T = self._entries[key]
                return cached
        html = render()  # outside the lock: two threads may render the same page once each
        size = weight(html)
        with self._lock:
            self._bytes += size - self._weights.get(key, 0)
            self._entries[key], self._weights[key] = html, size
            self._entries.move_to_end(key)
            while self._entries and (
                len(self._entries) > self._max_entries or self._bytes > self._max_bytes
            ):
                evicted, _value = self._entries.popitem(last=False)
                self._bytes -= self._weights.pop(evicted)
        return html

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weights.clear()
            self._bytes = 0


def template_engine(request: Request) -> Any:
    """The app's Jinja environment (the app is built with its templates, web/templating.py)."""
    engine = request.app.template_engine
    assert engine is not None
    return engine.engine


def render_to_string(request: Request, template_name: str, **context: Any) -> str:
    engine = request.app.template_engine
    assert engine is not None  # the app is built with its templates (web/templating.py)
    rendered: str = engine.get_template(template_name).render(**context)
    return rendered


def cached_html(request: Request, parts: tuple[Hashable, ...], render: Callable[[], T]) -> T:
    """``render()``'s HTML, reused while the content version, minute and language hold.

    The version comes from the process's :class:`~web.content_watch.ContentWatch`: a
    change made here shows at once, one made by another process within a second."""
    minute = current_minute()
    watch: ContentWatch = request.app.state.content_watch
    key = (watch.current_in_thread(), minute, current_locale.get(), *parts)
    cache: PageCache = request.app.state.page_cache
    return cache.get_or_render(key, render)
