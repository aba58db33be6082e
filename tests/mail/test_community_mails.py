"""Mails of calls for proposals, through the real pipeline: queued in the change's
transaction, rendered by the worker in the recipient's language, sent over SMTP with the
one-click unsubscribe headers (RFC 8058) that the site then honours without a cookie."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select

from events.clock import utcnow
from events.database import Database
from events.mail.prepare import prepare_outbox
from events.mail.sender import MailSender
from events.models import Follow, OutboxMessage, OutboxStatus, ProposalPerson
from events.services import confirmations, follows
from events.services.proposal_records import proposal_subject
from events.services.proposals import ProposalService
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.mail.conftest import SmtpServer
from tests.mail.scenario import MAIL
from tests.proposal_scenario import (
    confirmation_token,
    load,
    open_call,
    propose,
    proposer_row,
    proven,
    published,
)
from tests.web.conftest import Client

EVIL = "<script>alert('x')</script> & =HYPERLINK(\"http://evil\")"


def deliver(db: Database, sender: MailSender) -> None:
    while prepare_outbox(db, MAIL):
        pass
    sender.run_until_idle()
    # A connection the loaded test server dropped leaves its mail for a retry half a minute
    # later: a pass an hour ahead sends it (and nothing, if nothing was left).
    sender.run_until_idle(utcnow() + timedelta(hours=1))


def inbox_for(smtp_server: SmtpServer, address: str) -> list[EmailMessage]:
    return [m for m in smtp_server.inbox.messages if m["To"] == address]


def follow(db: Database, proposal: Any, email: str, locale: str = "en") -> None:
    person = proven(db, proposal.community_id, email)
    with db.transaction() as session:
        follows.follow(session, proposal_subject(load(db, proposal)), person, locale=locale)


def test_every_kind_renders_and_nothing_fails(
    db: Database, make: Factories, sender: MailSender, smtp_server: SmtpServer
) -> None:
    call = open_call(db, make)
    typed = propose(db, call, 1, title=EVIL, locale="fr")  # confirm_address (fr)
    assert typed.proposal is not None
    with db.transaction() as session:
        confirmations.confirm_address(session, confirmation_token(db, "proposer1@example.org"))
    other = published(db, call, 2, co_proposers="co@example.org")  # published, invited
    follow(db, typed.proposal, "fan@example.org")
    with db.transaction() as session:
        service = ProposalService(session)
        service.answer(load(db, typed.proposal), "declined", "no_room", EVIL, publish=True)
        service.answer(load(db, other), "accepted", publish=False)
        service.publish_answers(load(db, other).call)
    with db.session() as session:
        kinds = set(session.scalars(select(OutboxMessage.kind)))
    assert {
        "confirm_address",
        "proposal_published",
        "co_proposer_invited",
        "proposal_status",
    } <= kinds
    deliver(db, sender)
    with db.session() as session:
        failed = session.scalar(
            select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
        )
    assert failed == 0
    # Mails to one address may arrive in any order (several connections): take the
    # confirmation by its subject, and there must be exactly one, in French.
    [french] = [
        mail
        for mail in inbox_for(smtp_server, "proposer1@example.org")
        if mail["Subject"].startswith("Confirmez")
    ]
    html = french.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "List-Unsubscribe" not in french  # not a follower's mail


def test_a_followers_mail_carries_a_working_one_click_unsubscribe(
    db: Database,
    make: Factories,
    sender: MailSender,
    smtp_server: SmtpServer,
    client: Client,
) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    follow(db, proposal, "fan@example.org")
    with db.transaction() as session:
        ProposalService(session).answer(load(db, proposal), "accepted", publish=True)
    deliver(db, sender)
    [mail] = inbox_for(smtp_server, "fan@example.org")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mail["List-Unsubscribe"].strip("<>")
    assert url.startswith(f"{BASE_URL}/u/") and url.endswith("/one-click")
    # The body links to the follower's page (it lists and stops every follow).
    page = url.removesuffix("/one-click")
    assert page in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # What a mail client does (RFC 8058): a POST, no cookie, no CSRF token.
    client.cookies.clear()
    path = url.removeprefix(BASE_URL)
    done = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    assert "set-cookie" not in done.headers
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Follow)) == 0
    # Again (a retrying client): the same answer.
    assert client.post(path, content=b"List-Unsubscribe=One-Click").status_code == 200
    # Negative control: a forged token is refused by the follower page.
    assert client.get(path.removesuffix("/one-click")[:-3] + "xyz").status_code == 404


def test_proposer_updates_mail_followers_at_most_once_a_day(db: Database, make: Factories) -> None:
    call = open_call(db, make)
    proposal = published(db, call, 1)
    follow(db, proposal, "fan@example.org")
    for text in ("First news", "Second news", "Third news"):
        with db.transaction() as session:
            ProposalService(session).post_update(
                session.get(ProposalPerson, proposer_row(db, proposal).id), text
            )
    with db.session() as session:
        mails = session.scalar(
            select(func.count()).where(
                OutboxMessage.kind == "proposal_update",
                OutboxMessage.to_address == "fan@example.org",
            )
        )
        assert mails == 1
        assert len(ProposalService(session).updates(load(db, proposal))) == 3


def test_the_follower_page_lists_and_stops_every_follow(
    db: Database, make: Factories, client: Client
) -> None:
    call = open_call(db, make)
    one, two = published(db, call, 1), published(db, call, 2)
    follow(db, one, "fan@example.org")
    follow(db, two, "fan@example.org")
    with db.session() as session:
        first = session.scalar(select(Follow).order_by(Follow.created_at))
        path = follows.unsubscribe_path(session, first)
    page = client.get(path)
    assert page.status_code == 200 and "Proposal number 1" in page.text
    assert "Proposal number 2" in page.text and page.headers["cache-control"] == "no-store"
    assert client.submit(f"{path}/stop-all").status_code == 303
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Follow)) == 0


def test_the_outbox_page_hides_proposers_and_followers_links() -> None:
    from events.private_links import mask_private_links

    token = "01a2498a3966749a9b191c59987ff699AbCdEfGhIjKlMnOpQrStUv"
    for prefix in ("/p/", "/c/", "/u/", "/r/"):
        text = f"open https://x.org{prefix}{token}/one-click now"
        assert token not in mask_private_links(text)
    assert mask_private_links("/g/community/proposals/a-call") == "/g/community/proposals/a-call"
