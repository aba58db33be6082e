"""Reporting a relayed message over HTTP: the recipient's button (a reason required, no
script), three people suspend the sender (their listings gone, their next message refused
next to the form), the organisers' queue with counts and never a message, refused to
another community's organiser, the pseudonym escaped; restoring brings them back."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from events.database import Database
from events.models import (
    Event,
    ExchangeContact,
    ExchangeListing,
    ExchangeMessageReport,
    ExchangeParticipant,
)
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.test_manage_offers import event, url
from tests.web.test_offers import contact_id, count, offers, post_listing, token_of

__all__ = ["event"]  # the fixture, used by name

EVIL_NAME = "<b>Spam & co</b>"
PILLS = "Buy my pills"


def listing_with(db: Database, text: str) -> str:
    with db.session() as session:
        found = session.scalar(select(ExchangeListing.id).where(ExchangeListing.text == text))
        assert found is not None
        return str(found)


def scene(
    client: Client, other_client: Client, db: Database, event: Event
) -> tuple[str, list[str]]:
    """Offers & needs on; a spammer (a pseudonym with markup) writes to three authors."""
    assert client.submit(f"{url(event)}/on", {"preset": "flat_share"}).status_code == 303
    spammer = token_of(db, event, "spammer")
    other_client.submit(f"/r/{spammer}/offers/sharing", {"display_name": EVIL_NAME})
    post_listing(other_client, spammer, side="need", text="Spammer seeks a room")
    authors = [token_of(db, event, f"author{n}") for n in range(3)]
    for n, author in enumerate(authors):
        post_listing(other_client, author, side="offer", text=f"Room {n}")
        sent = other_client.submit(
            f"/r/{spammer}/offers/contact",
            {"listing": listing_with(db, f"Room {n}"), "message": f"{PILLS} {n}"},
        )
        assert sent.status_code == 303, sent.text
    return spammer, authors


def report(client: Client, token: str, contact: str, reason: str = "spam") -> object:
    return client.submit(
        f"/r/{token}/offers/report-message", {"contact": contact, "reason": reason}
    )


def test_three_recipients_report_and_the_organisers_see_counts_never_messages(
    client: Client, other_client: Client, db: Database, make: Factories, event: Event
) -> None:
    spammer, authors = scene(client, other_client, db, event)
    received = offers(other_client, authors[0])
    assert f"{PILLS} 0" in received and "Report this message" in received
    assert 'action="/r/' + authors[0] + '/offers/report-message"' in received
    # No reason: the form again, open, saying so; nothing recorded.
    missing = report(other_client, authors[0], contact_id(received), reason="")
    assert missing.status_code == 400  # type: ignore[attr-defined]
    assert "Choose one of the options offered." in missing.text  # type: ignore[attr-defined]
    assert count(db, ExchangeMessageReport) == 0
    # Someone else than the recipient: "no longer here", nothing recorded.
    gone = report(other_client, authors[1], contact_id(received))
    assert gone.status_code == 303 and count(db, ExchangeMessageReport) == 0  # type: ignore[attr-defined]
    for author in authors:
        done = report(other_client, author, contact_id(offers(other_client, author)))
        assert done.status_code == 303  # type: ignore[attr-defined]
        assert done.headers["location"] == f"/r/{author}/offers#contacts"  # type: ignore[attr-defined]
    assert "the message is reported" in offers(other_client, authors[0])

    late = token_of(db, event, "late")
    assert "Spammer seeks a room" not in offers(other_client, late)  # suspended
    post_listing(other_client, late, side="offer", text="Late room")
    refused = other_client.submit(
        f"/r/{spammer}/offers/contact",
        {"listing": listing_with(db, "Late room"), "message": "One more"},
    )
    assert refused.status_code == 409
    assert "You can no longer write to anyone on this board" in refused.text
    assert "One more" in refused.text  # kept in the form

    page = client.get(url(event)).text
    assert "Reported people" in page and "reported by 3 people" in page and "Suspended" in page
    assert "&lt;b&gt;Spam &amp; co&lt;/b&gt;" in page and EVIL_NAME not in page
    assert PILLS not in page  # never a message
    assert "never the messages" in page
    french = client.get(url(event), headers={"accept-language": "fr"}).text
    assert "Personnes signalées" in french and "signalée par 3 personnes" in french
    assert PILLS not in french

    # Another community's organiser cannot touch it.
    with db.session() as session:
        spammy = session.scalar(select(ExchangeParticipant.id).where(ExchangeParticipant.suspended))
    assert spammy is not None
    other_client.login_as(db, make.user())
    stranger = other_client.submit(
        f"{url(event)}/people", {"participant": str(spammy), "action": "restore"}
    )
    assert stranger.status_code in {403, 404}
    assert count(db, ExchangeMessageReport) == 3

    restored = client.submit(
        f"{url(event)}/people", {"participant": str(spammy), "action": "restore"}
    )
    assert restored.status_code == 303
    assert count(db, ExchangeMessageReport) == 0
    assert "Spammer seeks a room" in offers(other_client, late)
    assert "Nobody reported." in client.get(url(event)).text
    suspended = client.submit(
        f"{url(event)}/people", {"participant": str(spammy), "action": "suspend"}
    )
    assert suspended.status_code == 303
    assert "Spammer seeks a room" not in offers(other_client, late)
    unknown = client.submit(f"{url(event)}/people", {"participant": "nope", "action": "suspend"})
    assert unknown.status_code == 303


def reasons_shown(page: str) -> list[str]:
    """The reasons listed under the reported person (each with its moment)."""
    found = re.search(r'<ul class="report-reasons"[^>]*>(.*?)</ul>', page, re.S)
    assert found is not None, "no reasons on the page"
    items = re.findall(r"<li>(.*?) · <time datetime=\"[^\"]+\">[^<]+</time></li>", found.group(1))
    return [html.unescape(item) for item in items]


def test_the_organisers_see_why_and_when_each_report_was_made_never_who(
    client: Client, other_client: Client, db: Database, event: Event
) -> None:
    spammer, authors = scene(client, other_client, db, event)
    reasons = ["offensive", "spam", "personal_data"]
    for n, (author, reason) in enumerate(zip(authors, reasons, strict=True)):
        other_client.submit(f"/r/{author}/offers/sharing", {"display_name": f"Reporter{n}"})
        report(other_client, author, contact_id(offers(other_client, author)), reason)
    page = client.get(url(event)).text
    assert reasons_shown(page) == [
        "Offensive or hateful",
        "Spam or advertising",
        "Someone's personal data",
    ]
    assert "reported by 3 people" in page
    for n, author in enumerate(authors):  # never who reported, nor their links
        assert f"Reporter{n}" not in page and author not in page
    assert PILLS not in page and spammer not in page
    french = client.get(url(event), headers={"accept-language": "fr"}).text
    assert reasons_shown(french) == [
        "Offensant ou haineux",
        "Spam ou publicité",
        "Des données personnelles de quelqu’un",
    ]


def test_the_reporter_sees_what_they_reported_and_cannot_report_it_again(
    client: Client, other_client: Client, db: Database, event: Event
) -> None:
    _spammer, (first, second, _third) = scene(client, other_client, db, event)
    form = 'action="/r/{}/offers/report-message"'
    reported = contact_id(offers(other_client, first))
    assert report(other_client, first, reported, "offensive").status_code == 303  # type: ignore[attr-defined]
    page = offers(other_client, first)
    assert "You reported this message (Offensive or hateful, <time datetime=" in page
    assert form.format(first) not in page  # nothing left to report
    assert f"{PILLS} 0" in page  # the message itself stays, for the person who got it
    # The same report again (a second tab, a replayed form): still one, the first reason.
    assert report(other_client, first, reported, "spam").status_code == 303  # type: ignore[attr-defined]
    with db.session() as session:
        assert list(session.scalars(select(ExchangeMessageReport.reason))) == ["offensive"]
    # Negative control: someone who did not report still has the button, unmarked.
    untouched = offers(other_client, second)
    assert form.format(second) in untouched and "You reported" not in untouched
    french = other_client.get(f"/r/{first}/offers", headers={"accept-language": "fr"}).text
    assert "Vous avez signalé ce message (Offensant ou haineux" in french


def _spammer_id(db: Database) -> str:
    with db.session() as session:
        found = session.scalar(
            select(ExchangeParticipant.id).where(ExchangeParticipant.display_name == EVIL_NAME)
        )
    assert found is not None
    return str(found)


def test_a_suspended_persons_earlier_requests_and_listings_leave_every_view_until_restored(
    client: Client, other_client: Client, db: Database, event: Event
) -> None:
    """The spammer wrote (and posted) before being suspended; an honest person did the
    same: after the suspension, the spammer's request and listing are gone from the
    recipient's conversations, the attendees' board and the public board, the honest
    person's stay (negative control); restoring brings the spammer's back."""
    spammer, (author, *_others) = scene(client, other_client, db, event)
    honest = token_of(db, event, "honest")
    post_listing(other_client, honest, side="need", text="Honest seeks a room")
    sent = other_client.submit(
        f"/r/{honest}/offers/contact",
        {"listing": listing_with(db, "Room 0"), "message": "Honest hello"},
    )
    assert sent.status_code == 303
    saved = client.submit(f"{url(event)}/settings", {"public": "on", "expire_days": "14"})
    assert saved.status_code == 303
    reader = token_of(db, event, "reader")

    def views() -> dict[str, str]:
        return {
            "conversations": offers(other_client, author),
            "attendees' board": offers(other_client, reader),
            "public board": other_client.get(f"/e/{event.slug}/offers").text,
        }

    before = views()
    assert f"{PILLS} 0" in before["conversations"] and "Honest hello" in before["conversations"]
    for name in ("attendees' board", "public board"):
        assert "Spammer seeks a room" in before[name] and "Honest seeks a room" in before[name]

    spammy = _spammer_id(db)
    suspended = client.submit(f"{url(event)}/people", {"participant": spammy, "action": "suspend"})
    assert suspended.status_code == 303
    after = views()
    assert f"{PILLS} 0" not in after["conversations"]
    assert "Honest hello" in after["conversations"]  # negative control
    for name in ("attendees' board", "public board"):
        assert "Spammer seeks a room" not in after[name], name
        assert "Honest seeks a room" in after[name], name  # negative control
    # Hidden, not deleted: the spammer still sees their request waiting.
    assert "No answer yet." in offers(other_client, spammer)
    with db.session() as session:
        states = session.scalars(
            select(ExchangeContact.state).where(ExchangeContact.message.like(f"{PILLS}%"))
        )
        assert set(states) == {"pending"}

    restore = client.submit(f"{url(event)}/people", {"participant": spammy, "action": "restore"})
    assert restore.status_code == 303
    restored = views()
    assert f"{PILLS} 0" in restored["conversations"]
    assert "Spammer seeks a room" in restored["public board"]
