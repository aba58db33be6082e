"""Only public addresses are reached (events/public_addresses.py): every IPv4-in-IPv6 form
is unwrapped before deciding, on the addresses DNS gives, and again on every redirect."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from typing import Any

import httpx
import pytest

from events.fetch import FetchPolicy, fetch_calendar
from events.public_addresses import (
    AddressRefused,
    is_public_address,
    normalise_address,
    public_address,
    system_resolver,
)

PUBLIC_V4 = "93.184.215.14"

#: Non-public IPv4 addresses, each also written in every IPv6 form that carries it.
PRIVATE_V4 = {
    "loopback": "127.0.0.1",
    "private-10": "10.1.2.3",
    "private-172": "172.16.0.1",
    "private-192": "192.168.1.1",
    "metadata": "169.254.169.254",  # cloud metadata services
    "cgnat": "100.64.0.1",  # carrier-grade NAT
    "this-network": "0.0.0.0",
    "ietf-protocol": "192.0.0.170",
}


def v4_hex(address: str) -> str:
    a, b, c, d = (int(part) for part in address.split("."))
    return f"{a << 8 | b:x}:{c << 8 | d:x}"


def embeddings(v4: str) -> dict[str, str]:
    """``v4`` written in each IPv6 form that carries an IPv4 address (``::0.0.0.0`` is
    ``::``, the unspecified address, tested on its own)."""
    forms = {
        "mapped": f"::ffff:{v4}",
        "translated": f"::ffff:0:{v4}",
        "compatible": f"::{v4}",
        "nat64": f"64:ff9b::{v4}",
        "nat64-hex": f"64:ff9b::{v4_hex(v4)}",
        "6to4": f"2002:{v4_hex(v4)}::1",
    }
    if v4 == "0.0.0.0":
        del forms["compatible"]
    return forms


EMBEDDED_PRIVATE = [
    pytest.param(form, v4, id=f"{name}-{kind}")
    for name, v4 in PRIVATE_V4.items()
    for kind, form in embeddings(v4).items()
]

#: Not public as they are: each one normalises to itself.
NOT_PUBLIC = {
    "loopback": "127.0.0.1",
    "multicast-v4": "224.0.0.1",
    "loopback-v6": "::1",
    "unspecified-v6": "::",
    "link-local-zone": "fe80::1%eth0",
    "unique-local": "fd00::1",
    "site-local": "fec0::1",
    "multicast-v6": "ff02::1",
    "documentation": "2001:db8::1",
    "documentation-2024": "3fff::1",
    "discard": "100::1",
    "srv6-sid": "5f00::1",
    # Teredo, whatever it carries (here a public server and a public client).
    "teredo": "2001:0:5db8:d70e::a247:28f1",
    "teredo-rfc4380-example": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    # NAT64 local use (RFC 8215), even around a public IPv4 address.
    "nat64-local-use": f"64:ff9b:1::{PUBLIC_V4}",
}

REFUSED = [
    *EMBEDDED_PRIVATE,
    *(pytest.param(address, address, id=name) for name, address in NOT_PUBLIC.items()),
]

ALLOWED = [
    pytest.param(PUBLIC_V4, id="public-v4"),
    pytest.param("2606:4700::6810:85e5", id="public-v6"),
    pytest.param("2001:4860:4860::8888", id="public-v6-2001"),
    *(pytest.param(form, id=f"public-{kind}") for kind, form in embeddings(PUBLIC_V4).items()),
]


@pytest.mark.parametrize(("address", "normalised"), REFUSED)
def test_non_public_addresses_are_refused_in_every_form(address: str, normalised: str) -> None:
    assert is_public_address(address) is False
    expected = ipaddress.ip_address(normalised.split("%")[0])
    assert normalise_address(address) == expected


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed_in_every_form(address: str) -> None:
    assert is_public_address(address) is True


@pytest.mark.parametrize("text", ["not an address", "", "127.1", "0x7f.0.0.1", "::ffff:999.0.0.1"])
def test_what_is_not_an_ip_address_is_refused(text: str) -> None:
    assert is_public_address(text) is False


# -- through DNS resolution ------------------------------------------------------------------


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The system resolver's answers, name by name (``socket.getaddrinfo`` replaced)."""
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        with contextlib.suppress(ValueError):  # an address literal answers itself
            answers.setdefault(host, [str(ipaddress.ip_address(host))])
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(("address", "normalised"), REFUSED)
def test_a_name_resolving_to_a_non_public_form_is_refused(
    dns: dict[str, list[str]], address: str, normalised: str
) -> None:
    dns["calendar.example"] = [address.split("%")[0]]
    assert system_resolver("calendar.example", 443) == [address.split("%")[0]]
    with pytest.raises(AddressRefused) as refused:
        public_address("calendar.example", 443)
    assert refused.value.code == "private_address"
    # Nothing was connected to: the fetch stops at the check.
    result = fetch_calendar("https://calendar.example/feed.ics", transport=_no_network())
    assert result.status == "private_address"
    assert address.split("%")[0] in result.error


