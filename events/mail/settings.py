"""What rendering a mail needs to know of the deployment: where its links point.

Passed explicitly to the renderer (:func:`events.mail.prepare.prepare_outbox`) by whoever
runs it (the background worker, a test); queueing a mail needs no settings at all, since
links are written when the mail is rendered. The SMTP side (host, credentials, sender
address) is the sender's business, see :mod:`events.mail.sender`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MailSettings:
    #: The public address every link in a mail starts with (``BASE_URL``).
    base_url: str = "http://127.0.0.1:8000"

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}"
