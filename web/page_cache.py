"""Rendered public HTML, reused until what it shows changes.

An entry's key holds the shared content version (events/content_version.py: any committed
change to events, venues, registrations... makes a new one, seen by every worker process
within a second through web/content_watch.py), the
current minute (lists drop events that end, "places left" and "over" depend on the time),
the language and whatever the caller adds (path, query string, fragment or full page).
Only anonymous-safe parts are cached: nothing with a session, a CSRF token or a name.
"""

from __future__ import annotations

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


class PageCache:
    """A bounded, thread-safe LRU of rendered HTML (strings, or a page's parts)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._max_entries = max_entries

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
        with self._lock:
            self._entries[key] = html
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


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
