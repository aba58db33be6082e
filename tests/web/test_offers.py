"""Offers & needs over HTTP, from the private page (``/r/{token}/offers``): two attendees
post an offer and a need, find each other, write, accept and see what each shares; nobody
else sees anything, no contact detail is in any page before both said yes, every field
typed by someone is escaped, and bad input gets its message and changes nothing."""

from __future__ import annotations

import gc
import re

import pytest
from sqlalchemy import func, select

from events.database import Database
from events.models import (
    Event,
    ExchangeBoard,
    ExchangeContact,
    ExchangeListing,
    ExchangeParticipant,
    Membership,
    Registration,
)
from events.services.door_links import DoorLinkService
from tests.domain.test_exchange import attendee, before, flat_share_board, post
from tests.domain.test_registrations import open_event, person, register
from tests.factories import Factories
from tests.mail.scenario import outbox
from tests.web.conftest import Client

SECRET_PHONE = "+33 6 11 22 33 44"
ADA_EMAIL = "ada.private@example.org"


def token_of(db: Database, event: Event, name: str, **overrides: str) -> str:
    result = register(db, event, person(name, **overrides))
    assert result.manage_token
    return result.manage_token


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def offers(client: Client, token: str, **query: str) -> str:
    page = client.get(f"/r/{token}/offers", params=query)
    assert page.status_code == 200, page.text
    return page.text


def post_listing(client: Client, token: str, **fields: str) -> None:
    answer = client.submit(f"/r/{token}/offers/listings", {"category": "room", **fields})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/r/{token}/offers#mine"


def contact_id(page: str) -> str:
    found = re.search(r'name="contact" value="([0-9a-f-]{36})"', page)
    assert found is not None, "no request to answer on the page"
    return found.group(1)


def listing_id(page: str) -> str:
    found = re.search(r'name="listing" value="([0-9a-f-]{36})"', page)
    assert found is not None, "no listing on the page"
    return found.group(1)


@pytest.fixture
def evening(db: Database, make: Factories) -> tuple[Event, str, str]:
    """A flat-share evening with offers & needs on; Ada offers a room, Bob seeks one."""
    event = flat_share_board(db, make)
    return event, token_of(db, event, "ada", email=ADA_EMAIL), token_of(db, event, "bob")


def test_two_attendees_find_each_other_and_see_what_they_share_only_once_both_said_yes(
    client: Client, db: Database, evening: tuple[Event, str, str]
) -> None:
    _event, ada, bob = evening
    assert f'href="/r/{ada}/offers"' in client.get(f"/r/{ada}").text
    client.submit(
        f"/r/{ada}/offers/sharing",
        {
            "display_name": "Ada",
            "share_email": "on",
            "phone": SECRET_PHONE,
            "meet_note": "Green scarf",
        },
    )
    post_listing(
        client,
        ada,
        side="offer",
        text="Sunny room in Belleville",
        f_area="Belleville",
        f_area_postcode="75020",
        f_budget_min="600",
        f_budget_max="650",
    )
    post_listing(client, bob, side="need", text="Looking for a room", f_budget_max="700")

    found = offers(client, bob)
    assert "Sunny room in Belleville" in found and "Ada" in found
    assert "Matches one of yours on 1 point" in found and "Budget" in found
    # Filtered by budget, and by a budget that excludes it.
    assert "Sunny room" in offers(client, bob, category="room", f_budget_max="620")
    assert "Sunny room" not in offers(client, bob, category="room", f_budget_max="500")

    sent = client.submit(
        f"/r/{bob}/offers/contact", {"listing": listing_id(found), "message": "Hi, I'm Bob!"}
    )
    assert sent.status_code == 303
    assert "No answer yet." in offers(client, bob)
    for page in (offers(client, bob), client.get(f"/r/{bob}/offers/matches").text):
        assert ADA_EMAIL not in page and SECRET_PHONE not in page and "Green scarf" not in page

    received = offers(client, ada)
    assert "Hi, I&#39;m Bob!" in received
    accepted = client.submit(
        f"/r/{ada}/offers/answer", {"contact": contact_id(received), "accept": "yes"}
    )
    assert accepted.status_code == 303
    matched = client.get(f"/r/{bob}/offers/matches").text
    assert ADA_EMAIL in matched and SECRET_PHONE in matched and "Green scarf" in matched
    assert "It is a match." in offers(client, bob)
    assert "person" + "bob@example.org" not in client.get(f"/r/{ada}/offers/matches").text


