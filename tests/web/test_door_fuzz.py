"""Whatever is posted to the door's JSON endpoints, the answer is never a 5xx: arbitrary
JSON (the door's own field names with any values, any other value), arbitrary bytes, and
deep nesting, as JSON or as a form, from a volunteer with door access and from nobody."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.database import Database
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.test_door import Side, make_side

FIELDS = (
    "scanned",
    "nonce",
    "device",
    "people",
    "scanned_at",
    "offline",
    "check_in_id",
    "name",
    "guests",
    "email",
)
ENDPOINTS = ("scan", "inspect", "undo", "walk-in", "registrations/{bob}/check-in")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["", "all", "on", "2", "-1", "1e309", "2026-12-03T19:00:00Z", "\ud800"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _dump(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


door_objects = st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, json_values)).map(_dump)
bodies = st.one_of(
    door_objects,
    json_values.map(_dump),
    st.binary(max_size=300),
    st.integers(1, 20_000).map(lambda n: b"[" * n),
    st.integers(1, 5_000).map(lambda n: b'{"scanned":' * n + b'"x"' + b"}" * n),
    st.integers(30, 3_000).map(lambda n: b'{"people": ' + b"9" * n + b"}"),
)
content_types = st.sampled_from(["application/json", "application/x-www-form-urlencoded"])


@pytest.fixture
def ours(make: Factories, db: Database) -> Side:
    return make_side(make, db, "fuzz", "Fuzz night")


@pytest.fixture(params=["door member", "anonymous"])
def poster(
    request: pytest.FixtureRequest, client: Client, db: Database, ours: Side
) -> Iterator[Client]:
    if request.param == "door member":
        client.login_as(db, ours.door)
    client.csrf_token()
    yield client


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, content_type=content_types)
def test_no_body_makes_a_door_endpoint_fail(
    poster: Client,
    ours: Side,
    endpoint: str,
    body: bytes,
    content_type: str,
) -> None:
    url = f"/door/{ours.event.slug}/" + endpoint.format(bob=ours.bob.id)
    answer = poster.post(
        url,
        content=body,
        headers={
            "content-type": content_type,
            "accept": "application/json",
            "x-csrftoken": poster.csrf_token(),
        },
        follow_redirects=False,
    )
    assert answer.status_code < 500, answer.text[:500]
    if answer.status_code >= 400:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["status"] == answer.status_code


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=st.text(max_size=300))
def test_no_search_term_makes_the_search_fail(poster: Client, ours: Side, q: str) -> None:
    answer = poster.get(f"/door/{ours.event.slug}/search", params={"q": q})
    assert answer.status_code < 500, answer.text[:500]
