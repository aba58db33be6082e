"""The public read API: lists, filters, cursors, one event, series; ETag and 304; CORS;
drafts never show; bad parameters are problem details."""

from __future__ import annotations

from datetime import UTC, datetime

from events.database import Database
from tests.api.conftest import make_event
from tests.factories import Factories
from tests.web.conftest import Client


def test_events_list_with_times_in_their_zone_and_public_capacity(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(slug="coloc")
    make_event(db, "coloc", title="Pitch night", tags="pitch, talks")
    make_event(db, "coloc", title="Draft idea", publish=False)
    response = client.get("/api/v1/events")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert [e["title"] for e in body["data"]] == ["Pitch night"]
    event = body["data"][0]
    assert event["starts_at"] == "2030-03-07T19:00:00+01:00"
    assert event["timezone"] == "Europe/Paris"
    assert event["places"] == {
        "capacity": 3,
        "taken": 0,
        "places_left": 3,
        "waitlist_enabled": True,
        "registration_open": True,
    }
    assert {t["slug"] for t in event["tags"]} == {"pitch", "talks"}
    assert event["url"].endswith(f"/e/{event['slug']}")
    assert body["next_cursor"] is None


def test_cursor_pages_cover_every_event_once_in_a_stable_order(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(slug="coloc")
    for day in range(1, 8):
        make_event(
            db,
            "coloc",
            title=f"Day {day}",
            starts_local=f"2030-03-0{day}T19:00",
            ends_local=f"2030-03-0{day}T21:00",
        )
    make_event(db, "coloc", title="Same time", starts_local="2030-03-03T19:00")
    seen: list[str] = []
    url = "/api/v1/events?limit=3"
    while url:
        body = client.get(url).json()
        seen += [e["title"] for e in body["data"]]
        url = body["next"].removeprefix("http://testserver.local") if body["next"] else ""
    assert len(seen) == 8 and len(set(seen)) == 8
    assert seen[0] == "Day 1" and seen[-1] == "Day 7"


def test_filters_by_community_tag_status_and_window(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(slug="coloc")
    make.community(slug="other")
    make_event(db, "coloc", title="Tagged", tags="rust")
    make_event(
        db,
        "other",
        title="Elsewhere",
        starts_local="2030-04-01T19:00",
        ends_local="2030-04-01T21:00",
    )

    def titles(query: str) -> list[str]:
        response = client.get(f"/api/v1/events?{query}")
        assert response.status_code == 200, response.text
        return [e["title"] for e in response.json()["data"]]

    assert titles("community=other") == ["Elsewhere"]
    assert titles("tag=rust") == ["Tagged"]
    assert titles("status=cancelled") == []
    assert titles("from=2030-03-20T00:00:00Z") == ["Elsewhere"]
    assert titles("to=2030-03-20T00:00:00%2B01:00") == ["Tagged"]
    assert titles("updated_since=2000-01-01T00:00:00Z") == ["Tagged", "Elsewhere"]
    future = datetime(2100, 1, 1, tzinfo=UTC).isoformat().replace("+", "%2B")
    assert titles(f"updated_since={future}") == []


def test_bad_parameters_are_problem_details_with_codes(client: Client) -> None:
    for query, field in [
        ("cursor=not-a-cursor", "cursor"),
        ("status=draft", "status"),
        ("from=2030-03-20T00:00:00", "from"),
    ]:
        response = client.get(f"/api/v1/events?{query}")
        assert response.status_code == 400, query
        assert response.headers["content-type"] == "application/problem+json"
        assert field in response.json()["fields"]
    assert client.get("/api/v1/events?limit=1000").status_code == 400
    assert client.get("/api/v1/events?from=yesterday").status_code == 400


def test_etag_and_304(client: Client, make: Factories, db: Database) -> None:
    make.community(slug="coloc")
    make_event(db, "coloc")
    first = client.get("/api/v1/events")
    etag = first.headers["etag"]
    again = client.get("/api/v1/events", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    make_event(db, "coloc", title="Another")
    changed = client.get("/api/v1/events", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_one_event_with_programme_and_drafts_hidden(
    client: Client, make: Factories, db: Database
) -> None:
    make.community(slug="coloc")
    event = make_event(db, "coloc")
    draft = make_event(db, "coloc", title="Secret", publish=False)
    body = client.get(f"/api/v1/events/{event.slug}").json()
    assert body["title"] == "Pitch night" and body["programme"] == []
    missing = client.get(f"/api/v1/events/{draft.slug}")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_communities_and_venues(client: Client, make: Factories) -> None:
    make.community(slug="coloc", name="Coloc")
    assert [c["slug"] for c in client.get("/api/v1/communities").json()] == ["coloc"]
    assert client.get("/api/v1/communities/coloc").json()["url"].endswith("/g/coloc")
    assert client.get("/api/v1/venues").json() == []
    assert client.get("/api/v1/venues/nowhere").status_code == 404
    assert client.get("/api/v1/series").json() == []
    assert client.get("/api/v1/series/nothing").status_code == 404