def test_nobody_else_sees_the_board(
    client: Client, db: Database, make: Factories, evening: tuple[Event, str, str]
) -> None:
    event, ada, _bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal")
    # Another event's registrant has no board; a registration without a place has no seat.
    elsewhere = token_of(db, open_event(db, make), "cy")
    assert client.get(f"/r/{elsewhere}/offers").status_code == 404
    assert client.get("/r/not-a-token/offers").status_code == 404
    cancelled = token_of(db, event, "dan")
    client.submit(f"/r/{cancelled}/cancel", {"confirm": "yes"})
    refused = client.get(f"/r/{cancelled}/offers")
    assert refused.status_code == 409 and "Room near the canal" not in refused.text
    assert f'href="/r/{cancelled}/offers"' not in client.get(f"/r/{cancelled}").text


def test_every_typed_field_is_escaped(client: Client, evening: tuple[Event, str, str]) -> None:
    _event, ada, bob = evening
    evil = "<script>alert(1)</script>"
    client.submit(f"/r/{ada}/offers/sharing", {"display_name": evil, "meet_note": evil})
    post_listing(client, ada, side="offer", text=evil, f_area=evil, f_languages=evil)
    board = offers(client, bob)
    client.submit(f"/r/{bob}/offers/sharing", {"display_name": evil})
    client.submit(f"/r/{bob}/offers/contact", {"listing": listing_id(board), "message": evil})
    received = offers(client, ada)
    client.submit(f"/r/{ada}/offers/answer", {"contact": contact_id(received), "accept": "yes"})
    pages = [
        board,
        received,
        offers(client, bob),
        client.get(f"/r/{bob}/offers/matches").text,
        client.get(f"/r/{ada}/offers/matches").text,
    ]
    for page in pages:
        assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in board


def test_bad_input_is_answered_next_to_the_field_and_changes_nothing(
    client: Client, db: Database, evening: tuple[Event, str, str]
) -> None:
    _event, ada, bob = evening
    refused = client.submit(
        f"/r/{ada}/offers/listings",
        {"category": "room", "side": "offer", "text": "", "f_budget_min": "lots"},
    )
    assert refused.status_code == 400
    assert "This field is required." in refused.text and "Enter a whole number." in refused.text
    assert 'value="lots"' in refused.text
    assert count(db, ExchangeListing) == 0
    assert client.submit(f"/r/{ada}/offers/sharing", {"phone": "call me"}).status_code == 400
    unknown = client.submit(f"/r/{ada}/offers/listings", {"category": "nope", "side": "x"})
    assert unknown.status_code == 400 and "Choose one of the options offered." in unknown.text
    # Filters that do not parse are reported, the board still shows.
    assert "Enter a whole number." in offers(client, bob, category="room", f_budget_min="x")


def test_the_filter_inputs_show_what_each_reader_typed(
    client: Client, evening: tuple[Event, str, str]
) -> None:
    # The filter inputs are rendered once per category, values and errors typed
    # (web/listing_faces.py ``filter_fields``): each reader still gets their own, escaped.
    _event, ada, bob = evening
    typed = '"><script>alert(1)</script>'
    for _twice in range(2):
        first = offers(client, ada, category="room", f_budget_max="620", f_area=typed)
        second = offers(client, bob, category="room", f_budget_max="750")
        third = offers(client, bob, category="room", f_budget_max="750", f_budget_min="x")
        assert 'name="f_budget_max" value="620"' in first and "750" not in first
        assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in first
        assert "<script>alert(1)" not in first and "Enter a whole number." not in first
        assert 'name="f_budget_max" value="750"' in second and "620" not in second
        assert "alert(1)" not in second and "Enter a whole number." not in second
        assert 'name="f_budget_min" value="x"' in third and "Enter a whole number." in third


