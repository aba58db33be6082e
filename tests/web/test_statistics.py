"""Community statistics through HTTP: the public page (SVG charts with their table, small
numbers hidden), its CSV and JSON open data with the licence, the cache, the organisers'
exact version."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import update

from events.clock import utcnow
from events.database import Database
from events.models import Event, Registration
from tests.domain.test_feedback import came
from tests.domain.test_registrations import person, register
from tests.domain.test_statistics import past
from tests.web.conftest import Client
from tests.web.test_manage_attendees import open_event
from web import page_cache


def one_past_month(db: Database) -> Event:
    """One event last month: 12 registered, 9 came (3 no-shows: a small number)."""
    event = open_event(db, capacity="50")
    for n in range(9):
        came(db, event, n)
    for n in range(9, 12):
        register(db, event, person(n))
    past(db, event, 1)
    return event


def test_the_public_page_hides_small_numbers(
    coloc_organiser: Client, db: Database, other_client: Client
) -> None:
    one_past_month(db)
    page = other_client.get("/g/coloc/stats")
    assert page.status_code == 200
    assert page.text.count("<svg") == 2 and 'role="img"' in page.text
    assert '<title id="chart-events-title">Events per month</title>' in page.text
    # 3 no-shows: "<5"; 12 registered and 9 came would give them away: suppressed.
    assert "<td>suppressed</td><td>suppressed</td><td>&lt;5</td>" in page.text
    assert "Proposals</th>" in page.text and "needs matches</th>" in page.text, page.text[-4000:]
    assert "<td>9</td>" not in page.text
    assert 'rel="license"' in page.text and "ODbL-1.0" in page.text
    # The organisers see every number.
    exact = coloc_organiser.get("/manage/coloc/stats")
    assert exact.status_code == 200 and "<td>12</td><td>9</td>" in exact.text


def test_open_data_as_csv_and_json(
    coloc_organiser: Client, db: Database, other_client: Client
) -> None:
    one_past_month(db)
    answer = other_client.get("/g/coloc/stats.json")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "application/json"
    )
    assert answer.headers["link"].endswith('rel="license"')
    assert "set-cookie" not in answer.headers
    document = answer.json()
    assert document["licence"]["name"] == "ODbL-1.0"
    [month] = document["months"]
    assert (month["events"], month["no_shows"], month["registered"]) == (1, "<5", "suppressed")
    assert month["no_show_rate_percent"] is None
    # Proposals and offers & needs matches are columns too (none here: "<5").
    assert (month["proposals"], month["matches"]) == ("<5", "<5")
    rows = list(csv.DictReader(io.StringIO(other_client.get("/g/coloc/stats.csv").text)))
    assert list(rows[0])[-2:] == ["proposals", "matches"]
    assert [(row["events"], row["no_shows"], row["came"]) for row in rows] == [
        ("1", "<5", "suppressed")
    ]
    # Nothing in the open data names anyone or keeps an address.
    assert "@" not in answer.text and "person" not in answer.text.lower()
    assert other_client.get("/g/nobody/stats.json").status_code == 404


def test_the_open_data_is_reused_until_the_content_changes(
    coloc_organiser: Client, db: Database, other_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = one_past_month(db)
    minute = utcnow()
    monkeypatch.setattr(page_cache, "utcnow", lambda: minute)  # the same minute throughout
    first = other_client.get("/g/coloc/stats.json").json()["months"][0]
    # A change that does not stamp the content version is not seen: the answer is reused.
    with db.transaction() as session:
        session.execute(
            update(Registration).where(Registration.event_id == event.id).values(arrived=0)
        )
    assert other_client.get("/g/coloc/stats.json").json()["months"][0] == first
    # Any stamped change (here, someone registering elsewhere) renews it.
    later = open_event(
        db, title="Later", starts_local="2031-01-01T19:00", ends_local="2031-01-01T22:00"
    )
    register(db, later, person(99))
    renewed = other_client.get("/g/coloc/stats.json").json()["months"][0]
    assert (renewed["came"], renewed["no_shows"]) == ("<5", "suppressed")  # 0 came, 12 no-shows
