"""Who a visitor without an account is, to each community, in this browser.

Once someone proved an address (they clicked a confirmation link, or used a ticket or a
private registration page of the community: events/services/identity.py), their
server-side session remembers it for that community, so supporting, following or
reporting again from the same browser needs no new mail. Only the address is kept there
(the keyed hash is recomputed from it); "forget me" removes it.

Also here: the visitor's seed for the random order of a call's proposals, a small cookie
of its own (a page read needs no session): the same visitor sees the same order, another
visitor most likely another one. Seeds are drawn among :data:`ORDERS`: every order is as
likely as any other, so no proposal is favoured, and a call's pages can be kept rendered
for visitors nobody knows yet (one per order, see web/controllers/proposals.py) instead
of being rendered for each new visitor.
"""

from __future__ import annotations

import secrets
from uuid import UUID

from litestar import Request
from litestar.datastructures import Cookie
from sqlalchemy.orm import Session

from events.services import identity
from events.services.identity import Person
from web.rendering import R, session_of

PEOPLE_KEY = "people"
SEED_COOKIE = "order_seed"
SEED_MAX_AGE = 30 * 24 * 3600
#: How many different orders of a call's proposals visitors are shown.
ORDERS = 256


def recognised(request: Request, session: Session, community_id: UUID) -> Person | None:
    """The person this browser proved to be in the community, or None."""
    email = session_of(request).get(PEOPLE_KEY, {}).get(community_id.hex)
    if not isinstance(email, str) or not email:
        return None
    return identity.person(session, community_id, email)


def remember(request: Request, person: Person) -> None:
    """This browser is ``person`` for their community from now on."""
    data = session_of(request)
    if not data and not isinstance(request.scope.get("session"), dict):
        request.set_session({})
        data = request.scope["session"]  # type: ignore[assignment]
    # A new dict, not a change in place: the session backend compares with a copy.
    data[PEOPLE_KEY] = {**data.get(PEOPLE_KEY, {}), person.community_id.hex: person.email}


def forget(request: Request, community_id: UUID) -> None:
    data = session_of(request)
    people = dict(data.get(PEOPLE_KEY, {}))
    if people.pop(community_id.hex, None) is not None:
        data[PEOPLE_KEY] = people


def knows_someone(request: Request) -> bool:
    """Whether this browser proved to be someone in any community (no database read)."""
    return bool(session_of(request).get(PEOPLE_KEY))


def order_seed(request: Request, *, secure: bool) -> tuple[str, Cookie | None]:
    """The visitor's seed, and the cookie to set when they had none yet."""
    seed = request.cookies.get(SEED_COOKIE, "")
    if seed.isdigit() and int(seed) < ORDERS and str(int(seed)) == seed:
        return seed, None
    seed = str(secrets.randbelow(ORDERS))
    cookie = Cookie(
        key=SEED_COOKIE,
        value=seed,
        max_age=SEED_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    return seed, cookie


def with_cookie(response: R, cookie: Cookie | None) -> R:
    if cookie is not None:
        response.cookies.append(cookie)
    return response
