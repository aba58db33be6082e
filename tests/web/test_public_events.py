"""The public pages: discovery with filters (full page and htmx fragment), the event page
with its schema.org data, community, venue, tag and past-events pages."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from events.database import Database
from events.demo import today_in_paris
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.programme import ProgrammeInput, ProgrammeService
from events.services.series import SeriesInput, SeriesService
from events.services.venues import VenueInput, VenueService
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.web.conftest import Client

HTMX = {"HX-Request": "true"}
CARD = 'class="card event-card'


def soon(days: int) -> date:
    return today_in_paris() + timedelta(days=days)


def add_event(
    db: Database,
    community: str,
    title: str,
    *,
    day: date | None = None,
    start: str = "19:00",
    end: str = "22:00",
    end_day: date | None = None,
    publish: bool = True,
    tags: str = "",
    venue: str = "",
    description: str = "",
    capacity: str = "",
    online_url: str = "",
    cancel: str | None = None,
) -> str:
    """Create (and by default publish) an event; returns its slug."""
    day = day or soon(7)
    with db.transaction() as session:
        owner = CommunityService(session).by_slug(community)
        venue_id = str(VenueService(session).by_slug(venue).id) if venue else ""
        service = EventService(session)
        event = service.create(
            owner,
            EventInput(
                title=title,
                description=description,
                starts_local=f"{day.isoformat()}T{start}",
                ends_local=f"{(end_day or day).isoformat()}T{end}",
                timezone="Europe/Paris",
                venue_id=venue_id,
                online_url=online_url,
                capacity=capacity,
                tags=tags,
            ),
        )
        if publish:
            service.publish(event)
        if cancel is not None:
            service.cancel(event, cancel)
        return event.slug


def add_venue(db: Database, community: str, name: str, **fields: str) -> str:
    with db.transaction() as session:
        owner = CommunityService(session).by_slug(community)
        return VenueService(session).create(owner, VenueInput(name=name, **fields)).slug


def titles(text: str) -> list[str]:
    """Event titles of the cards, in order."""
    return [
        html.unescape(t)
        for t in re.findall(r'class="event-card-title"><a href="/e/[^"]+">([^<]*)</a>', text)
    ]


def json_ld(text: str) -> dict:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


@pytest.fixture
def coloc(make: Factories) -> str:
    make.community(owner=make.user(), slug="coloc", name="Jeudis de la Coloc")
    return "coloc"


@pytest.fixture
def pitch(make: Factories) -> str:
    make.community(owner=make.user(), slug="pitch", name="Pitch & Voisins")
    return "pitch"


# -- home page ---------------------------------------------------------------------------


def test_home_lists_published_and_cancelled_events_and_hides_drafts(
    client: Client, db: Database, coloc: str
) -> None:
    add_event(db, coloc, "Published evening", day=soon(3))
    add_event(db, coloc, "Secret draft", day=soon(4), publish=False)
    add_event(db, coloc, "Called off", day=soon(5), cancel="The room flooded")
    add_event(db, coloc, "Last year", day=soon(-300))

    response = client.get("/")

    assert response.status_code == 200
    assert titles(response.text) == ["Published evening", "Called off"]
    assert "Cancelled" in response.text
    assert "Secret draft" not in response.text
    assert "2 events" in response.text
    assert 'href="/past"' in response.text
    assert "HX-Request" in response.headers["vary"]
    assert response.text.count("<h1") == 1


def test_home_without_any_event_invites_to_organise_one(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No upcoming events yet." in response.text
    assert 'href="/manage/"' in response.text
    assert "Clear filters" not in response.text


def test_no_match_offers_to_clear_the_filters(client: Client, db: Database, coloc: str) -> None:
    add_event(db, coloc, "Jam session", tags="music")
    for headers in ({}, HTMX):
        response = client.get("/?q=nothing-like-this", headers=headers)
        assert response.status_code == 200
        assert "No events match these filters." in response.text
        assert re.search(r'<a [^>]*href="/"[^>]*>Clear filters</a>', response.text)
        assert "No upcoming events yet." not in response.text


@pytest.fixture
def catalogue(db: Database, coloc: str, pitch: str) -> None:
    canteen = add_venue(db, coloc, "Canteen", address="1 rue de la Paix, Paris")
    garage = add_venue(db, pitch, "Garage")
    add_event(db, coloc, "Jam session", day=soon(10), tags="music", venue=canteen)
    add_event(db, coloc, "Code club", day=soon(11), tags="tech, music", description="Bring laptops")
    add_event(db, pitch, "Pitch night", day=soon(12), tags="tech", venue=garage)
    add_event(db, pitch, "Neighbourhood pitches", day=soon(13), tags="music", venue=garage)


@pytest.mark.parametrize("htmx", [False, True], ids=["full-page", "htmx-fragment"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=music", ["Jam session", "Code club", "Neighbourhood pitches"]),
        ("tag=tech", ["Code club", "Pitch night"]),
        ("community=pitch", ["Pitch night", "Neighbourhood pitches"]),
        ("venue=canteen", ["Jam session"]),
        ("venue=garage", ["Pitch night", "Neighbourhood pitches"]),
        ("q=PITCH", ["Pitch night", "Neighbourhood pitches"]),
        ("q=laptop", ["Code club"]),
        ("tag=music&community=pitch", ["Neighbourhood pitches"]),
        ("tag=tech&community=coloc&q=club", ["Code club"]),
        ("tag=music&venue=garage&q=neighbour", ["Neighbourhood pitches"]),
        ("q=&tag=&community=&venue=&date_from=&date_to=", None),  # an empty form: everything
    ],
)
def test_each_filter_narrows_the_list(
    client: Client, catalogue: None, htmx: bool, query: str, expected: list[str] | None
) -> None:
    response = client.get(f"/?{query}", headers=HTMX if htmx else {})

    assert response.status_code == 200
    everything = ["Jam session", "Code club", "Pitch night", "Neighbourhood pitches"]
    assert titles(response.text) == (expected or everything)
    if htmx:
        assert "<html" not in response.text and "<form" not in response.text
        assert 'hx-swap-oob="innerHTML"' in response.text  # the live region's new count
    else:
        assert response.text.lstrip().startswith("<!doctype html>")
        assert 'hx-target="#event-list"' in response.text
        assert 'hx-push-url="true"' in response.text


@pytest.mark.parametrize("htmx", [False, True], ids=["full-page", "htmx-fragment"])
def test_date_range_compares_local_days(
    client: Client, db: Database, coloc: str, htmx: bool
) -> None:
    day = soon(20)
    # 00:30 in Paris is still the previous day in UTC; 23:30 is still the same day.
    add_event(db, coloc, "After midnight", day=day, start="00:30", end="02:00")
    add_event(
        db, coloc, "Late the day before", day=day - timedelta(days=1), start="23:30", end="23:59"
    )
    add_event(db, coloc, "Next evening", day=day + timedelta(days=1))
    headers = HTMX if htmx else {}

    def listed(query: str) -> list[str]:
        response = client.get(f"/?{query}", headers=headers)
        assert response.status_code == 200
        return titles(response.text)

    iso = day.isoformat()
    before, after = (day - timedelta(days=1)).isoformat(), (day + timedelta(days=1)).isoformat()
    assert listed(f"date_from={iso}&date_to={iso}") == ["After midnight"]
    assert listed(f"date_to={before}") == ["Late the day before"]
    assert listed(f"date_from={iso}") == ["After midnight", "Next evening"]
    assert listed(f"date_from={after}&date_to={after}") == ["Next evening"]
    assert listed(f"date_from={after}&date_to={before}") == []


def test_pagination_twenty_per_page(client: Client, db: Database, coloc: str) -> None:
    for n in range(25):
        add_event(db, coloc, f"Evening {n:02d}", day=soon(1 + n), tags="weekly")

    first = client.get("/")
    assert first.text.count(CARD) == 20
    assert "Page 1 of 2" in first.text
    assert 'rel="next" href="/?page=2"' in first.text
    assert 'rel="prev"' not in first.text

    second = client.get("/?page=2")
    assert titles(second.text) == [f"Evening {n:02d}" for n in range(20, 25)]
    assert "Page 2 of 2" in second.text
    assert 'rel="prev" href="/"' in second.text
    assert 'rel="next"' not in second.text

    # Links keep the filters; a fragment paginates too; a page past the end shows the last.
    filtered = client.get("/?tag=weekly&q=evening", headers=HTMX)
    assert 'href="/?q=evening&amp;tag=weekly&amp;page=2"' in filtered.text
    assert client.get("/?page=99").text.count(CARD) == 5
    assert "Page 2 of 2" in client.get("/?page=99").text


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-3",
        "page=0",
        "page=1e5",
        "page=" + "9" * 40,
        "date_from=notadate",
        "date_to=2026-02-31",
        "date_from=0001-01-01",
        "date_to=9999-12-31",
        "date_from=2026-13-01&date_to=%F0%9F%8E%89",
        "q=" + "x" * 10_000,
        "q=caf%C3%A9%20%E2%98%95%20%E6%97%A5%E6%9C%AC",
        "q=%25_%5C",
        "tag=../../etc&community=%27%3B--&venue=%3Cscript%3E",
        "tag=music&tag=tech",
        "unknown=1",
    ],
)
def test_odd_query_strings_never_fail(client: Client, db: Database, coloc: str, query: str) -> None:
    add_event(db, coloc, "Café ☕ 日本", tags="music")
    for headers in ({}, HTMX):
        response = client.get(f"/?{query}", headers=headers)
        assert response.status_code == 200, response.text
        assert "<script>" not in response.text.split("</head>")[-1]


def test_unicode_search_finds_the_event(client: Client, db: Database, coloc: str) -> None:
    add_event(db, coloc, "Café ☕ 日本")
    add_event(db, coloc, "Something else")
    assert titles(client.get("/?q=日本").text) == ["Café ☕ 日本"]


def test_home_form_has_labels_and_tag_chips(client: Client, catalogue: None) -> None:
    text = client.get("/?tag=tech").text
    for name in ("q", "community", "venue", "date_from", "date_to"):
        assert f'<label for="f-{name}">' in text
    assert 'type="date"' in text
    assert re.search(r'value="tech" id="tag-tech" checked', text)
    assert 'aria-live="polite"' in text
    assert '<button type="submit">' in text
    assert '<option value="pitch">Pitch &amp; Voisins</option>' in text


# -- event page --------------------------------------------------------------------------


def test_event_page_shows_local_time_place_and_capacity(
    client: Client, db: Database, coloc: str
) -> None:
    canteen = add_venue(
        db,
        coloc,
        "La Cantine",
        address="12 rue des Lilas\n75019 Paris",
        access_notes="Step-free entrance on the left",
        latitude="48.8766",
        longitude="2.3925",
    )
    slug = add_event(
        db,
        coloc,
        "Soirée coloc",
        day=date(2026, 12, 3),
        venue=canteen,
        capacity="80",
        tags="Flat share, Music",
        description="# Welcome\n\nCome **early**.",
    )

    english = client.get(f"/e/{slug}")
    assert english.status_code == 200
    assert "Thursday 3 December 2026, 19:00" in english.text
    assert "22:00" in english.text
    assert "Europe/Paris" in english.text
    assert '<time datetime="2026-12-03T19:00:00+01:00">' in english.text
    assert "80 places" in english.text
    assert "12 rue des Lilas" in english.text and "Step-free entrance" in english.text
    assert "https://www.openstreetmap.org/?mlat=48.8766&amp;mlon=2.3925#map=17/48.8766/2.3925" in (
        english.text
    )
    assert '<a class="tag" href="/tags/flat-share">Flat share</a>' in english.text
    assert "<strong>early</strong>" in english.text
    assert english.text.count("<h1") == 1
    assert 'href="/g/coloc"' in english.text and f'href="/venues/{canteen}"' in english.text

    french = client.get(f"/e/{slug}", headers={"accept-language": "fr"})
    assert "jeudi 3 décembre 2026, 19:00" in french.text


def test_map_link_searches_the_address_without_coordinates(
    client: Client, db: Database, coloc: str
) -> None:
    venue = add_venue(db, coloc, "Hall", address="5 place du Marché, Lyon")
    slug = add_event(db, coloc, "Market talk", venue=venue)
    text = client.get(f"/e/{slug}").text
    assert "https://www.openstreetmap.org/search?query=5%20place%20du%20March%C3%A9%2C%20Lyon" in (
        text
    )


def test_time_adjusted_note(client: Client, db: Database, coloc: str) -> None:
    # 02:30 does not exist in Paris on the last Sunday of March 2027.
    slug = add_event(db, coloc, "Night owls", day=date(2027, 3, 28), start="02:30", end="04:00")
    assert "daylight-saving change" in client.get(f"/e/{slug}").text
    ordinary = add_event(db, coloc, "Day owls", day=date(2027, 3, 29))
    assert "daylight-saving change" not in client.get(f"/e/{ordinary}").text


def test_cancelled_event_shows_a_banner_with_the_reason(
    client: Client, db: Database, coloc: str
) -> None:
    slug = add_event(db, coloc, "Rooftop party", cancel="Storm warning <b>tonight</b>")
    text = client.get(f"/e/{slug}").text
    banner = re.search(r'<div class="banner banner-cancelled" role="alert">(.*?)</div>', text, re.S)
    assert banner is not None
    assert "This event is cancelled." in banner.group(1)
    assert "Storm warning &lt;b&gt;tonight&lt;/b&gt;" in banner.group(1)
    assert json_ld(text)["eventStatus"] == "https://schema.org/EventCancelled"


def test_programme_is_in_time_order_with_rooms_as_labels(
    client: Client, db: Database, coloc: str
) -> None:
    """Issue 14, item 10: what happens next, not one room after another."""
    slug = add_event(db, coloc, "Conference night", day=date(2026, 12, 3))
    with db.transaction() as session:
        event = EventService(session).by_slug(slug)
        programme = ProgrammeService(session)
        for title, room, start in [
            ("Closing drinks", "Salle B", "21:00"),
            ("Open mic", "Salle A", ""),
            ("Workshop", "Salle B", "19:00"),
            ("Second talk", "Salle A", "19:30"),
            ("First talk", "Salle A", "19:00"),
            ("Welcome", "", "18:45"),
        ]:
            programme.add(event, ProgrammeInput(title=title, room=room, start_time=start))

    text = client.get(f"/e/{slug}").text
    section = text[text.index('id="programme-title"') :]
    section = section[: section.index("</section>")]
    order = ["Welcome", "First talk", "Workshop", "Second talk", "Closing drinks", "Open mic"]
    positions = [section.index(f'<strong class="item-title">{title}</strong>') for title in order]
    assert positions == sorted(positions)
    assert "<h3>" not in section
    assert section.count('<span class="room">Room: Salle A</span>') == 3
    assert section.count('<span class="room">Room: Salle B</span>') == 2
    assert '<time datetime="2026-12-03T19:30:00+01:00">19:30</time>' in section


def test_the_event_page_leads_to_registering_early_and_describes_first(
    client: Client, db: Database, coloc: str
) -> None:
    """Issue 14, item 10: a button to the form right after the key facts; description and
    programme come before the long form."""
    slug = add_event(db, coloc, "Jam", description="Bring **your** instrument.", capacity="10")
    text = client.get(f"/e/{slug}").text
    cta = text.index('<p class="register-cta"><a class="button" href="#registration">Register</a>')
    assert text.index("Organised by") < cta < text.index('id="about-title"')
    assert text.index('id="about-title"') < text.index('id="registration-title"')
    assert text.index('<span id="places-left" class="remaining">(10 left)</span>') < cta
    over = add_event(db, coloc, "Past jam", day=date(2020, 1, 2))
    assert "register-cta" not in client.get(f"/e/{over}").text


@pytest.mark.parametrize("slug", ["no-such-event", "draft"])
def test_drafts_and_unknown_events_are_not_found(
    client: Client, db: Database, coloc: str, slug: str
) -> None:
    if slug == "draft":
        slug = add_event(db, coloc, "Not yet", publish=False)
    response = client.get(f"/e/{slug}")
    assert response.status_code == 404
    assert "Not yet" not in response.text


def test_event_json_ld_describes_the_event(client: Client, db: Database, coloc: str) -> None:
    canteen = add_venue(db, coloc, "La Cantine", address="12 rue des Lilas\n75019 Paris")
    slug = add_event(
        db,
        coloc,
        "Soirée coloc",
        day=date(2026, 12, 3),
        venue=canteen,
        capacity="80",
        description="Meet your future *flatmates*. " + "More words here. " * 30,
    )

    data = json_ld(client.get(f"/e/{slug}").text)

    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Event"
    assert data["name"] == "Soirée coloc"
    assert data["startDate"] == "2026-12-03T19:00:00+01:00"
    assert data["endDate"] == "2026-12-03T22:00:00+01:00"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert data["location"] == {
        "@type": "Place",
        "name": "La Cantine",
        "address": {"@type": "PostalAddress", "streetAddress": "12 rue des Lilas 75019 Paris"},
    }
    assert data["organizer"] == {
        "@type": "Organization",
        "name": "Jeudis de la Coloc",
        "url": f"{BASE_URL}/g/coloc",
    }
    assert data["maximumAttendeeCapacity"] == 80
    assert data["remainingAttendeeCapacity"] == 80
    assert data["url"] == f"{BASE_URL}/e/{slug}"
    assert data["description"].startswith("Meet your future flatmates. More words")
    assert len(data["description"]) <= 200 and data["description"].endswith("…")


def test_json_ld_attendance_modes(client: Client, db: Database, coloc: str) -> None:
    online = add_event(db, coloc, "Video call", online_url="https://meet.example.org/abc")
    data = json_ld(client.get(f"/e/{online}").text)
    assert data["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert data["location"] == {"@type": "VirtualLocation", "url": "https://meet.example.org/abc"}
    assert "maximumAttendeeCapacity" not in data

    hall = add_venue(db, coloc, "Hall")
    mixed = add_event(
        db, coloc, "Hybrid", venue=hall, online_url="https://meet.example.org/x", capacity="0"
    )
    data = json_ld(client.get(f"/e/{mixed}").text)
    assert data["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    assert [place["@type"] for place in data["location"]] == ["Place", "VirtualLocation"]
    assert data["maximumAttendeeCapacity"] == 0


def test_hostile_title_and_description_are_escaped_everywhere(
    client: Client, db: Database, coloc: str
) -> None:
    title = "<img src=x onerror=alert(1)>"
    slug = add_event(
        db,
        coloc,
        title,
        description="Hello </script><script>alert(2)</script> & <b>bold</b>",
        tags="music",
    )

    for url in (f"/e/{slug}", "/", "/tags/music", "/g/coloc"):
        text = client.get(url).text
        assert "<img src=x" not in text, url
        assert "<script>alert" not in text, url
        assert "&lt;img src=x onerror=alert(1)&gt;" in text, url

    text = client.get(f"/e/{slug}").text
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    assert script is not None
    raw = script.group(1)
    assert "<" not in raw and ">" not in raw and "&" not in raw
    data = json.loads(raw)
    assert data["name"] == title
    assert "</script><script>alert(2)</script> & <b>bold</b>" in data["description"]
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in text  # the visible text


def test_event_page_has_open_graph_and_twitter_tags(
    client: Client, db: Database, coloc: str
) -> None:
    slug = add_event(db, coloc, "Pitch & pizza", description="Five projects look for help.")
    text = client.get(f"/e/{slug}", headers={"accept-language": "fr"}).text
    url = f"{BASE_URL}/e/{slug}"
    for tag in (
        '<meta property="og:title" content="Pitch &amp; pizza">',
        '<meta property="og:description" content="Five projects look for help.">',
        '<meta property="og:type" content="website">',
        f'<meta property="og:url" content="{url}">',
        '<meta property="og:locale" content="fr_FR">',
        '<meta name="twitter:card" content="summary">',
        '<meta name="description" content="Five projects look for help.">',
        f'<link rel="canonical" href="{url}">',
    ):
        assert tag in text


# -- community, venue, tag and past pages --------------------------------------------------


def test_community_page_spells_out_its_rhythm_in_both_languages(
    client: Client, db: Database, coloc: str
) -> None:
    with db.transaction() as session:
        community = CommunityService(session).by_slug(coloc)
        community.description = "Find flatmates.\nEvery month."
        series = SeriesService(session).create(
            community,
            SeriesInput(
                title="Jeudis",
                frequency="monthly",
                weekday="3",
                week_of_month="1",
                starts_on=soon(1).isoformat(),
                publish="on",
            ),
            today=today_in_paris(),
        )
        rhythm_en, rhythm_fr = series.rhythm_en, series.rhythm_fr
        SeriesService(session).create(
            community,
            SeriesInput(title="Unannounced", starts_on=soon(1).isoformat(), weekday="4"),
            today=today_in_paris(),
        )  # its occurrences are drafts: the series is not public yet
    add_event(db, coloc, "Old times", day=soon(-40))

    english = client.get("/g/coloc")
    assert english.status_code == 200
    assert "<h1" in english.text and "Jeudis de la Coloc" in english.text
    assert "Find flatmates." in english.text
    assert html.escape(rhythm_en) in english.text
    assert "first Thursday" in rhythm_en
    assert "Jeudis" in titles(english.text)  # its next occurrences
    assert "Old times" in titles(english.text)  # and the past
    assert "Unannounced" not in english.text

    french = client.get("/g/coloc", headers={"accept-language": "fr"})
    assert html.escape(rhythm_fr) in french.text
    assert html.escape(rhythm_en) not in french.text


def test_community_page_lists_at_most_ten_past_events(
    client: Client, db: Database, coloc: str
) -> None:
    for n in range(12):
        add_event(db, coloc, f"Past {n:02d}", day=soon(-1 - n))
    past = titles(client.get("/g/coloc").text)
    assert past == [f"Past {n:02d}" for n in range(10)]  # most recent first


def test_unknown_community_is_not_found(client: Client) -> None:
    assert client.get("/g/nobody").status_code == 404


def test_venue_page(client: Client, db: Database, coloc: str) -> None:
    venue = add_venue(
        db,
        coloc,
        "La Cantine",
        address="12 rue des Lilas",
        access_notes="Lift at the back",
        latitude="48.8",
        longitude="2.3",
    )
    add_event(db, coloc, "Here", venue=venue)
    add_event(db, coloc, "Elsewhere")

    response = client.get(f"/venues/{venue}")
    assert response.status_code == 200
    assert "12 rue des Lilas" in response.text and "Lift at the back" in response.text
    assert "https://www.openstreetmap.org/?mlat=48.8&amp;mlon=2.3" in response.text
    assert titles(response.text) == ["Here"]
    assert client.get("/venues/nowhere").status_code == 404


def test_tag_page(client: Client, db: Database, coloc: str) -> None:
    add_event(db, coloc, "Jam", tags="Music")
    add_event(db, coloc, "Code", tags="Tech")
    response = client.get("/tags/music")
    assert response.status_code == 200
    assert "Events tagged “Music”" in response.text
    assert titles(response.text) == ["Jam"]
    assert client.get("/tags/no-such-tag").status_code == 404


def test_past_events_archive(client: Client, db: Database, coloc: str) -> None:
    add_event(db, coloc, "Yesterday", day=soon(-1))
    add_event(db, coloc, "Last month", day=soon(-30))
    add_event(db, coloc, "Tomorrow", day=soon(1))
    add_event(db, coloc, "Draft from before", day=soon(-2), publish=False)

    response = client.get("/past")
    assert response.status_code == 200
    assert titles(response.text) == ["Yesterday", "Last month"]
    assert client.get("/past?page=abc").status_code == 200
    old = add_event(db, coloc, "Old", day=soon(-3))
    assert "This event is over." in client.get(f"/e/{old}").text


def test_past_archive_is_paginated(client: Client, db: Database, coloc: str) -> None:
    for n in range(21):
        add_event(db, coloc, f"Past {n:02d}", day=soon(-1 - n))
    assert client.get("/past").text.count(CARD) == 20
    second = client.get("/past?page=2")
    assert titles(second.text) == ["Past 20"]
    assert "Page 2 of 2" in second.text


def test_empty_archive(client: Client) -> None:
    assert "No past events yet." in client.get("/past").text


def _links(text: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', text)]


def test_event_page_offers_to_add_the_event_to_a_calendar(
    client: Client, db: Database, coloc: str
) -> None:
    canteen = add_venue(db, coloc, "La Cantine", address="12 rue des Lilas")
    slug = add_event(db, coloc, "Soirée coloc", day=date(2030, 7, 4), venue=canteen)
    links = _links(client.get(f"/e/{slug}").text)

    assert f"/e/{slug}.ics" in links
    assert client.get(f"/e/{slug}.ics").headers["content-type"].startswith("text/calendar")
    (google,) = [link for link in links if link.startswith("https://calendar.google.com/")]
    query = parse_qs(urlsplit(google).query)
    # 19:00-22:00 in Paris summer time (UTC+2).
    assert query["dates"] == ["20300704T170000Z/20300704T200000Z"]
    assert query["text"] == ["Soirée coloc"]
    assert query["location"] == ["La Cantine, 12 rue des Lilas"]
    for host in ("https://outlook.live.com/", "https://outlook.office.com/"):
        (outlook,) = [link for link in links if link.startswith(host)]
        assert parse_qs(urlsplit(outlook).query)["startdt"] == ["2030-07-04T17:00:00Z"]


def test_past_and_cancelled_events_offer_no_calendar_buttons(
    client: Client, db: Database, coloc: str
) -> None:
    cancelled = add_event(db, coloc, "Called off", cancel="Storm")
    past = add_event(db, coloc, "Long ago", day=soon(-30))
    for slug in (cancelled, past):
        assert f"/e/{slug}.ics" not in _links(client.get(f"/e/{slug}").text)


@pytest.mark.parametrize(
    ("page", "feed"),
    [
        ("/", "/feeds/all.ics"),
        ("/g/coloc", "/g/coloc/feed.ics"),
        ("/tags/music", "/tags/music/feed.ics"),
    ],
)
def test_listing_pages_offer_a_subscription(
    client: Client, db: Database, coloc: str, page: str, feed: str
) -> None:
    add_event(db, coloc, "Jam", tags="Music")
    text = client.get(page).text
    links = _links(text)
    host = BASE_URL.split("://", 1)[1]
    assert f"webcal://{host}{feed}" in links
    assert f'value="{BASE_URL}{feed}"' in text
    (google,) = [link for link in links if link.startswith("https://calendar.google.com/")]
    assert parse_qs(urlsplit(google).query)["cid"] == [f"webcal://{host}{feed}"]
    (office,) = [link for link in links if link.startswith("https://outlook.office.com/")]
    assert parse_qs(urlsplit(office).query)["url"] == [f"{BASE_URL}{feed}"]
    assert "Google Calendar only every few hours" in text
    assert client.get(feed).status_code == 200


def test_the_cached_home_page_shows_a_change_at_once(
    client: Client, db: Database, coloc: str
) -> None:
    assert "No upcoming events yet." in client.get("/").text
    assert "No upcoming events yet." in client.get("/", headers=HTMX).text
    slug = add_event(db, coloc, "Fresh meetup")
    assert "Fresh meetup" in client.get("/").text
    assert "Fresh meetup" in client.get("/", headers=HTMX).text
    with db.transaction() as session:
        EventService(session).cancel(EventService(session).by_slug(slug), "Rain")
    assert "Cancelled" in client.get("/").text


# -- search without accents, reported dates (issue 14, item 9) ------------------------------


def test_search_ignores_accents_and_case_both_ways(
    client: Client, db: Database, coloc: str
) -> None:
    add_event(db, coloc, "Atelier vélo")
    add_event(db, coloc, "Cafe des langues", description="Apéro et **conversation**.")
    add_event(db, coloc, "Œuvres ouvertes")
    add_event(db, coloc, "Something else")
    assert titles(client.get("/?q=velo").text) == ["Atelier vélo"]
    assert titles(client.get("/?q=V%C3%89LO").text) == ["Atelier vélo"]  # VÉLO
    assert titles(client.get("/?q=caf%C3%A9").text) == ["Cafe des langues"]  # café
    assert titles(client.get("/?q=CAFE").text) == ["Cafe des langues"]
    assert titles(client.get("/?q=apero").text) == ["Cafe des langues"]  # in the description
    assert titles(client.get("/?q=oeuvres").text) == ["Œuvres ouvertes"]
    assert titles(client.get("/?q=langues%20cafe").text) == ["Cafe des langues"]  # any order
    assert titles(client.get("/?q=velo%20langues").text) == []  # every word must match
    fragment = client.get("/?q=velo", headers=HTMX).text
    assert titles(fragment) == ["Atelier vélo"]


def test_an_invalid_filter_date_is_reported_not_silently_ignored(
    client: Client, db: Database, coloc: str
) -> None:
    add_event(db, coloc, "Soon")
    for headers in ({}, HTMX):
        page = client.get("/?date_from=2026-13-45&date_to=tomorrow", headers=headers)
        assert page.status_code == 200
        assert "“From” is not a date such as 2026-12-03" in page.text
        assert "“To” is not a date such as 2026-12-03" in page.text
        assert titles(page.text) == ["Soon"]
    assert "is not a date" not in client.get(f"/?date_from={soon(1).isoformat()}").text


# -- the mobile home: search first, filters behind 'Filters' (issue 14, item 8) -----------


def test_the_home_page_puts_search_first_and_counts_the_filters(
    client: Client, db: Database, coloc: str
) -> None:
    add_event(db, coloc, "Soon", tags="music")
    page = client.get("/?q=soon&tag=music&date_from=2020-01-01").text
    search = page.index('id="f-q"')
    assert search < page.index('<details class="filter-more">') < page.index('id="f-community"')
    assert page.index('id="event-list"') < page.index('href="/past"')
    assert '<span class="badge">2 in use</span>' in page
    fragment = client.get("/?tag=music", headers=HTMX).text
    assert (
        'id="filter-count" hx-swap-oob="innerHTML"><span class="badge">1 in use</span>' in fragment
    )
    plain = client.get("/").text
    assert '<span id="filter-count" class="filter-count">' in plain and "in use" not in plain


def test_the_language_switch_keeps_the_query_string(client: Client) -> None:
    page = client.get("/?q=v%C3%A9lo&tag=music").text
    link = re.search(r'href="(/lang/fr\?next=[^"]+)"', page)
    assert link, page
    switched = client.get(html.unescape(link.group(1)), follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/?q=v%C3%A9lo&tag=music"


# -- a moved event's address (issue 14, item 13) -------------------------------------------


def test_a_moved_event_redirects_permanently_from_its_old_address(
    client: Client, db: Database, coloc: str
) -> None:
    slug = add_event(db, coloc, "Jam", day=date(2030, 3, 7))
    assert slug == "jam-2030-03-07"
    with db.transaction() as session:
        service = EventService(session)
        service.update(
            service.by_slug(slug),
            EventInput(
                title="Jam",
                starts_local="2030-03-14T19:00",
                ends_local="2030-03-14T22:00",
                timezone="Europe/Paris",
            ),
        )
    page = client.get("/e/jam-2030-03-07", follow_redirects=False)
    assert page.status_code == 301
    assert page.headers["location"] == "/e/jam-2030-03-14"
    ics = client.get("/e/jam-2030-03-07.ics", follow_redirects=False)
    assert ics.status_code == 301 and ics.headers["location"] == "/e/jam-2030-03-14.ics"
    assert "<h1" in client.get("/e/jam-2030-03-07").text  # followed: the event's page
    assert client.get("/e/jam-2030-03-14").status_code == 200
    assert client.get("/e/jam-2030-03-21", follow_redirects=False).status_code == 404
