"""The conditional-GET rule of web/conditional.py, on its own (the routes that use it test
it again over HTTP: feeds, event covers, ticket QR codes)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import httpx
import pytest
from litestar import Litestar, Request, Response, get
from litestar.testing import TestClient

from web.conditional import (
    body_etag,
    coded_etag,
    conditional_response,
    etag_matches,
    modified_since_matches,
    not_modified,
)

ETAG = '"0123456789abcdef"'


def matching_headers(etag: str) -> list[str]:
    """``If-None-Match`` values that every route with ``etag`` must answer with a 304."""
    opaque = etag.removeprefix("W/")
    return [
        etag,
        f"W/{opaque}",
        f"w/{opaque}",
        f'"other", {etag}',
        f'"other",W/{opaque}',
        f'  {opaque}  ,"other"',
        "*",
    ]


def assert_revalidates(
    client: httpx.Client, url: str, first: httpx.Response, headers: dict[str, str] | None = None
) -> None:
    """Every matching ``If-None-Match`` answers 304, empty, with ``first``'s ETag and
    Cache-Control; another tag gets ``first``'s body again."""
    etag = first.headers["etag"]
    for header in matching_headers(etag):
        again = client.get(url, headers={**(headers or {}), "if-none-match": header})
        assert again.status_code == 304 and again.content == b"", header
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == first.headers["cache-control"]
    other = client.get(url, headers={**(headers or {}), "if-none-match": '"other"'})
    assert other.status_code == 200 and other.content == first.content


def unmatched_headers(etag: str) -> list[str]:
    opaque = etag.removeprefix("W/")
    return ['"other"', "", opaque.strip('"'), f'"{opaque}"', f"X/{opaque}", '"other", W/"x"']


@pytest.mark.parametrize("header", matching_headers(ETAG))
def test_a_listed_tag_matches_by_the_weak_comparison(header: str) -> None:
    assert etag_matches(header, ETAG)


@pytest.mark.parametrize("header", unmatched_headers(ETAG))
def test_other_or_malformed_tags_do_not_match(header: str) -> None:
    assert not etag_matches(header, ETAG)


def test_a_weak_server_tag_matches_its_strong_form_and_back() -> None:
    assert etag_matches(ETAG, f"W/{ETAG}")
    assert etag_matches(f"W/{ETAG}", f"W/{ETAG}")
    assert not etag_matches('"other"', f"W/{ETAG}")


def test_junk_before_a_valid_tag_is_skipped() -> None:
    assert etag_matches(f"garbage, {ETAG}", ETAG)
    assert not etag_matches('"a"b, "c"', '"a"')


def test_body_etag_is_the_quoted_sha256_prefix() -> None:
    body = b"BEGIN:VCALENDAR"
    assert body_etag(body) == f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    assert body_etag(body) != body_etag(body + b"\r\n")


def test_each_coding_has_its_own_tag() -> None:
    assert coded_etag(ETAG, "identity") == ETAG
    assert coded_etag(ETAG, "gzip") == '"0123456789abcdef-gz"'
    assert coded_etag(ETAG, "br") == '"0123456789abcdef-br"'
    assert coded_etag(f"W/{ETAG}", "br") == 'W/"0123456789abcdef-br"'
    assert not etag_matches(coded_etag(ETAG, "gzip"), coded_etag(ETAG, "br"))
    assert not etag_matches(ETAG, coded_etag(ETAG, "gzip"))


def test_if_modified_since_to_the_second() -> None:
    changed = datetime(2031, 3, 6, 19, 0, 0, 500_000, tzinfo=UTC)
    assert modified_since_matches("Thu, 06 Mar 2031 19:00:00 GMT", changed)
    assert modified_since_matches("Thu, 06 Mar 2031 20:00:00 GMT", changed)
    assert not modified_since_matches("Thu, 06 Mar 2031 18:59:59 GMT", changed)
    assert not modified_since_matches("not a date", changed)
    assert not modified_since_matches("", changed)
    assert not modified_since_matches("Thu, 06 Mar 2031 19:00:00 GMT", None)


def test_a_304_keeps_the_validators_and_drops_the_body_headers() -> None:
    response = not_modified(
        {
            "ETag": ETAG,
            "Cache-Control": "public, max-age=300",
            "Vary": "Accept-Encoding",
            "Content-Encoding": "gzip",
            "Content-Disposition": 'inline; filename="all.ics"',
            "content-length": "12",
        }
    )
    assert response.status_code == 304
    assert response.content == b""
    assert {name.lower() for name in response.headers} == {"etag", "cache-control", "vary"}


BODY = b"hello, conditional world"
LAST_MODIFIED = datetime(2031, 3, 6, 19, 0, tzinfo=UTC)


@get("/thing", sync_to_thread=False)
def thing(request: Request) -> Response[bytes]:
    return conditional_response(
        request,
        BODY,
        etag=body_etag(BODY),
        media_type="text/plain",
        headers={"cache-control": "no-cache", "content-disposition": "inline"},
        last_modified=LAST_MODIFIED,
    )


def test_over_http_200_304_and_if_none_match_before_if_modified_since() -> None:
    with TestClient(Litestar([thing])) as client:
        first = client.get("/thing")
        assert first.status_code == 200 and first.content == BODY
        assert first.headers["etag"] == body_etag(BODY)
        assert_revalidates(client, "/thing", first)
        again = client.get("/thing", headers={"if-none-match": f"w/{body_etag(BODY)}"})
        assert again.status_code == 304 and "content-disposition" not in again.headers
        since = "Thu, 06 Mar 2031 19:00:00 GMT"
        assert client.get("/thing", headers={"if-modified-since": since}).status_code == 304
        both = {"if-modified-since": since, "if-none-match": '"other"'}
        assert client.get("/thing", headers=both).status_code == 200
