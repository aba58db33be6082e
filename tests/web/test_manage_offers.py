"""The organisers' offers & needs page: switch on with a preset, settings, counts only
(never a message, a name or who matched with whom), a printable summary, switch off."""

from __future__ import annotations

from datetime import date

import pytest

from events.database import Database
from events.models import Community, Event, ExchangeBoard
from events.services.events import EventInput, EventService
from events.services.series import SeriesInput, SeriesService
from tests.factories import Factories
from tests.mail.scenario import outbox
from tests.web.conftest import Client
from tests.web.test_offers import contact_id, listing_id, offers, post_listing, token_of


@pytest.fixture
def event(client: Client, db: Database, make: Factories) -> Event:
    owner = make.user()
    community = make.community(owner=owner, slug="coloc")
    with db.transaction() as session:
        service = EventService(session)
        created = service.create(
            community,
            EventInput(
                title="Soirée colocation",
                starts_local="2027-03-04T19:00",
                ends_local="2027-03-04T22:00",
            ),
        )
        service.publish(created)
    client.login_as(db, owner)
    return created


def url(event: Event) -> str:
    return f"/manage/coloc/events/{event.slug}/offers"


def test_switch_on_see_counts_only_and_switch_off(
    client: Client, other_client: Client, db: Database, event: Event
) -> None:
    assert "Switch offers & needs on" in client.get(url(event)).text
    assert client.submit(f"{url(event)}/on", {"preset": "flat_share"}).status_code == 303
    ada, bob = token_of(db, event, "ada"), token_of(db, event, "bob")
    post_listing(other_client, ada, side="offer", text="Secret room text")
    board = offers(other_client, bob)
    other_client.submit(
        f"/r/{bob}/offers/contact", {"listing": listing_id(board), "message": "Private hello"}
    )
    other_client.submit(
        f"/r/{ada}/offers/answer",
        {"contact": contact_id(offers(other_client, ada)), "accept": "yes"},
    )
    for page in (client.get(url(event)).text, client.get(f"{url(event)}/summary").text):
        assert "1 listing" in page and "1 match" in page
        for private in ("Secret room text", "Private hello", "Person ada", "personada@"):
            assert private not in page
    assert "never see the messages" in client.get(url(event)).text

    assert client.submit(f"{url(event)}/off").status_code == 303
    assert other_client.get(f"/r/{ada}/offers").status_code == 404


def test_settings_are_checked_and_saved(client: Client, db: Database, event: Event) -> None:
    client.submit(f"{url(event)}/on", {"preset": "projects"})
    refused = client.submit(f"{url(event)}/settings", {"expire_days": "1000"})
    assert refused.status_code == 400 and "out of the allowed range" in refused.text
    saved = client.submit(f"{url(event)}/settings", {"public": "on", "expire_days": "7"})
    assert saved.status_code == 303
    with db.session() as session:
        board = session.query(ExchangeBoard).one()
        assert board.public and board.expire_days == 7


def test_an_unknown_preset_is_refused(client: Client, db: Database, event: Event) -> None:
    refused = client.submit(f"{url(event)}/on", {"preset": "karaoke"})
    assert refused.status_code == 400 and "Choose one of the options offered." in refused.text
    with db.session() as session:
        assert session.query(ExchangeBoard).count() == 0


def test_reported_listings_reach_the_organisers_queue_without_who_reported(
    client: Client, other_client: Client, db: Database, event: Event
) -> None:
    client.submit(f"{url(event)}/on", {"preset": "flat_share"})
    ada = token_of(db, event, "ada")
    post_listing(other_client, ada, side="offer", text="Dubious room offer")
    reporters = [token_of(db, event, f"reporter{n}") for n in range(3)]
    for reporter in reporters:
        listing = listing_id(offers(other_client, reporter))
        done = other_client.submit(
            f"/r/{reporter}/offers/report", {"listing": listing}, follow_redirects=True
        )
        assert "the listing is reported" in done.text and "Dubious room offer" not in done.text
    late = token_of(db, event, "late")
    assert "Dubious room offer" not in offers(other_client, late)  # hidden for everyone
    page = client.get(url(event)).text
    assert "Dubious room offer" in page and "3 reports" in page and "Hidden" in page
    assert "reporter" not in page.lower().replace("reported", "")
    restored = client.submit(f"{url(event)}/moderate", {"listing": listing, "action": "restore"})
    assert restored.status_code == 303
    assert "Dubious room offer" in offers(other_client, late)
    gone = client.submit(f"{url(event)}/moderate", {"listing": "nope", "action": "hide"})
    assert gone.status_code == 303


def test_the_outbox_never_shows_organisers_what_attendees_wrote(
    client: Client, other_client: Client, db: Database, event: Event
) -> None:
    client.submit(f"{url(event)}/on", {"preset": "flat_share"})
    ada, bob = token_of(db, event, "ada"), token_of(db, event, "bob")
    post_listing(other_client, ada, side="offer", text="Room near the canal")
    listing = listing_id(offers(other_client, bob))
    other_client.submit(f"/r/{bob}/offers/contact", {"listing": listing, "message": "Secret hello"})
    [mail] = outbox(db, kind="exchange_request")
    assert "Secret hello" in mail.text_body
    page = client.get(f"/manage/coloc/outbox/{mail.id}")
    assert page.status_code == 200
    assert "Secret hello" not in page.text and "Room near the canal" not in page.text
    assert "its content is not shown to organisers" in page.text
    assert "Secret hello" not in client.get("/manage/coloc/outbox").text