@pytest.mark.parametrize("address", ALLOWED)
def test_a_name_resolving_to_a_public_form_is_reached_at_that_address(
    dns: dict[str, list[str]], address: str
) -> None:
    dns["calendar.example"] = [address]
    assert public_address("calendar.example", 443) == address
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")

    result = fetch_calendar(
        "https://calendar.example/feed.ics", transport=httpx.MockTransport(answer)
    )
    assert result.status == "ok"
    (request,) = seen
    assert request.url.host == address  # pinned to the checked address
    assert request.headers["Host"] == "calendar.example"


def test_one_private_answer_among_public_ones_refuses_the_name(dns: dict[str, list[str]]) -> None:
    dns["calendar.example"] = [PUBLIC_V4, "64:ff9b::a00:7"]
    with pytest.raises(AddressRefused, match="64:ff9b::a00:7"):
        public_address("calendar.example", 443)
    assert public_address("calendar.example", 443, allow_private=True) == PUBLIC_V4


def test_an_unknown_name_is_a_dns_error(dns: dict[str, list[str]]) -> None:
    with pytest.raises(AddressRefused) as refused:
        public_address("nowhere.example", 443)
    assert refused.value.code == "dns_error"
    assert fetch_calendar("https://nowhere.example/x.ics").status == "dns_error"


def _no_network() -> httpx.MockTransport:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"connected to {request.url}")

    return httpx.MockTransport(refuse)


# -- on every redirect -----------------------------------------------------------------------


@pytest.mark.parametrize(("address", "normalised"), EMBEDDED_PRIVATE)
def test_a_redirect_to_a_non_public_form_is_refused_before_connecting(
    dns: dict[str, list[str]], address: str, normalised: str
) -> None:
    dns["calendar.example"] = [PUBLIC_V4]
    dns["inside.example"] = [address]
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Host"])
        return httpx.Response(302, headers={"Location": "http://inside.example/admin"})

    result = fetch_calendar(
        "https://calendar.example/feed.ics", transport=httpx.MockTransport(answer)
    )
    assert result.status == "private_address"
    assert seen == ["calendar.example"]  # the second hop was never connected to
    # So is a redirect to the address written out in the Location itself.
    literal = f"http://[{address}]/admin"

    def to_literal(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Host"])
        return httpx.Response(302, headers={"Location": literal})

    seen.clear()
    result = fetch_calendar(
        "https://calendar.example/feed.ics", transport=httpx.MockTransport(to_literal)
    )
    assert (result.status, seen) == ("private_address", ["calendar.example"])


def test_private_addresses_pass_only_when_the_policy_allows(dns: dict[str, list[str]]) -> None:
    dns["intranet.example"] = ["64:ff9b::a00:1"]
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.host))
        return httpx.Response(200, content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")

    transport = httpx.MockTransport(answer)
    assert fetch_calendar("http://intranet.example/", transport=transport).status == (
        "private_address"
    )
    allowed = fetch_calendar(
        "http://intranet.example/", policy=FetchPolicy(allow_private=True), transport=transport
    )
    assert allowed.status == "ok" and seen == ["64:ff9b::a00:1"]


def test_a_url_that_is_not_http_is_refused() -> None:
    assert fetch_calendar("file:///etc/passwd").status == "invalid_url"
    assert fetch_calendar("http://[::1").status == "invalid_url"
