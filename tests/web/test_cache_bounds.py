"""Every in-process cache is bounded (web/caches.py, issue 20 item 4): each one filled past
its bound holds at most that bound, and a new cache cannot slip in unlisted."""

from __future__ import annotations

import ast
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar import Litestar

import events.mail.i18n
import events.services.exchange_matching as matching
import web.i18n
from tests.web.conftest import Client
from web.board.live import MAX_WATCHED_BOARDS, BoardWatch
from web.caches import CACHES, CacheBound
from web.conditional import Rendered
from web.controllers.feeds import RenderedCache
from web.page_cache import PageCache, weight

ROOT = Path(__file__).resolve().parents[2]
REGISTERED = {cache.name for cache in CACHES}


def _decorated_functions(package: str) -> list[tuple[str, ast.FunctionDef, str]]:
    """(module, function, decorator name) for each ``cache``/``lru_cache`` decorator."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = getattr(target, "id", None) or getattr(target, "attr", None)
                if name in {"cache", "lru_cache"}:
                    found.append((module, node, name))
    return found


def test_every_function_cache_is_listed_or_holds_a_single_value() -> None:
    decorated = _decorated_functions("events") + _decorated_functions("web")
    assert len(decorated) > 10  # the walk finds them (negative control of the check below)
    for module, function, decorator in decorated:
        arguments = function.args.args + function.args.kwonlyargs
        if decorator == "cache":
            # Unbounded by entries, so only for a function without arguments (one value).
            assert not arguments, f"{module}.{function.name}: use lru_cache(maxsize=...)"
        else:
            assert f"{module}.{function.name}" in REGISTERED, f"add {function.name} to CACHES"


@pytest.mark.parametrize("cache", CACHES, ids=lambda cache: cache.name)
def test_each_listed_cache_has_a_bound(cache: CacheBound) -> None:
    assert 0 < cache.max_entries <= 50_000
    assert cache.max_bytes is None or cache.max_bytes <= 24 * 2**20


def test_the_page_cache_holds_at_most_its_entries() -> None:
    store = PageCache(max_entries=10, max_bytes=10**9)
    for n in range(25):
        assert store.get_or_render(("page", n), lambda n=n: f"<p>{n}</p>") == f"<p>{n}</p>"
    assert len(store) == 10
    assert store.peek(("page", 24)) == "<p>24</p>"  # the newest stay, the oldest go
    assert store.peek(("page", 0)) is None


def test_the_page_cache_holds_at_most_its_bytes() -> None:
    page = "x" * 10_000
    store = PageCache(max_entries=1_000, max_bytes=100_000)
    for n in range(50):
        store.get_or_render(n, lambda: (page, "tail"))  # a page's parts count too
    assert store.held_bytes <= 100_000
    assert 8 <= len(store) <= 10
    assert store.held_bytes == sum(weight(store.peek(n)) for n in range(50) if store.peek(n))


def test_the_feed_cache_counts_compressed_forms_in_its_bytes() -> None:
    body = random.Random(20).randbytes(102_400)  # compresses to about its own size
    store = RenderedCache(max_bytes=350_000, max_entries=100)
    for n in range(3):
        store.get_or_render((str(n),), lambda: body)
    assert len(store) == 3 and store.held_bytes == 3 * len(body)
    for n in range(3):  # a client asks for each in gzip, then each is read again
        store.get_or_render((str(n),), lambda: body).encoded("gzip")
    for n in range(3):
        store.get_or_render((str(n),), lambda: body)
    assert store.held_bytes <= 350_000
    assert len(store) < 3  # the compressed forms pushed the oldest out


def test_the_feed_cache_holds_at_most_its_entries() -> None:
    store = RenderedCache(max_bytes=10**9, max_entries=5)
    for n in range(12):
        store.get_or_render((str(n),), lambda n=n: str(n).encode())
    assert len(store) == 5


def test_a_board_watch_forgets_the_least_recently_asked_board() -> None:
    watch = BoardWatch(db=None)  # only the bookkeeping is used
    kept = uuid.uuid4()
    first = watch._watched(kept)
    for _ in range(MAX_WATCHED_BOARDS + 50):
        watch._watched(uuid.uuid4())
        watch._watched(kept)  # asked for all along: never forgotten
    assert len(watch) == MAX_WATCHED_BOARDS
    assert watch._watched(kept) is first


def test_the_matching_numbers_are_cleared_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "_NUMBERS", {})
    for n in range(matching.AGREEMENTS_KEPT + 10):
        matching._number_of(("filter", n))
    assert len(matching._NUMBERS) <= matching.AGREEMENTS_KEPT


def test_the_parsed_categories_are_cleared_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    import events.services.exchange_categories as categories

    monkeypatch.setattr(categories, "_PARSED", {})
    stored = {"id": "room", "label": "Room", "offer": "Offered", "need": "Sought"}
    for n in range(categories.PARSED_KEPT + 10):
        found = categories.all_categories([{**stored, "label": f"Room {n}"}])
        assert [category.label for category in found] == [f"Room {n}"]
    assert 0 < len(categories._PARSED) <= categories.PARSED_KEPT


@pytest.mark.parametrize("translations", [web.i18n.translations, events.mail.i18n.translations])
def test_translations_keep_at_most_one_catalogue_per_language(translations: object) -> None:
    for locale in ("en", "fr", "de", "es", "it", "xx", "en"):
        translations(locale)  # type: ignore[operator]
    assert translations.cache_info().currsize <= 3  # type: ignore[attr-defined]


def test_the_app_state_caches_are_the_bounded_kind(app: Litestar, client: Client) -> None:
    # ``client`` starts the app, which lets go of what an earlier test of this process
    # left in it (the apps are kept between tests, tests/web/conftest.py).
    listed = [cache for cache in CACHES if cache.name.startswith("app.state.")]
    assert {cache.name for cache in listed} == {
        "app.state.page_cache",
        "app.state.card_cache",
        "app.state.board_watch",
        "app.state.whole_pages",
    }
    for cache in listed:
        assert cache.held(app) == 0  # countable on a real app
    assert isinstance(app.state.page_cache, PageCache)
    assert isinstance(app.state.card_cache, PageCache)


def test_rendered_size_grows_with_its_compressed_forms() -> None:
    rendered = Rendered(b"a" * 10_000)
    assert rendered.size == 10_000
    rendered.encoded("gzip")
    assert rendered.size > 10_000


def test_the_kept_board_lists_are_bounded_by_boards_and_listings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import events.services.exchange_listings as listings

    monkeypatch.setattr(listings, "_BOARDS", {})
    monkeypatch.setattr(listings, "_HELD", [0])
    for _n in range(listings.BOARDS_KEPT + 10):
        listings.keep(uuid.uuid4(), ("a", "b"), ())
    assert 0 < len(listings._BOARDS) <= listings.BOARDS_KEPT
    view = listings.ListingView(
        id=uuid.uuid4(),
        participant_id=uuid.uuid4(),
        category="room",
        side="offer",
        text="",
        details={},
        display_name="",
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )
    for _n in range(3):  # each board as big as a third of the listings kept, then more
        listings.keep(uuid.uuid4(), ("a", "b"), (view,) * (listings.LISTINGS_KEPT // 3))
    listings.keep(uuid.uuid4(), ("a", "b"), (view,) * 10)
    held = sum(len(kept.views) for kept in listings._BOARDS.values())
    assert held == listings._HELD[0] <= listings.LISTINGS_KEPT
    assert len(listings._BOARDS) == 1