def test_a_board_page_leaves_its_data_to_reference_counting(
    client: Client, evening: tuple[Event, str, str]
) -> None:
    # A template module imported with the page's context sits in a reference cycle with
    # it, and so did everything the page showed, until the collector ran (a tenth of a
    # millisecond per page, and the memory meanwhile): web/templates/offers/board.html.
    _event, ada, bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal")
    assert "Room near the canal" in offers(client, bob, category="room")
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        assert "Room near the canal" in offers(client, bob, category="room")
        gc.collect()
        left = {type(found).__name__ for found in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert not left & {"AttendeeBoard", "Seat", "Found", "Scored", "Context", "Registration"}


def test_a_message_sent_back_opens_its_box_with_what_was_typed(
    client: Client, db: Database, evening: tuple[Event, str, str]
) -> None:
    _event, ada, bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal")
    post_listing(client, ada, side="offer", text="Another room")
    board = offers(client, bob)
    listing = listing_id(board)
    typed = "<b>Hi</b> " + "x" * 600  # over the 500 characters a message may hold
    refused = client.submit(f"/r/{bob}/offers/contact", {"listing": listing, "message": typed})
    assert refused.status_code == 400
    assert count(db, ExchangeContact) == 0
    item = refused.text.split(f'id="listing-{listing}"')[1].split("</li>")[0]
    assert "<details open>" in item and "&lt;b&gt;Hi&lt;/b&gt; xxx" in item
    assert 'class="error"' in item
    # Only that listing's box is open, and the page's other boxes are empty.
    assert refused.text.count("<details open>") == 1
    assert refused.text.count("&lt;b&gt;Hi") == 1


def test_refusals_are_explained_and_write_nothing(
    client: Client, db: Database, evening: tuple[Event, str, str]
) -> None:
    _event, ada, bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal")
    own = listing_id(offers(client, ada))
    mine = client.submit(f"/r/{ada}/offers/contact", {"listing": own, "message": "Me?"})
    assert mine.status_code == 409
    board = offers(client, bob)
    client.submit(f"/r/{bob}/offers/contact", {"listing": listing_id(board), "message": "Hi"})
    again = client.submit(
        f"/r/{bob}/offers/contact", {"listing": listing_id(board), "message": "?"}
    )
    assert again.status_code == 409
    assert count(db, ExchangeContact) == 1
    gone = client.submit(f"/r/{bob}/offers/answer", {"contact": "junk"}, follow_redirects=True)
    assert "This is no longer on the board" in gone.text


def test_pause_delete_and_block(client: Client, evening: tuple[Event, str, str]) -> None:
    _event, ada, bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal")
    own = listing_id(offers(client, ada))
    client.submit(f"/r/{ada}/offers/listings/pause", {"listing": own, "paused": "yes"})
    assert "Room near the canal" not in offers(client, bob)
    client.submit(f"/r/{ada}/offers/listings/pause", {"listing": own, "paused": "no"})
    board = offers(client, bob)
    assert "Room near the canal" in board
    author = re.search(r'name="participant" value="([0-9a-f-]{36})"', board)
    assert author is not None
    assert (
        client.submit(f"/r/{bob}/offers/block", {"participant": author.group(1)}).status_code == 303
    )
    assert "Room near the canal" not in offers(client, bob)
    client.submit(f"/r/{ada}/offers/listings/delete", {"listing": own})
    assert "Room near the canal" not in offers(client, ada)


def test_the_filter_form_swaps_only_the_results_with_htmx(
    client: Client, evening: tuple[Event, str, str]
) -> None:
    _event, ada, bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal")
    part = client.get(f"/r/{bob}/offers", params={"side": "offer"}, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert part.text.lstrip().startswith("{#") is False
    assert 'id="offers-results"' in part.text and "<html" not in part.text
    assert "Room near the canal" in part.text
    assert part.headers["cache-control"] == "no-store"


def test_a_public_board_is_readable_by_anyone_without_a_way_to_write(
    client: Client, db: Database, evening: tuple[Event, str, str]
) -> None:
    event, ada, _bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal")
    assert client.get(f"/e/{event.slug}/offers").status_code == 404
    with db.transaction() as session:
        board = session.query(ExchangeBoard).one()
        board.public = True
    page = client.get(f"/e/{event.slug}/offers", params={"category": "room", "side": "offer"})
    assert page.status_code == 200 and "Room near the canal" in page.text
    assert "/offers/contact" not in page.text and ada not in page.text


def test_the_board_speaks_french(client: Client, evening: tuple[Event, str, str]) -> None:
    _event, ada, _bob = evening
    page = client.get(f"/r/{ada}/offers", headers={"accept-language": "fr"})
    assert "Offres & demandes" in page.text and "Publier une offre ou une demande" in page.text
    refused = client.submit(
        f"/r/{ada}/offers/sharing", {"phone": "call me"}, headers={"accept-language": "fr"}
    )
    assert "Saisissez un numéro de téléphone" in refused.text


def test_opening_the_board_records_the_visit_although_a_get_commits_nothing(
    client: Client, db: Database, evening: tuple[Event, str, str]
) -> None:
    _event, ada, _bob = evening
    assert count(db, ExchangeParticipant) == 0
    offers(client, ada)
    with db.session() as session:
        participant = session.scalar(select(ExchangeParticipant))
        assert participant is not None and participant.visited_at is not None
    offers(client, ada)  # the same visit: nothing more written
    assert count(db, ExchangeParticipant) == 1


def test_a_long_board_shows_thirty_listings_and_a_link_to_more(
    client: Client, db: Database, evening: tuple[Event, str, str]
) -> None:
    event, _ada, bob = evening
    for n in range(4):
        author = attendee(db, event, f"author{n}")
        for k in range(8):
            post(db, author, before(event), text=f"Room number {n}-{k}")
    page = offers(client, bob)
    assert "32 listings found" in page and page.count('class="exchange-listing"') == 30
    more = re.search(r'href="(/r/[^"]+page=2)"', page)
    assert more is not None
    second = client.get(more.group(1).replace("&amp;", "&"))
    assert second.text.count('class="exchange-listing"') == 32 and "page=3" not in second.text
    assert "Show more" not in second.text


def test_the_author_is_mailed_the_message_and_can_stop_these_mails_in_one_click(
    client: Client, db: Database, evening: tuple[Event, str, str]
) -> None:
    _event, ada, bob = evening
    evil = "<b>Bob</b> & co"
    post_listing(client, ada, side="offer", text="Sunny room")
    client.submit(
        f"/r/{bob}/offers/contact", {"listing": listing_id(offers(client, bob)), "message": evil}
    )
    [mail] = outbox(db, kind="exchange_request")
    assert mail.to_address == ADA_EMAIL
    assert "Sunny room" in mail.text_body and evil in mail.text_body
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in mail.html_body and evil not in mail.html_body
    assert "personbob@example.org" not in mail.text_body + mail.html_body + mail.subject
    stop = re.search(r"(/offers/stop/[\w-]+)", mail.text_body)
    assert stop is not None
    assert "Stop these mails" in client.get(stop.group(1)).text  # a GET stops nothing
    assert "Done: no more mails" in client.submit(stop.group(1)).text
    assert "nothing to stop" in client.submit("/offers/stop/unknown").text
    # The next request is shown on the page, not mailed.
    carol = token_of(db, _event, "carol")
    client.submit(
        f"/r/{carol}/offers/contact",
        {"listing": listing_id(offers(client, carol)), "message": "Hi"},
    )
    assert len(outbox(db, kind="exchange_request")) == 1


def mine_part(page: str) -> str:
    """The "Your listings" part of a board page."""
    return page.split('id="mine"')[1].split('id="post"')[0]


def test_the_author_edits_a_listing_from_a_prefilled_form(
    client: Client, db: Database, evening: tuple[Event, str, str]
) -> None:
    _event, ada, bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal", f_budget_min="600")
    page = offers(client, ada)
    assert 'name="f_budget_min" value="600"' in page and ">Room near the canal</textarea>" in page
    own = re.search(r'name="listing" value="([0-9a-f-]{36})"', page.split('id="mine"')[1])
    assert own is not None
    refused = client.submit(
        f"/r/{ada}/offers/listings/edit",
        {"listing": own.group(1), "category": "room", "side": "offer", "text": ""},
    )
    assert refused.status_code == 400 and "This field is required." in refused.text
    saved = client.submit(
        f"/r/{ada}/offers/listings/edit",
        {
            "listing": own.group(1),
            "category": "room",
            "side": "offer",
            "text": "Room, now furnished",
        },
    )
    assert saved.status_code == 303
    assert "Room, now furnished" in offers(client, bob)
    # The author's own listing shows what it says now (its details are kept per version).
    assert "from 600" in mine_part(page)
    assert "from 600" not in mine_part(offers(client, ada))
    gone = client.submit(
        f"/r/{bob}/offers/listings/edit",
        {"listing": own.group(1), "category": "room", "side": "need", "text": "Mine now"},
        follow_redirects=True,
    )
    assert "This is no longer on the board" in gone.text
    assert "Mine now" not in offers(client, ada)


def test_the_event_page_leads_to_offers_and_needs_without_showing_a_private_board(
    client: Client, db: Database, make: Factories, evening: tuple[Event, str, str]
) -> None:
    event, ada, _bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal")
    private_board = client.get(f"/e/{event.slug}").text
    assert 'id="offers-invite-title"' in private_board
    assert f'href="/e/{event.slug}/resend"' in private_board  # the way to one's private link
    assert f'href="/e/{event.slug}/offers"' not in private_board
    assert "Room near the canal" not in private_board
    # Made public: the page (cached until a change) links to the board itself.
    with db.transaction() as session:
        session.query(ExchangeBoard).one().public = True
    public_board = client.get(f"/e/{event.slug}").text
    assert f'href="/e/{event.slug}/offers"' in public_board
    assert client.get(f"/e/{event.slug}/offers").status_code == 200
    # Switched off: no mention at all; an event without a board has none either.
    with db.transaction() as session:
        session.query(ExchangeBoard).one().enabled = False
    assert 'id="offers-invite-title"' not in client.get(f"/e/{event.slug}").text
    other = open_event(db, make)
    assert 'id="offers-invite-title"' not in client.get(f"/e/{other.slug}").text


def test_a_door_device_sees_nothing_of_the_board(
    client: Client, db: Database, evening: tuple[Event, str, str]
) -> None:
    """Door phones are given the attendees' names and ticket codes, never the board:
    no door page, search or offline snapshot carries a listing or a pseudonym, and a
    ticket code (what a door knows) opens no board."""
    event, ada, bob = evening
    client.submit(f"/r/{ada}/offers/sharing", {"display_name": "Pseudo-Ada-42"})
    post_listing(client, ada, side="offer", text="Sunny room by the canal, 640 euros")
    board = offers(client, bob)  # what the door must not see is on the board
    assert "Sunny room by the canal, 640 euros" in board and "Pseudo-Ada-42" in board
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        owner = session.scalar(
            select(Membership.user_id).where(Membership.community_id == loaded.community_id)
        )
        _link, token = DoorLinkService(session).create(loaded, label="door", created_by=owner)
        codes = list(
            session.scalars(
                select(Registration.ticket_code).where(
                    Registration.event_id == event.id, Registration.ticket_code.is_not(None)
                )
            )
        )
    client.cookies.clear()
    assert client.get(f"/door/{event.slug}/link/{token}").status_code == 200
    door = f"/door/{event.slug}"
    seen = [
        client.get(f"{door}/"),
        client.get(f"{door}/search", params={"q": "ada"}),
        client.get(f"{door}/search", params={"q": "canal"}),
        client.get(f"{door}/snapshot.json"),
        client.get(f"{door}/counters"),
    ]
    assert [page.status_code for page in seen] == [200] * len(seen)
    for page in seen:
        for secret in ("Sunny room", "640 euros", "Pseudo-Ada"):  # the search echoes "canal"
            assert secret not in page.text, (secret, page.url)
    assert codes, "the door knows ticket codes"
    for code in codes:
        assert client.get(f"/t/{code}/offers").status_code == 404
    assert "Sunny room" not in client.get(f"/t/{codes[0]}").text


def test_the_forms_kept_for_every_reader_carry_each_readers_own_token_and_csrf_field(
    client: Client, other_client: Client, evening: tuple[Event, str, str]
) -> None:
    """The listing's actions, the post forms and the edit forms are rendered once for all
    readers with stand-ins (web/listing_faces.py): each page must carry its own reader's
    token and CSRF field, and an edit form follows every change of its listing."""
    _event, ada, bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal", f_budget_min="600")
    post_listing(other_client, bob, side="need", text="Looking for a room", f_budget_max="700")
    for reader, token, other in ((client, ada, bob), (other_client, bob, ada)):
        page = offers(reader, token)
        own_field = f'name="_csrf_token" value="{reader.csrf_token()}"'
        assert "\x00" not in page and other not in page
        # Both readers' forms: the other's listing (write, report, block), the post form of
        # each category, one's own listing's edit form.
        assert page.count(f'action="/r/{token}/offers/contact"') == 1
        assert page.count(f'action="/r/{token}/offers/listings"') >= 2
        assert page.count(f'action="/r/{token}/offers/listings/edit"') == 1
        assert page.count('name="_csrf_token"') == page.count(own_field) >= 6
        assert client.csrf_token() != other_client.csrf_token()
    own = re.search(
        r'name="listing" value="([0-9a-f-]{36})"', offers(client, ada).split('id="mine"')[1]
    )
    assert own is not None
    saved = client.submit(
        f"/r/{ada}/offers/listings/edit",
        {"listing": own.group(1), "category": "room", "side": "offer", "text": "Now furnished"},
    )
    assert saved.status_code == 303
    assert ">Now furnished</textarea>" in offers(client, ada).split('id="mine"')[1]


def test_a_message_sent_back_with_a_mistake_opens_its_own_listing_only(
    client: Client, other_client: Client, evening: tuple[Event, str, str]
) -> None:
    """The listings' items are kept for every reader (web/listing_faces.py); the one whose
    message came back with a mistake is rendered in full, open, with what was typed."""
    _event, ada, bob = evening
    post_listing(client, ada, side="offer", text="Room near the canal")
    post_listing(client, ada, side="offer", text="Another room")
    board = offers(other_client, bob)
    first = listing_id(board)
    typed = "<b>" + "x" * 600
    refused = other_client.submit(f"/r/{bob}/offers/contact", {"listing": first, "message": typed})
    assert refused.status_code == 400
    page = refused.text
    assert page.count("<details open>") == 1
    item = page.split(f'id="listing-{first}"')[1].split("</li>")[0]
    assert "<details open>" in item and "&lt;b&gt;xxx" in item and "<b>x" not in page
    assert 'class="error"' in item
    assert page.count(f'action="/r/{bob}/offers/contact"') == 2
    assert "\x00" not in page
