"""The offers & needs request mail through the real pipeline: rendered by the worker, sent
over SMTP with the one-click unsubscribe headers (RFC 8058), which the site honours without
a cookie or a CSRF token, for the token of the link only."""

from __future__ import annotations

from email.message import EmailMessage
from uuid import UUID

from sqlalchemy import select

from events.database import Database
from events.mail.sender import MailSender
from events.models import ExchangeParticipant
from events.services.exchange_notifications import stop_notifications
from tests.conftest import BASE_URL
from tests.domain.test_exchange import ask, attendee, before, flat_share_board, post
from tests.factories import Factories
from tests.mail.conftest import SmtpServer
from tests.mail.test_community_mails import deliver, inbox_for
from tests.web.conftest import Client

ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def plain(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def request_mails(smtp_server: SmtpServer, address: str) -> list[EmailMessage]:
    """The request mails to ``address`` (the others are about their registration)."""
    return [m for m in inbox_for(smtp_server, address) if "/offers/stop/" in plain(m)]


def notified(db: Database) -> dict[UUID, bool]:
    """Whether each participant (by registration) is mailed their requests."""
    with db.session() as session:
        rows = session.execute(
            select(ExchangeParticipant.registration_id, ExchangeParticipant.notify)
        ).all()
    return {registration: notify for registration, notify in rows}


def test_a_request_mail_carries_a_one_click_unsubscribe_that_stops_only_its_author(
    db: Database, make: Factories, sender: MailSender, smtp_server: SmtpServer, client: Client
) -> None:
    event = flat_share_board(db, make)
    now = before(event)
    ada = attendee(db, event, "ada")
    bob = attendee(db, event, "bob")
    carol = attendee(db, event, "carol")
    listing = post(db, ada, now)
    ask(db, bob, listing, now, message="Could I visit?")
    ask(db, ada, post(db, carol, now, side="need", text="Room sought"), now, message="Mine?")
    deliver(db, sender)

    [mail] = request_mails(smtp_server, "personada@example.org")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mail["List-Unsubscribe"].strip("<>")
    assert url.startswith(f"{BASE_URL}/offers/stop/") and url.endswith("/one-click")
    # The link in the body (the page that asks) is the same secret.
    assert url.removesuffix("/one-click") in plain(mail)
    # Mails about one's own registration are not a subscription: no such header.
    confirmations = inbox_for(smtp_server, "personbob@example.org")
    assert confirmations and all("List-Unsubscribe" not in m for m in confirmations)

    path = url.removeprefix(BASE_URL)
    client.cookies.clear()
    # Negative controls: a forged token, or another one's link shortened, stops nothing.
    assert (
        client.post(path[:-14] + "xyz/one-click", content=ONE_CLICK_BODY, headers=FORM).status_code
        == 404
    )
    assert all(notified(db).values())
    # What a mail client does (RFC 8058): a POST, no cookie, no CSRF token.
    done = client.post(path, content=ONE_CLICK_BODY, headers=FORM)
    assert done.status_code == 200 and "set-cookie" not in done.headers
    assert "no-store" in done.headers["cache-control"]
    assert notified(db) == {ada.id: False, bob.id: True, carol.id: True}
    # Again (a retrying client): the same answer. A GET only leads to the page that asks.
    assert client.post(path, content=ONE_CLICK_BODY, headers=FORM).status_code == 200
    opened = client.get(path, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == path.removesuffix(
        "/one-click"
    )


def test_a_stop_token_is_matched_whole(db: Database, make: Factories) -> None:
    event = flat_share_board(db, make)
    now = before(event)
    ada = attendee(db, event, "ada")
    post(db, ada, now)
    with db.session() as session:
        token = session.scalars(select(ExchangeParticipant.unsubscribe_token)).one()
    with db.transaction() as session:
        for forged in ("", token[:-1], token + "x", "%", "x" * 65):
            assert not stop_notifications(session, forged)
    assert all(notified(db).values())
