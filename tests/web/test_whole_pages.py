"""Public pages kept whole for browsers without a session (web/whole_pages.py): each
browser gets its own CSRF token and a fresh form nonce in a page rendered once, gzip
without compressing per request, 304 for a browser that keeps its cookie, and nothing of
it for organisers, htmx fragments or pages that are not 200."""

from __future__ import annotations

import asyncio
import gzip
import re
import subprocess
import time
import zlib

import httpx
import pytest
from litestar import Litestar

from events.database import Database
from tests.async_runner import run_coroutine
from tests.conftest import BASE_URL
from tests.domain.test_registrations import open_event
from tests.factories import Factories
from tests.web.conftest import Client
from web import controllers
from web.csrf import binding_of, token_for
from web.gzip_segments import GzipSegments
from web.whole_pages import WholePages

TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
NONCE = re.compile(r'name="request_key" value="([^"]+)"')
GZIP = {"accept-encoding": "gzip, deflate, br"}


def token_of(app: Litestar, client: httpx.Client) -> str:
    binding = binding_of(dict(client.cookies))
    assert binding is not None
    return token_for(app.state.settings.secret_key, binding)


# -- gzip from segments ----------------------------------------------------------------------
@pytest.mark.parametrize("cuts", [0, 1, 3])
def test_segments_and_values_decode_with_an_independent_gzip(cuts: int) -> None:
    """GNU gzip has its own inflate (not zlib's): it must read what we join."""
    page = ("<p>Soirée coloc — ünïcödé</p>" * 400).encode()
    size = len(page) // (cuts + 1)
    segments = [page[i * size : (i + 1) * size] for i in range(cuts)] + [page[cuts * size :]]
    values = [f"value-{n}-{'x' * n}".encode() for n in range(cuts)]
    joined = GzipSegments(segments)

    expected = segments[0] + b"".join(v + s for v, s in zip(values, segments[1:], strict=True))
    body = joined.gzip(values)
    assert joined.identity(values) == expected
    assert gzip.decompress(body) == expected
    decoded = subprocess.run(["gzip", "-dc"], input=body, capture_output=True, check=True)
    assert decoded.stdout == expected
    assert len(body) < len(expected) / 5  # compressed, not stored
    with pytest.raises(ValueError):
        joined.gzip([*values, b"one too many"])


def test_a_value_is_stored_not_compressed() -> None:
    """The per-request part costs no compression: a repetitive value stays its size."""
    joined = GzipSegments([b"<p>a</p>" * 100, b"<p>b</p>" * 100])
    small, large = joined.gzip([b"x"]), joined.gzip([b"x" * 5000])
    assert len(large) - len(small) >= 4999
    assert zlib.decompress(large, 31).count(b"x") == 5000


