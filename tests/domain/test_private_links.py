"""Masking the tokens of attendees' private links (events/private_links.py)."""

from __future__ import annotations

import pytest

from events.database import Database
from events.private_links import mask_private_links
from events.tickets import TICKET_CODE_LENGTH
from events.tokens import new_token
from tests.attendee_tokens import attendees_with_every_private_mail
from tests.conftest import BASE_URL
from tests.factories import Factories

# Fixed (parametrize ids must be the same in every xdist worker), shaped like the real ones.
TOKEN = "a82S9SYK_xVdZff5dwh7r-oV85AgVdft"
CODE = "pwear6vw67qrhq77dytf5zjerq4"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"{BASE_URL}/r/{TOKEN}", f"{BASE_URL}/r/••••{TOKEN[-4:]}"),
        (f"{BASE_URL}/r/{TOKEN}/confirm", f"{BASE_URL}/r/••••{TOKEN[-4:]}/confirm"),
        (f"webcal://h.org/me/{TOKEN}/feed.ics", f"webcal://h.org/me/••••{TOKEN[-4:]}/feed.ics"),
        (
            f'<a href="/t/{CODE}">/t/{CODE}</a>',
            f'<a href="/t/••••{CODE[-4:]}">/t/••••{CODE[-4:]}</a>',
        ),
        (
            f"cid=webcal%3A%2F%2Fh.org%2Fme%2F{TOKEN}%2Ffeed.ics",
            f"cid=webcal%3A%2F%2Fh.org%2Fme%2F••••{TOKEN[-4:]}%2Ffeed.ics",
        ),
        (
            "See /e/pitch-night-2030-03-07 and /t/short",
            "See /e/pitch-night-2030-03-07 and /t/short",
        ),
        ("", ""),
    ],
)
def test_tokens_are_masked_in_every_form_of_link(text: str, masked: str) -> None:
    assert len(TOKEN) == len(new_token()) and len(CODE) == TICKET_CODE_LENGTH
    assert mask_private_links(text) == masked


def test_every_mail_to_attendees_keeps_no_token_once_masked(db: Database, make: Factories) -> None:
    community = make.community()
    tokens = attendees_with_every_private_mail(db, make, community)
    assert len(tokens.values) >= 10
    for mail in tokens.mails:
        for body in (mail.subject, mail.text_body, mail.html_body):
            masked = mask_private_links(body)
            assert not [token for token in tokens.values if token in masked], mail.kind
        if "/r/" in mail.text_body:
            assert "/r/••••" in mask_private_links(mail.text_body)
