"""Imported calendars through the organiser pages, against a real local HTTP server that
serves real-world-shaped feeds: a Google-style one (X-WR-TIMEZONE, floating times), one
with RRULE and overrides, a malformed one and a huge one. Each is imported correctly or
refused with a clear status, never a crash. Fetches run in the background: the helpers
below wait for them (tests/web/test_import_fetching.py checks that nobody else does)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar import Litestar
from sqlalchemy import func, select

from events.database import Database
from events.jobs.periodic import REFRESH_IMPORTS as REFRESH
from events.jobs.periodic import periodic_jobs
from events.models import Event, EventStatus, ExternalCalendar, Role
from events.services.calendar_refresh import CalendarRefresher
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.local_http import LocalServer, QuietHandler
from web.app import create_app
from web.imports import wait_for_imports
from web.mail import job_settings
from web.settings import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ics"
#: The fixtures' events are in 2035: imports run as if it were the start of December 2034.
NOW = datetime(2034, 12, 1, 12, 0, tzinfo=UTC)


@dataclasses.dataclass
class Feed:
    body: bytes
    etag: str = ""
    status: int = 200
    content_type: str = "text/calendar; charset=utf-8"
    location: str = ""


class FeedServer(LocalServer):
    """A local calendar server: ``feeds[path]`` is what it answers; it logs every request."""

    def __init__(self) -> None:
        self.feeds: dict[str, Feed] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                feed = server.feeds.get(self.path)
                if feed is None:
                    self.send_error(404, "Not Found")
                    return
                if feed.etag and self.headers.get("If-None-Match") == feed.etag:
                    self.send_response(304)
                    self.send_header("ETag", feed.etag)
                    self.end_headers()
                    return
                self.send_response(feed.status)
                if feed.location:
                    self.send_header("Location", feed.location)
                if feed.etag:
                    self.send_header("ETag", feed.etag)
                self.send_header("Content-Type", feed.content_type)
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                # The client may stop reading (the size limit): that is expected.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(feed.body)

        super().__init__(Handler)

    def paths_requested(self) -> list[str]:
        return [path for path, _headers in self.requests]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feeds = FeedServer()
    feeds.start()
    yield feeds
    feeds.stop()


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr("events.services.calendar_refresh.utcnow", lambda: NOW)
    monkeypatch.setattr("web.controllers.manage_imports.utcnow", lambda: NOW)
    yield
    settle()  # no fetch outlives its test's database


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The feeds live on 127.0.0.1: allowed here, refused by default (tested below).
    return dataclasses.replace(settings, import_allow_private=True)


@pytest.fixture
def owner_client(client: Client, make: Factories, db: Database) -> Client:
    owner = make.user(email="owner@example.org")
    make.community(owner=owner, slug="ours", name="Our meetup")
    client.login_as(db, owner)
    return client


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def huge_feed(size: int) -> bytes:
    """A plausible but enormous calendar: years of daily events with long descriptions."""
    event = (
        "BEGIN:VEVENT\r\nUID:day-{n}@huge.example\r\nDTSTART:20350101T180000Z\r\n"
        "SUMMARY:Day {n}\r\nDESCRIPTION:"
        + "Lorem ipsum dolor sit amet. " * 30
        + "\r\nEND:VEVENT\r\n"
    )
    parts = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//huge//EN\r\n"]
    total, n = 0, 0
    while total < size:
        chunk = event.format(n=n)
        parts.append(chunk)
        total += len(chunk)
        n += 1
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts).encode()


def settle() -> None:
    """Until the background fetches (and those they start) have ended."""
    assert wait_for_imports(timeout=120)


def subscribe(client: Client, url: str, name: str = "") -> Any:
    """Subscribe, then wait for the first fetch."""
    response = client.submit("/manage/ours/imports", {"url": url, "name": name})
    settle()
    return response


def refresh(client: Client, source: ExternalCalendar) -> Any:
    """Refresh now, then wait for the fetch."""
    response = client.submit(f"/manage/ours/imports/{source.id}/refresh")
    settle()
    return response


def sources(db: Database) -> list[ExternalCalendar]:
    with db.session() as session:
        return list(session.scalars(select(ExternalCalendar).order_by(ExternalCalendar.name)))


def imported(db: Database) -> dict[str, Event]:
    with db.session() as session:
        rows = session.scalars(select(Event).where(Event.external_uid.is_not(None)))
        return {event.external_uid or "": event for event in rows}


# -- subscribing and fetching ----------------------------------------------------------------


def test_subscribing_imports_a_google_style_feed(
    owner_client: Client, server: FeedServer, db: Database
) -> None:
    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"), etag='"v1"')
    response = subscribe(owner_client, server.url("/cafe.ics"), name="Café Commun")
    assert response.status_code == 303
    assert response.headers["location"] == "/manage/ours/imports"
    (source,) = sources(db)
    assert (source.last_status, source.event_count, source.etag) == ("ok", 6, '"v1"')
    headers = server.requests[0][1]
    assert headers["User-Agent"].startswith("Rencontres/")
    assert BASE_URL in headers["User-Agent"]

    page = owner_client.get("/manage/ours/imports")
    assert page.status_code == 200
    assert "Café Commun" in page.text and "Imported." in page.text
    assert "Unknown time zone “Customized Time Zone”: its times were read in Europe/Paris." in (
        page.text
    )

    events = imported(db)
    games = events["4hd7s0m2ph3kq1v9l8t6rj5c0b@google.com"]
    assert games.starts_at == datetime(2035, 1, 16, 18, tzinfo=UTC)
    assert games.status is EventStatus.PUBLISHED
    assert events["cancelled0a1b2c3d@google.com"].status is EventStatus.CANCELLED
    public = owner_client.get(f"/e/{games.slug}")
    assert public.status_code == 200
    assert "Imported from Café Commun." in public.text
    assert 'id="registration"' not in public.text  # nobody registers here
    assert "Café Commun, 12 rue des Lilas, 75020 Paris, France" in public.text
    apero = events["7ab1c2d3e4f5g6h7i8j9k0l1m2@google.com"]
    assert 'href="https://cafe-commun.example/apero"' in owner_client.get(f"/e/{apero.slug}").text
    # The imported events show among the community's public events and in its feed.
    assert games.title in owner_client.get("/g/ours").text
    feed = owner_client.get("/g/ours/feed.ics").text.replace("\r\n ", "")
    assert "SUMMARY:Soirée jeux de société" in feed
    assert "LOCATION:Café Commun\\, 12 rue des Lilas\\, 75020 Paris\\, France" in feed


def test_refresh_sends_the_etag_and_a_304_changes_nothing(
    owner_client: Client, server: FeedServer, db: Database
) -> None:
    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"), etag='"v1"')
    subscribe(owner_client, server.url("/cafe.ics"))
    (source,) = sources(db)
    before = imported(db)
    response = refresh(owner_client, source)
    assert response.status_code == 303
    assert server.requests[-1][1].get("If-None-Match") == '"v1"'
    (source,) = sources(db)
    assert source.last_status == "not_modified"
    assert {uid: e.updated_at for uid, e in imported(db).items()} == {
        uid: e.updated_at for uid, e in before.items()
    }
    assert "unchanged since the last fetch" in owner_client.get("/manage/ours/imports").text


def test_refresh_with_htmx_swaps_the_card_which_polls_until_fetched(
    owner_client: Client, server: FeedServer, db: Database
) -> None:
    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"))
    subscribe(owner_client, server.url("/cafe.ics"), name="Café Commun")
    (source,) = sources(db)
    card_url = f"/manage/ours/imports/{source.id}"
    listing = owner_client.get("/manage/ours/imports").text
    assert f'hx-indicator="#refresh-{source.id}"' in listing
    assert "Fetching…" in listing and "Refresh now" in listing
    assert f'hx-get="{card_url}"' not in listing  # fetched: nothing to poll for
    htmx = {"HX-Request": "true", "x-csrftoken": owner_client.csrf_token()}
    response = owner_client.post(f"{card_url}/refresh", headers=htmx)
    assert response.status_code == 200
    card = response.text.lstrip()
    assert card.startswith(f'<li class="card import-source" id="import-{source.id}"')
    assert "<html" not in card
    # Queued (or already under way): the card polls, and offers a reload without htmx.
    assert "Waiting for its turn to be fetched…" in card or "Fetching…" in card
    assert f'hx-get="{card_url}" hx-trigger="every 3s"' in card
    assert 'href="/manage/ours/imports" class="import-check"' in card
    settle()
    polled = owner_client.get(card_url, headers={"HX-Request": "true"})
    assert polled.status_code == 200 and "Imported." in polled.text
    assert "hx-trigger" not in polled.text  # done: the polling stops
    # Without htmx, the card's address is the list.
    plain = owner_client.get(card_url, follow_redirects=False)
    assert (plain.status_code, plain.headers["location"]) == (303, "/manage/ours/imports")


def test_the_recurring_feed_is_updated_by_uid(
    owner_client: Client, server: FeedServer, db: Database
) -> None:
    original = fixture("recurring_overrides.ics")
    server.feeds["/atelier.ics"] = Feed(original, etag='"a"')
    subscribe(owner_client, server.url("/atelier.ics"))
    first = imported(db)
    assert len(first) == 9  # 5 repair cafés (one moved, one excluded) + 4 knitting circles
    # The organisers move April's repair café to 19:00 and drop the knitting circle.
    start = original.index(b"BEGIN:VEVENT\r\nUID:{3F2504E0")
    changed = original[:start] + b"END:VCALENDAR\r\n"
    changed = changed.replace(
        b"EXDATE;TZID=Europe/Paris:20350301T180000\r\n",
        b"EXDATE;TZID=Europe/Paris:20350301T180000\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\n"
        b"UID:repair-cafe-2035@atelier.example\r\n"
        b"RECURRENCE-ID;TZID=Europe/Paris:20350405T180000\r\nSUMMARY:Repair caf\xc3\xa9\r\n"
        b"DTSTART;TZID=Europe/Paris:20350405T190000\r\nDTEND;TZID=Europe/Paris:20350405T220000\r\n",
    )
    server.feeds["/atelier.ics"] = Feed(changed, etag='"b"')
    (source,) = sources(db)
    refresh(owner_client, source)
    after = imported(db)
    assert len(after) == 5
    april = "repair-cafe-2035@atelier.example#20350405T160000Z"
    assert after[april].id == first[april].id
    assert after[april].starts_at == datetime(2035, 4, 5, 17, tzinfo=UTC)
    assert after[april].revision == first[april].revision + 1
    (source,) = sources(db)
    assert (source.last_status, source.event_count, source.etag) == ("ok", 5, '"b"')


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (fixture("malformed.ics"), "not_icalendar", "This is not an iCalendar (.ics) calendar."),
        (b"<!doctype html><title>Sign in</title>", "not_icalendar", "not an iCalendar"),
        (huge_feed(6 * 1024 * 1024), "too_large", "The calendar is too large (more than 5 MB)."),
    ],
    ids=["malformed", "html-page", "huge"],
)
def test_a_broken_feed_gets_a_clear_status_and_keeps_the_events(
    owner_client: Client, server: FeedServer, db: Database, body: bytes, status: str, message: str
) -> None:
    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"), etag='"v1"')
    subscribe(owner_client, server.url("/cafe.ics"))
    server.feeds["/cafe.ics"] = Feed(body, etag='"v2"')
    (source,) = sources(db)
    response = refresh(owner_client, source)
    assert response.status_code == 303
    (source,) = sources(db)
    assert source.last_status == status and source.last_error
    assert source.etag == '"v1"'  # still what the events come from
    assert len(imported(db)) == 6  # the last good import stays
    page = owner_client.get("/manage/ours/imports")
    assert message in page.text and source.last_error.split(":")[0] in page.text


def test_a_huge_feed_as_first_fetch_imports_nothing(
    owner_client: Client, server: FeedServer, db: Database
) -> None:
    server.feeds["/huge.ics"] = Feed(huge_feed(6 * 1024 * 1024))
    assert subscribe(owner_client, server.url("/huge.ics")).status_code == 303
    (source,) = sources(db)
    assert source.last_status == "too_large" and source.event_count == 0
    assert imported(db) == {}


def test_http_errors_and_redirects(owner_client: Client, server: FeedServer, db: Database) -> None:
    server.feeds["/old.ics"] = Feed(b"", status=301, location="/cafe.ics")
    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"))
    server.feeds["/loop.ics"] = Feed(b"", status=302, location="/loop.ics")
    subscribe(owner_client, server.url("/old.ics"), name="a-moved")
    subscribe(owner_client, server.url("/missing.ics"), name="b-missing")
    subscribe(owner_client, server.url("/loop.ics"), name="c-loop")
    moved, missing, loop = sources(db)
    assert (moved.last_status, moved.event_count) == ("ok", 6)
    assert (missing.last_status, missing.last_error) == ("http_error", "HTTP 404 Not Found")
    assert loop.last_status == "too_many_redirects"
    assert server.paths_requested().count("/loop.ics") == 4  # the first request + 3 redirects


def test_private_addresses_are_refused_unless_configured(
    settings: Settings, db: Database, make: Factories, server: FeedServer
) -> None:
    strict = create_app(dataclasses.replace(settings, import_allow_private=False), db)
    owner = make.user()
    make.community(owner=owner, slug="ours")
    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"))
    with Client(app=strict, base_url=BASE_URL) as client:
        client.login_as(db, owner)
        for url in (
            server.url("/cafe.ics"),
            server.url("/cafe.ics").replace("127.0.0.1", "localhost"),
        ):
            assert subscribe(client, url).status_code == 303
        page = client.get("/manage/ours/imports").text
    assert server.requests == []  # nothing ever reached the private address
    assert [s.last_status for s in sources(db)] == ["private_address", "private_address"]
    assert "private network" in page
    assert imported(db) == {}


# -- validation, upload, removal -------------------------------------------------------------


def test_the_subscription_form_says_what_is_wrong(
    owner_client: Client, server: FeedServer, db: Database
) -> None:
    for data, text in [
        ({}, "This field is required."),
        ({"url": "ftp://files.example/cal.ics"}, "Enter a full web address"),
        ({"url": "https://x.example/c.ics", "name": "n" * 200}, 'name="name"'),
    ]:
        response = owner_client.submit("/manage/ours/imports", data)
        assert response.status_code == 400
        assert text in response.text
    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"))
    subscribe(owner_client, server.url("/cafe.ics"))
    duplicate = subscribe(owner_client, server.url("/cafe.ics"))
    assert duplicate.status_code == 400
    assert "This community already imports this calendar." in duplicate.text
    assert len(sources(db)) == 1
    # webcal:// is the same address served over https.
    assert subscribe(owner_client, "webcal://calendar.invalid/x.ics").status_code == 303
    assert "https://calendar.invalid/x.ics" in [s.url for s in sources(db)]


def upload(client: Client, name: str, content: bytes | None) -> Any:
    files = {"file": (name, content, "text/calendar")} if content is not None else None
    return client.post(
        "/manage/ours/imports/upload",
        data={"_csrf_token": client.csrf_token()},
        files=files,
        follow_redirects=False,
    )


def test_an_ics_file_can_be_uploaded_once(owner_client: Client, db: Database) -> None:
    response = upload(owner_client, "atelier.ics", fixture("recurring_overrides.ics"))
    assert response.status_code == 303
    (source,) = sources(db)
    assert (source.name, source.url, source.event_count) == ("atelier.ics", None, 9)
    page = owner_client.get("/manage/ours/imports").text
    assert "Uploaded file, imported once." in page
    assert f"/imports/{source.id}/refresh" not in page  # nothing to fetch again
    # The same file again updates; a broken one is refused with a clear message.
    assert (
        upload(owner_client, "atelier.ics", fixture("recurring_overrides.ics")).status_code == 303
    )
    assert len(sources(db)) == 1 and len(imported(db)) == 9
    broken = upload(owner_client, "broken.ics", fixture("malformed.ics"))
    assert broken.status_code == 400
    assert "This is not an iCalendar (.ics) calendar." in broken.text
    assert "END:VCALENDAR" in broken.text  # the detail, for whoever fixes the file
    missing = upload(owner_client, "", None)
    assert missing.status_code == 400 and "This field is required." in missing.text
    assert len(sources(db)) == 1


def test_removing_a_calendar_removes_its_events(
    owner_client: Client, server: FeedServer, db: Database
) -> None:
    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"))
    subscribe(owner_client, server.url("/cafe.ics"), name="Café Commun")
    (source,) = sources(db)
    listing = owner_client.get("/manage/ours/imports").text
    assert 'hx-confirm="Remove “Café Commun” and its 6 imported events?"' in listing
    response = owner_client.submit(f"/manage/ours/imports/{source.id}/delete")
    assert response.status_code == 303
    assert sources(db) == [] and imported(db) == {}
    assert "removed, with its 6 imported events" in owner_client.get("/manage/ours/imports").text
    again = owner_client.submit(f"/manage/ours/imports/{source.id}/delete")
    assert again.status_code == 303  # a double click: nothing left, no error page
    assert "does not exist" in owner_client.get("/manage/ours/imports").text


def test_the_community_page_links_to_imports(owner_client: Client) -> None:
    assert 'href="/manage/ours/imports"' in owner_client.get("/manage/ours").text


# -- who may do what -------------------------------------------------------------------------


def test_only_the_communitys_organisers_reach_its_imports(
    app: Litestar, client: Client, make: Factories, db: Database, server: FeedServer
) -> None:
    owner = make.user()
    community = make.community(owner=owner, slug="ours")
    door = make.member(community, role=Role.DOOR)
    stranger = make.user()
    make.community(owner=stranger, slug="theirs")
    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"))
    client.login_as(db, owner)
    subscribe(client, server.url("/cafe.ics"))
    (source,) = sources(db)
    fetched = len(server.requests)

    with Client(app=app, base_url=BASE_URL) as other:
        other.login_as(db, stranger)
        assert other.get("/manage/ours/imports").status_code == 404
        assert other.submit(f"/manage/ours/imports/{source.id}/refresh").status_code == 404
        assert other.submit(f"/manage/ours/imports/{source.id}/delete").status_code == 404
        # Through their own community, our calendar does not exist.
        response = other.submit(f"/manage/theirs/imports/{source.id}/delete")
        assert response.status_code == 303
        response = other.submit(f"/manage/theirs/imports/{source.id}/refresh")
        assert response.status_code == 303
    with Client(app=app, base_url=BASE_URL) as volunteer:
        volunteer.login_as(db, door)
        assert volunteer.get("/manage/ours/imports").status_code == 403
    assert len(server.requests) == fetched and len(sources(db)) == 1
    assert len(imported(db)) == 6


# -- the background job and the command ------------------------------------------------------


def refresh_imports(settings: Settings, db: Database, *, now: datetime) -> int:
    """One run of the periodic job (events/jobs/periodic.py), configured as the app does:
    how many fetches it started."""
    (job,) = [job for job in periodic_jobs(db, job_settings(settings)) if job.name == REFRESH]
    return job.run(now)


def test_the_background_job_fetches_what_is_due(
    owner_client: Client, server: FeedServer, db: Database, settings: Settings
) -> None:
    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"), etag='"v1"')
    subscribe(owner_client, server.url("/cafe.ics"))
    (source,) = sources(db)
    fetches = len(server.requests)
    assert refresh_imports(settings, db, now=NOW) == 0  # fetched a moment ago
    later = NOW.replace(hour=13, minute=1)
    assert refresh_imports(settings, db, now=later) == 1  # returns at once
    settle()
    (source,) = sources(db)
    assert (source.last_status, source.last_fetched_at) == ("not_modified", later)
    assert len(server.requests) == fetches + 1
    assert refresh_imports(settings, db, now=later) == 0
    forced = CalendarRefresher(db, job_settings(settings).import_policy)  # as ``--all`` does
    assert forced.refresh_due(now=later, every=timedelta(0)) == [source.id]
    settle()
    assert len(server.requests) == fetches + 2


def test_the_import_refresh_command(
    owner_client: Client, server: FeedServer, db: Database, database_url: str, tmp_path: Path
) -> None:
    from web.cli import main

    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"))
    subscribe(owner_client, server.url("/cafe.ics"), name="Café Commun")
    env = {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "s" * 40,
        "IMPORT_ALLOW_PRIVATE": "1",
    }
    result = CliRunner().invoke(main, ["import", "refresh", "--all"], env=env)
    assert result.exit_code == 0, result.output
    assert "Café Commun: ok" in result.output
    assert "1 calendar(s) fetched" in result.output
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ExternalCalendar)) == 1


def test_the_worker_command_waits_for_the_fetches_it_started(
    server: FeedServer, db: Database, make: Factories, database_url: str, tmp_path: Path
) -> None:
    from web.cli import main

    server.feeds["/cafe.ics"] = Feed(fixture("google_style.ics"))
    community = make.community(slug="ours")
    with db.transaction() as session:
        session.add(
            ExternalCalendar(community_id=community.id, name="Café", url=server.url("/cafe.ics"))
        )
    env = {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "s" * 40,
        "IMPORT_ALLOW_PRIVATE": "1",
    }
    result = CliRunner().invoke(main, ["worker", "--once"], env=env)
    assert result.exit_code == 0, result.output
    # The round queued the never-fetched calendar, fetched it in a thread, and the
    # command did not exit before that fetch ended.
    assert [source.last_status for source in sources(db)] == ["ok"]
    assert server.paths_requested() == ["/cafe.ics"]
