"""The organiser's outbox page: what it lists, filtering, one message, sending again, scope."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from events.clock import utcnow
from events.database import Database
from events.mail.notify import enqueue
from events.models import Community, Event, OutboxMessage, OutboxStatus, Role
from events.services.communities import CommunityService
from events.services.registrations import RegistrationService
from tests.factories import Factories
from tests.mail.scenario import open_event, outbox, person, register
from tests.web.conftest import Client, Member


@pytest.fixture
def community(organiser_member: Member) -> Community:
    return organiser_member.community


def set_status(db: Database, status: OutboxStatus, **values: object) -> None:
    with db.transaction() as session:
        session.execute(update(OutboxMessage).values(status=status, **values))


def test_an_empty_outbox_explains_itself(member_client: Client) -> None:
    response = member_client.get("/manage/coloc/outbox")
    assert response.status_code == 200
    assert "No e-mail yet" in response.text
    assert "No mail server is configured" in response.text  # the demo: mails are kept here
    assert 'href="/manage/coloc/outbox"' in member_client.get("/manage/coloc").text


def test_the_outbox_lists_the_communitys_mails_and_opens_one(
    member_client: Client, db: Database, make: Factories, community: Community
) -> None:
    event = open_event(db, make, community=community, title="Pitch <night>")
    result = register(db, event, person(1, name="<i>Ada</i>"))
    other = open_event(db, make, title="Someone else's party")
    register(db, other, person(2))

    listing = member_client.get("/manage/coloc/outbox")

    assert listing.status_code == 200
    assert "Your place at Pitch &lt;night&gt;" in listing.text
    assert "person1@example.org" in listing.text
    assert "Someone else" not in listing.text and "person2@example.org" not in listing.text
    [mine] = outbox(db, to_address="person1@example.org")
    page = member_client.get(f"/manage/coloc/outbox/{mine.id}")
    assert page.status_code == 200
    assert "Hello &lt;i&gt;Ada&lt;/i&gt;," in page.text  # the text body, escaped
    assert "<i>Ada</i>" not in page.text
    # Not sent yet (no SMTP here), and still: the private link is masked, not shown.
    assert result.manage_token not in page.text
    assert f"/r/••••{result.manage_token[-4:]}" in page.text
    assert "ticket.png" in page.text


@pytest.mark.parametrize("status", [OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.FAILED])
def test_the_private_link_feed_and_ticket_are_masked_whatever_the_status(
    member_client: Client, db: Database, make: Factories, community: Community, status: OutboxStatus
) -> None:
    event = open_event(db, make, community=community)
    result = register(db, event, person(1))
    set_status(db, status, sent_at=utcnow(), last_error="timed out")
    [mail] = outbox(db)
    [feed_token] = FEED_LINK.findall(mail.text_body)  # what the attendee received
    ticket_code = result.registration.ticket_code
    assert result.manage_token in mail.text_body and ticket_code in mail.text_body

    page = member_client.get(f"/manage/coloc/outbox/{mail.id}").text
    listing = member_client.get("/manage/coloc/outbox").text

    for token in (result.manage_token, feed_token, ticket_code):
        assert token not in page and token not in listing
    # The page still proves what was sent: each link, its token masked.
    assert f"/r/••••{result.manage_token[-4:]}" in page
    assert f"/me/••••{feed_token[-4:]}/feed.ics" in page
    assert f"/t/••••{ticket_code[-4:]}" in page
    assert "are masked" in page


FEED_LINK = re.compile(r"/me/([^/\s\"<]+)/feed\.ics")


def test_an_organiser_cannot_read_an_attendees_registrations_in_other_communities(
    member_client: Client, db: Database, make: Factories, community: Community
) -> None:
    """The review's attack: an organiser opened the personal feed link of an attendee's mail
    in their outbox and read where else the attendee had registered."""
    elsewhere = open_event(db, make, title="Support group for something private")
    register(db, elsewhere, person(1))
    ours = open_event(db, make, community=community, title="Pitch night")
    register(db, ours, person(1))
    [mail] = outbox(db, event_id=ours.id)
    [feed_token] = FEED_LINK.findall(mail.text_body)
    # Positive control: the token in the mail does open a feed listing the other community.
    feed = member_client.get(f"/me/{feed_token}/feed.ics")
    assert feed.status_code == 200 and "Support group for something private" in feed.text

    page = member_client.get(f"/manage/coloc/outbox/{mail.id}").text
    shown = FEED_LINK.findall(page)
    assert shown == [f"••••{feed_token[-4:]}"]
    assert member_client.get(f"/me/{shown[0]}/feed.ics").status_code == 404
    assert feed_token not in page and "Support group" not in page


def test_filter_by_status_and_pages_of_fifty(
    member_client: Client, db: Database, community: Community
) -> None:
    now = utcnow()
    with db.transaction() as session:
        for n in range(53):
            enqueue(
                session,
                kind="reminder",
                to_address=f"p{n}@example.org",
                subject=f"Mail number {n:02d}",
                text_body="Hello",
                community_id=community.id,
                now=now,
            )
    with db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.subject == "Mail number 00")
            .values(status=OutboxStatus.FAILED, last_error="550 No such user")
        )

    first = member_client.get("/manage/coloc/outbox")
    assert first.text.count('class="badge outbox-') == 50
    assert "Page 1 of 2" in first.text and "Mail number 52" in first.text  # newest first
    second = member_client.get("/manage/coloc/outbox?page=2")
    assert second.text.count('class="badge outbox-') == 3 and "Mail number 00" in second.text
    failed = member_client.get("/manage/coloc/outbox?status=failed")
    assert failed.text.count('class="badge outbox-') == 1 and "Mail number 00" in failed.text
    assert "Send the 1 failed message again" in failed.text
    sent = member_client.get("/manage/coloc/outbox?status=sent")
    assert "No message with this status." in sent.text
    for query in ("?status=bogus", "?page=zero", "?page=-3", "?page=99999999999999999999"):
        assert member_client.get(f"/manage/coloc/outbox{query}").status_code == 200
    fragment = member_client.get(
        "/manage/coloc/outbox?status=failed", headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text and "Mail number 00" in fragment.text


def test_a_failed_message_can_be_sent_again(
    member_client: Client, db: Database, make: Factories, community: Community
) -> None:
    event = open_event(db, make, community=community)
    register(db, event, person(1))
    register(db, event, person(2))
    [first, second] = outbox(db)
    set_status(db, OutboxStatus.FAILED, attempts=10, last_error="timed out")

    page = member_client.get(f"/manage/coloc/outbox/{first.id}")
    assert "timed out" in page.text and "Send again" in page.text
    response = member_client.submit(f"/manage/coloc/outbox/{first.id}/send-again")
    assert response.status_code == 303
    again = outbox(db, id=first.id)[0]
    assert (again.status, again.attempts) == (OutboxStatus.PENDING, 0)
    assert again.next_attempt_at <= utcnow() + timedelta(seconds=1)
    assert "back in line" in member_client.get(f"/manage/coloc/outbox/{first.id}").text
    # Not failed any more: nothing to do.
    assert member_client.submit(f"/manage/coloc/outbox/{first.id}/send-again").status_code == 303
    assert outbox(db, id=first.id)[0].status is OutboxStatus.PENDING
    assert "Only a failed message" in member_client.get(f"/manage/coloc/outbox/{first.id}").text

    assert member_client.submit("/manage/coloc/outbox/send-again").status_code == 303
    assert outbox(db, id=second.id)[0].status is OutboxStatus.PENDING


def test_the_outbox_is_scoped_to_the_community(
    client: Client, db: Database, make: Factories, community: Community
) -> None:
    event = open_event(db, make, community=community)
    register(db, event, person(1))
    [mail] = outbox(db)
    set_status(db, OutboxStatus.FAILED)
    stranger = make.user()
    make.community(owner=stranger, slug="theirs")
    client.login_as(db, stranger)

    assert client.get("/manage/coloc/outbox").status_code == 404
    assert client.get(f"/manage/coloc/outbox/{mail.id}").status_code == 404
    assert client.submit(f"/manage/coloc/outbox/{mail.id}/send-again").status_code == 404
    # Through their own community, another community's message does not exist either.
    response = client.get(f"/manage/theirs/outbox/{mail.id}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/manage/theirs/outbox"
    assert client.submit(f"/manage/theirs/outbox/{mail.id}/send-again").status_code == 303
    assert client.submit("/manage/theirs/outbox/send-again").status_code == 303
    assert outbox(db)[0].status is OutboxStatus.FAILED


def test_door_volunteers_cannot_read_the_outbox(
    client: Client, db: Database, make: Factories, community: Community
) -> None:
    door = make.member(community, role=Role.DOOR)
    client.login_as(db, door)
    assert client.get("/manage/coloc/outbox").status_code == 403
    with db.session() as session:
        assert CommunityService(session).by_slug("coloc").id == community.id


def test_a_mail_not_yet_written_says_so_and_shows_no_link(
    member_client: Client, db: Database, make: Factories, community: Community
) -> None:
    event = open_event(db, make, community=community)
    with db.transaction() as session:  # registered; the worker has not rendered it yet
        loaded = session.get(Event, event.id)
        assert loaded is not None
        token = RegistrationService(session).register(loaded, person(1)).manage_token
    with db.session() as session:
        [waiting] = session.scalars(select(OutboxMessage))

    listing = member_client.get("/manage/coloc/outbox")
    page = member_client.get(f"/manage/coloc/outbox/{waiting.id}")

    assert "(being written)" in listing.text and "person1@example.org" in listing.text
    assert page.status_code == 200 and "being written" in page.text
    assert f"/r/{token}" not in page.text
