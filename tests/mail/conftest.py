"""Mail fixtures: a real SMTP server (aiosmtpd) on a free local port, senders, and helpers
to read what arrived."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from events.database import Database
from events.mail.sender import MailSender, SmtpConfig
from tests.web.conftest import (  # noqa: F401  (the web fixtures, for the page tests)
    app,
    client,
    member_client,
    organiser_member,
)

SENDER = "Rencontres <noreply@testserver.local>"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What the SMTP server accepted, in order; ``refuse`` maps addresses to a reply.

    For the sending-order scenarios: ``on_message(n)`` runs (in the server's thread) once
    the n-th message is accepted; ``together`` makes each message wait (10 s at most)
    until that many are being received at once; ``most_at_once`` and ``sessions`` say how
    many connections were receiving at once at most, and how many greeted the server."""

    envelopes: list[Envelope] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_message: Callable[[int], None] | None = None
    together: int = 0
    receiving: int = 0
    most_at_once: int = 0
    sessions: int = 0

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # The server's handlers share one event loop: counting needs no lock, waiting
        # must not block it.
        self.receiving += 1
        self.most_at_once = max(self.most_at_once, self.receiving)
        deadline = asyncio.get_running_loop().time() + 10
        while self.receiving < self.together and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05 if self.together else 0)  # let the others see the count
        self.receiving -= 1
        with self.lock:
            self.envelopes.append(envelope)
            count = len(self.envelopes)
        if self.on_message is not None:
            self.on_message(count)
        return "250 Message accepted"

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [
                email.message_from_bytes(e.original_content or b"", policy=policy.default)  # type: ignore[misc]
                for e in self.envelopes
            ]

    def only(self) -> EmailMessage:
        messages = self.messages
        assert len(messages) == 1, [m["Subject"] for m in messages]
        return messages[0]


class SmtpServer:
    """An aiosmtpd server that can be stopped and started again on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig(
            host="127.0.0.1", port=self.port, security="none", sender=SENDER, timeout=5
        )


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> SmtpServer:
    """A server that is not running yet (nothing listens on its port)."""
    return SmtpServer(free_port())


@pytest.fixture
def sender(db: Database, smtp_server: SmtpServer) -> MailSender:
    return MailSender(db, smtp_server.config)
