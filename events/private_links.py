"""Organisers never see the tokens that act for someone else.

Mails carry links that work for whoever holds them: a registrant's private page
(``/r/{token}``, and its address confirmation ``/r/{token}/confirm``), the personal calendar
feed (``/me/{token}/feed.ics``, which lists the person's registrations in *every* community,
not just the organiser's), the ticket (``/t/{code}``), a volunteer's page (``/v/{token}``), a
door link (``/door/{event}/link/{token}``), a proposer's page (``/p/{token}``), an address
confirmation (``/c/{token}``) and a follower's page (``/u/{token}``). The organisers' outbox
page proves what was sent without them: :func:`mask_private_links` replaces each token by
``••••`` and its last four characters (``/r/••••x9Qz``), enough to tell two links apart,
useless to open one. It works on text and HTML bodies alike, on absolute and relative
links, ``webcal://`` and percent-encoded ones (``%2Fme%2F…``). A long segment after one of
these prefixes on another site is masked too: hiding a foreign link errs on the safe side.
"""

from __future__ import annotations

import re

MASK = "••••"
#: Characters of a token left visible after the mask.
VISIBLE_TAIL = 4
# Tokens are 32 URL-safe characters (events/tokens.py), ticket codes 27 (events/tickets.py).
_PRIVATE_LINK = re.compile(r"((?:/|%2[fF])(?:r|me|t|v|link|p|c|u)(?:/|%2[fF]))([A-Za-z0-9_-]{16,})")


def mask_token(token: str) -> str:
    """``••••`` and the last characters of ``token``."""
    return MASK + token[-VISIBLE_TAIL:]


def mask_private_links(text: str) -> str:
    """``text`` with the token of every private link masked (see the module docstring)."""
    return _PRIVATE_LINK.sub(lambda link: link.group(1) + mask_token(link.group(2)), text)