def test_a_series_board_is_switched_on_for_every_occurrence(
    client: Client, other_client: Client, db: Database, make: Factories, event: Event
) -> None:
    with db.transaction() as session:
        community = session.get(Community, event.community_id)
        assert community is not None
        series = SeriesService(session).create(
            community,
            SeriesInput(title="Jeudis de la coloc", starts_on="2027-01-07", publish="on"),
            today=date(2027, 1, 1),
        )
        first, second = SeriesService(session).occurrences(series)[:2]
    here = f"/manage/coloc/series/{series.slug}/offers"
    assert f'href="{here}"' in client.get(f"/manage/coloc/series/{series.slug}").text
    assert "shared by every occurrence" in client.get(here).text
    assert client.submit(f"{here}/on", {"preset": "projects"}).status_code == 303
    ada, bob = token_of(db, first, "ada"), token_of(db, second, "bob")
    answer = other_client.submit(
        f"/r/{ada}/offers/listings", {"category": "skills", "side": "offer", "text": "Python help"}
    )
    assert answer.status_code == 303
    assert "Python help" in offers(other_client, bob)  # another occurrence, the same board
    assert "1 listing" in client.get(here).text
    assert client.submit(f"{here}/off").status_code == 303
    assert other_client.get(f"/r/{bob}/offers").status_code == 404


def board_categories(db: Database) -> dict[str, dict[str, object]]:
    with db.session() as session:
        return {c["id"]: c for c in session.query(ExchangeBoard).one().categories}


def test_organisers_add_edit_and_remove_categories_with_plain_forms(
    client: Client, other_client: Client, db: Database, event: Event
) -> None:
    client.submit(f"{url(event)}/on", {"preset": "flat_share"})
    page = client.get(url(event)).text
    assert f'href="{url(event)}/categories/room"' in page
    assert f'href="{url(event)}/categories/new"' in page
    form = client.get(f"{url(event)}/categories/new")
    assert form.status_code == 200 and form.text.count('name="field_kind"') == 6

    # Errors next to their field, what was typed kept (escaped), nothing written.
    refused = client.submit(
        f"{url(event)}/categories/new",
        {
            "label": "",
            "offer": "<b>Bike</b> lent",
            "need": "Bike sought",
            "field_kind": ["bogus", *[""] * 5],
            "field_label": ["Size", *[""] * 5],
            "field_options": [""] * 6,
        },
    )
    assert refused.status_code == 400
    assert 'id="label-error"' in refused.text and 'id="field_0_kind-error"' in refused.text
    assert "&lt;b&gt;Bike&lt;/b&gt; lent" in refused.text and "<b>Bike</b>" not in refused.text
    assert len(board_categories(db)) == 2

    added = client.submit(
        f"{url(event)}/categories/new",
        {
            "label": "Bikes",
            "offer": "Bike lent",
            "need": "Bike sought",
            "field_kind": ["tags", *[""] * 5],
            "field_label": ["Size", *[""] * 5],
            "field_options": ["S, M, L", *[""] * 5],
        },
    )
    assert added.status_code == 303
    [bikes] = [c for c in board_categories(db).values() if c["label"] == "Bikes"]
    assert bikes["fields"] == [
        {
            "id": bikes["fields"][0]["id"],
            "kind": "tags",
            "label": "Size",
            "options": ["S", "M", "L"],
        }  # type: ignore[index]
    ]

    # Editing keeps the ids of the fields that stay (listings' values stay attached).
    room = board_categories(db)["room"]
    edit = client.get(f"{url(event)}/categories/room").text
    assert 'value="Room"' in edit or "Room" in edit
    kinds = [f["kind"] for f in room["fields"]]  # type: ignore[union-attr]
    labels = [f["label"] for f in room["fields"]]  # type: ignore[union-attr]
    pad = 6 - len(kinds)
    saved = client.submit(
        f"{url(event)}/categories/room",
        {
            "label": "Rooms",
            "offer": "Room offered",
            "need": "Room sought",
            "field_kind": kinds + [""] * pad,
            "field_label": labels + [""] * pad,
            "field_options": [", ".join(f["options"]) for f in room["fields"]] + [""] * pad,  # type: ignore[union-attr]
        },
    )
    assert saved.status_code == 303
    edited = board_categories(db)["room"]
    assert edited["label"] == "Rooms" and edited["fields"] == room["fields"]

    # Removing asks first (a GET changes nothing); a used category is closed, not deleted.
    ada = token_of(db, event, "ada")
    post_listing(other_client, ada, side="offer", text="Room kept")
    ask = client.get(f"{url(event)}/categories/room/remove")
    assert ask.status_code == 200 and "Remove the category" in ask.text
    assert not board_categories(db)["room"].get("removed")
    assert client.submit(f"{url(event)}/categories/room/remove").status_code == 303
    assert board_categories(db)["room"]["removed"] is True
    assert "Room kept" in offers(other_client, token_of(db, event, "bob"))
    bike_id = bikes["id"]
    assert client.submit(f"{url(event)}/categories/{bike_id}/remove").status_code == 303
    assert bike_id not in board_categories(db)
    assert client.get(f"{url(event)}/categories/{bike_id}").status_code == 404


def test_another_communitys_organiser_cannot_touch_the_categories(
    client: Client, other_client: Client, db: Database, make: Factories, event: Event
) -> None:
    client.submit(f"{url(event)}/on", {"preset": "flat_share"})
    other_client.login_as(db, make.user())
    assert other_client.get(f"{url(event)}/categories/room").status_code in {403, 404}
    refused = other_client.submit(f"{url(event)}/categories/room/remove")
    assert refused.status_code in {403, 404}
    assert "room" in board_categories(db) and not board_categories(db)["room"].get("removed")
