"""Compression (web/compression.py): the coding each ``Accept-Encoding`` gets, text bodies
compressed and images not, the bytes decompressing to the identity body, one ETag per
coding with working 304s, and cached feeds compressed once, not per request."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import brotli
import httpx
import pytest
from PIL import Image

from events.database import Database
from tests.domain.test_cover_images import RED, image_bytes
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.test_cover_images import make_event, set_cover
from tests.web.test_feeds import create_event
from web import conditional
from web.compression import is_compressible, negotiate
from web.conditional import Rendered

DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "br": brotli.decompress,
    "gzip": gzip.decompress,
}


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("br", "br"),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.4", "gzip"),
        ("gzip;q=0.5, br;q=0.5", "br"),
        ("*", "br"),
        ("gzip;q=0, *", "br"),
        ("br;q=0, gzip;q=0, *;q=1", "identity"),
        ("*;q=0", "identity"),
        ("identity", "identity"),
        ("deflate", "identity"),
        ("", "identity"),
        ("gzip;q=nonsense", "identity"),
    ],
)
def test_negotiation_follows_the_weights(accept_encoding: str, coding: str) -> None:
    assert negotiate(accept_encoding) == coding


@pytest.mark.parametrize(
    ("media_type", "compressible"),
    [
        ("text/html; charset=utf-8", True),
        ("text/css", True),
        ("text/javascript", True),
        ("application/json", True),
        ("text/calendar; charset=utf-8", True),
        ("application/atom+xml", True),
        ("image/svg+xml", True),
        ("application/problem+json", True),
        ("image/jpeg", False),
        ("image/png", False),
        ("text/event-stream", False),
        ("application/octet-stream", False),
    ],
)
def test_only_text_is_compressed(media_type: str, compressible: bool) -> None:
    assert is_compressible(media_type) is compressible


def raw_get(client: Client, url: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent (not decoded by httpx)."""
    with client.stream("GET", url, headers=headers) as response:
        return response, b"".join(response.iter_raw())


@pytest.fixture
def site(db: Database, make: Factories) -> dict[str, str]:
    """One URL per content type, each with a body worth compressing."""
    for n in range(12):
        make.community(slug=f"group-{n}", name=f"Community number {n}")
    for day in range(1, 8):
        create_event(
            db, "group-1", starts_local=f"2031-03-0{day}T19:00", ends_local=f"2031-03-0{day}T21:00"
        )
    return {
        "text/html": "/privacy",
        "text/css": "/static/css/app.css",
        "text/javascript": "/static/js/door.js",
        "application/json": "/api/v1/communities",
        "text/calendar": "/feeds/all.ics",
        "application/atom+xml": "/feeds/all.atom",
    }


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_each_text_type_comes_back_compressed(
    client: Client, site: dict[str, str], coding: str
) -> None:
    for media_type, url in site.items():
        plain, plain_raw = raw_get(client, url, **{"accept-encoding": "identity"})
        assert plain.status_code == 200, url
        assert plain.headers["content-type"].startswith(media_type), url
        assert "content-encoding" not in plain.headers, url
        packed, packed_raw = raw_get(client, url, **{"accept-encoding": coding})
        assert packed.headers["content-encoding"] == coding, url
        assert "accept-encoding" in packed.headers["vary"].lower(), url
        assert len(packed_raw) < len(plain_raw), url
        # Streamed bodies (static files) go chunked, without a length.
        assert packed.headers.get("content-length", str(len(packed_raw))) == str(len(packed_raw))
        assert DECOMPRESS[coding](packed_raw) == plain_raw, url


def test_images_and_small_bodies_are_sent_as_they_are(
    client: Client, db: Database, make: Factories
) -> None:
    make.community(slug="coloc")
    slug = make_event(db)
    version = set_cover(db, slug, image_bytes(Image.new("RGB", (800, 400), RED), "PNG"))
    for url in (f"/e/{slug}/cover.jpg?v={version}", "/static/favicon.svg", "/healthz"):
        response, _raw = raw_get(client, url, **{"accept-encoding": "br, gzip"})
        assert response.status_code == 200, url
        assert "content-encoding" not in response.headers, url


@pytest.mark.parametrize("url", ["/feeds/all.ics", "/feeds/all.atom"])
def test_each_coding_has_its_own_etag_and_revalidates(
    client: Client, site: dict[str, str], url: str
) -> None:
    tags = {}
    for coding in ("identity", "gzip", "br"):
        response = client.get(url, headers={"accept-encoding": coding})
        tags[coding] = response.headers["etag"]
        again = client.get(url, headers={"accept-encoding": coding, "if-none-match": tags[coding]})
        assert again.status_code == 304 and again.content == b"", coding
        assert again.headers["etag"] == tags[coding]
        assert "content-encoding" not in again.headers
    assert len(set(tags.values())) == 3
    assert tags["gzip"] == tags["identity"][:-1] + '-gz"'
    assert tags["br"] == tags["identity"][:-1] + '-br"'
    # Another coding's tag does not validate these bytes: the client gets the body.
    crossed = client.get(url, headers={"accept-encoding": "br", "if-none-match": tags["gzip"]})
    assert crossed.status_code == 200 and crossed.headers["etag"] == tags["br"]


def test_a_static_file_compressed_on_the_way_out_gets_a_weak_etag(client: Client) -> None:
    plain = client.get("/static/css/app.css", headers={"accept-encoding": "identity"})
    packed = client.get("/static/css/app.css", headers={"accept-encoding": "br"})
    assert not plain.headers["etag"].startswith("W/")
    assert packed.headers["etag"] == f"W/{plain.headers['etag']}"


def test_a_cached_feed_is_compressed_once_not_per_request(
    client: Client, site: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = conditional.compress

    def counting(body: bytes, coding: str) -> bytes:
        calls.append(coding)
        return real(body, coding)

    monkeypatch.setattr(conditional, "compress", counting)
    for _round in range(3):
        for coding in ("br", "gzip", "identity"):
            response = client.get("/feeds/all.atom", headers={"accept-encoding": coding})
            assert response.status_code == 200
    assert sorted(calls) == ["br", "gzip"]


def test_rendered_keeps_each_coding() -> None:
    rendered = Rendered(b"<feed>" + b"event " * 200 + b"</feed>")
    first = rendered.encoded("br")
    assert rendered.encoded("br") is first
    assert brotli.decompress(first) == rendered.body
    assert gzip.decompress(rendered.encoded("gzip")) == rendered.body
    assert rendered.encoded("identity") is rendered.body
