"""An outbox row as a MIME message, built with :mod:`email.message` and its header registry.

Headers are set through ``EmailMessage`` with the ``SMTP`` policy, which parses addresses,
encodes non-ASCII text (RFC 2047) and refuses a header value with a line break, so nothing
a registrant or an organiser typed can add a header. Subjects are made one line anyway
(:func:`events.mail.notify.one_line`) and the recipient is a bare address (no display name
taken from user input).

Structure: ``multipart/mixed`` of ``multipart/alternative`` (text, then
``multipart/related`` of the HTML and its inline images) and the attachments.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from uuid import UUID

from events.mail.notify import one_line
from events.qr import qr_png


@dataclass(frozen=True)
class Mail:
    """What the sender needs of an outbox row (read in the claiming transaction)."""

    id: UUID
    to_address: str
    subject: str
    text_body: str
    html_body: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    #: The one-click unsubscribe address (RFC 8058) of a follower's or an offers & needs
    #: request mail, or None.
    unsubscribe_url: str | None = None


def _data(attachment: dict[str, Any]) -> bytes:
    if "qr" in attachment:  # drawn here, not in the registration's transaction
        return qr_png(attachment["qr"])
    return base64.b64decode(attachment.get("data") or "")


def sender_address(sender: str) -> Address:
    """The one address in ``sender`` (``MAIL_FROM``); ``ValueError`` if it is not exactly
    one complete address, so a configuration mistake stops the start-up instead of failing
    every mail."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    header = message["From"]
    addresses = header.addresses
    if len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        raise ValueError(f"not one e-mail address: {sender!r}")
    address: Address = addresses[0]
    return address


def sender_domain(sender: str) -> str:
    """The domain of the From address, for Message-IDs."""
    return sender_address(sender).domain


def build_message(mail: Mail, *, sender: str, date: datetime) -> EmailMessage:
    """The message for ``mail`` from ``sender`` (``"Name <address>"`` or an address).

    The Message-ID is derived from the outbox row, so a copy sent again after a crash
    between the SMTP acknowledgement and the database commit is recognisably the same
    message. Raises ``ValueError`` for an address the header parser refuses.
    """
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = Address(addr_spec=mail.to_address)
    message["Subject"] = one_line(mail.subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{mail.id}@{sender_domain(sender)}>"
    message["Auto-Submitted"] = "auto-generated"
    if mail.unsubscribe_url:
        # RFC 8058: a mail client POSTs "List-Unsubscribe=One-Click" to the HTTPS address,
        # without cookies; web/controllers/follows.py and web/controllers/offers.py answer
        # it (RFC 2369 for the header).
        message["List-Unsubscribe"] = f"<{one_line(mail.unsubscribe_url)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text_body)
    inline = [a for a in mail.attachments if a.get("content_id")]
    attached = [a for a in mail.attachments if not a.get("content_id")]
    if mail.html_body:
        message.add_alternative(mail.html_body, subtype="html")
        html_part = message.get_body(("html",))
        assert html_part is not None
        for attachment in inline:
            maintype, subtype = attachment["content_type"].split("/", 1)
            html_part.add_related(
                _data(attachment),
                maintype=maintype,
                subtype=subtype,
                cid=f"<{attachment['content_id']}>",
                filename=attachment.get("filename"),
                disposition="inline",
            )
    else:
        attached = list(mail.attachments)  # no HTML to show them in: plain attachments
    for attachment in attached:
        maintype, subtype = attachment["content_type"].split("/", 1)
        params = {"method": "PUBLISH"} if attachment["content_type"] == "text/calendar" else {}
        message.add_attachment(
            _data(attachment),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.get("filename"),
            params=params,
        )
    return message