# -- the pages -------------------------------------------------------------------------------
def test_browsers_without_a_session_share_one_rendering_with_their_own_values(
    app: Litestar,
    client: Client,
    other_client: Client,
    db: Database,
    make: Factories,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = open_event(db, make, capacity="40")
    renders: list[str] = []
    original = controllers.public_events.render_event_parts

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        renders.append("event")
        return original(*args, **kwargs)

    monkeypatch.setattr(controllers.public_events, "render_event_parts", counted)

    first = client.get(f"/e/{event.slug}", headers=GZIP)
    second = other_client.get(f"/e/{event.slug}", headers=GZIP)
    again = client.get(f"/e/{event.slug}", headers=GZIP)

    assert len(renders) == 1  # rendered once for all three
    for response, browser in ((first, client), (second, other_client), (again, client)):
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert "content-security-policy" in response.headers  # still wrapped by security
        assert response.headers["cache-control"] == "private, no-cache"
        tokens = set(TOKEN.findall(response.text))
        assert tokens == {token_of(app, browser)}, "each browser sees its own token only"
        assert "40 places left." in response.text
    assert "set-cookie" in first.headers and "set-cookie" not in again.headers
    nonces = [NONCE.findall(r.text) for r in (first, second, again)]
    assert all(len(n) == 1 for n in nonces)
    assert len({n[0] for n in nonces}) == 3, "a fresh form nonce on every page"
    assert app.state.whole_pages._shell_token.decode() not in first.text


def test_a_form_from_the_kept_page_registers_and_the_page_follows(
    app: Litestar, client: Client, other_client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make, capacity="40")
    page = client.get(f"/e/{event.slug}")
    data = {
        "_csrf_token": TOKEN.findall(page.text)[0],
        "request_key": NONCE.findall(page.text)[0],
        "name": "Ada",
        "email": "ada@example.org",
        "consent": "on",
    }
    # Negative control: another browser cannot post this browser's token.
    other_client.get(f"/e/{event.slug}")
    refused = other_client.post(f"/e/{event.slug}/register", data=data)
    assert refused.status_code == 403

    done = client.post(f"/e/{event.slug}/register", data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    # The registration is a new content version: the next page shows it at once.
    assert "39 places left." in other_client.get(f"/e/{event.slug}").text


def test_a_browser_that_keeps_its_cookie_revalidates_with_304(
    app: Litestar, client: Client, other_client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    first = client.get(f"/e/{event.slug}", headers=GZIP)
    tag = first.headers["etag"]
    assert tag.startswith('W/"')

    again = client.get(f"/e/{event.slug}", headers={**GZIP, "if-none-match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag

    # Another browser's tag is another token's: it gets its own page.
    other_client.get("/")
    other = other_client.get(f"/e/{event.slug}", headers={"if-none-match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag
    # A browser without its cookie any more gets the page and a new cookie, never a 304.
    bare = httpx.Client(transport=client._transport, base_url=BASE_URL)
    fresh = bare.get(f"/e/{event.slug}", headers={"if-none-match": tag})
    assert fresh.status_code == 200 and "set-cookie" in fresh.headers


def test_sessions_fragments_queries_and_errors_go_through_the_application(
    app: Litestar, client: Client, db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    kept: WholePages = app.state.whole_pages
    kept.clear()
    assert client.get("/e/no-such-event").status_code == 404
    assert client.get("/", params={"q": "coloc"}).status_code == 200
    assert client.get("/", headers={"HX-Request": "true"}).status_code == 200
    assert client.post(f"/e/{event.slug}").status_code in {403, 405}
    assert len(kept._pages) == 0

    organiser = make.user()
    client.login_as(db, organiser)
    text = client.get(f"/e/{event.slug}").text
    assert "Log out" in text
    assert len(kept._pages) == 0

    head = httpx.Client(transport=client._transport, base_url=BASE_URL).head(f"/e/{event.slug}")
    assert head.status_code == 200 and head.content == b""
    assert len(kept._pages) == 1


def test_kept_pages_are_bounded_by_count_and_bytes(
    client: Client, app: Litestar, db: Database, make: Factories
) -> None:
    kept: WholePages = app.state.whole_pages
    events = [open_event(db, make) for _ in range(3)]
    kept._max_pages = 2
    for event in events:
        assert client.get(f"/e/{event.slug}").status_code == 200
    assert len(kept._pages) == 2
    assert kept._bytes == sum(p.segments.size for p in kept._pages.values())

    kept._max_bytes = max(p.segments.size for p in kept._pages.values())
    client.get(f"/e/{events[0].slug}")
    assert len(kept._pages) == 1 and kept._bytes <= kept._max_bytes


@pytest.mark.parametrize("wait_for_the_first", [True, False], ids=["single-flight", "control"])
def test_browsers_missing_the_same_page_at_once_cost_one_rendering(
    app: Litestar,
    db: Database,
    make: Factories,
    monkeypatch: pytest.MonkeyPatch,
    wait_for_the_first: bool,
) -> None:
    event = open_event(db, make)
    renders: list[str] = []
    original = controllers.public_events.render_event_parts

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        renders.append("event")
        time.sleep(0.2)  # long enough for every request to miss the page meanwhile
        return original(*args, **kwargs)

    monkeypatch.setattr(controllers.public_events, "render_event_parts", slow)
    kept: WholePages = app.state.whole_pages
    if not wait_for_the_first:  # negative control: every miss renders for itself
        monkeypatch.setattr(kept, "_rendering", NeverPending())

    async def twelve_browsers() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as browser:
            return await asyncio.gather(*(browser.get(f"/e/{event.slug}") for _ in range(12)))

    answers = run_coroutine(twelve_browsers())
    assert [a.status_code for a in answers] == [200] * 12
    assert len({TOKEN.findall(a.text)[0] for a in answers}) == 12
    if wait_for_the_first:
        assert len(renders) == 1
    else:
        assert len(renders) > 1


class NeverPending(dict):  # type: ignore[type-arg]
    """A map of renderings in progress that never finds one."""

    def get(self, key, default=None):  # type: ignore[no-untyped-def]
        return None
