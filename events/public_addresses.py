"""Which network addresses an outgoing request may reach: public unicast ones only.

Whatever the site fetches or calls on someone's behalf (subscribed calendars today,
webhook endpoints later) must not be a way into the server's own network: no loopback,
private, link-local, shared (carrier-grade NAT), documentation, reserved or multicast
address. The rule is applied to the addresses a name resolves to, on every hop of a
redirect, and the connection then goes to the address that was checked.

An IPv6 address can carry an IPv4 address inside it, and some of those forms reach that
IPv4 address through the network (a NAT64 gateway, a 6to4 relay, the host's own stack).
:func:`normalise_address` unwraps them first, so ``64:ff9b::7f00:1`` is judged as
``127.0.0.1``:

- IPv4-mapped ``::ffff:a.b.c.d`` and IPv4-translated ``::ffff:0:a.b.c.d`` (SIIT);
- IPv4-compatible ``::a.b.c.d`` (deprecated, still understood by some stacks; ``::`` and
  ``::1`` stay the unspecified and loopback addresses they are);
- NAT64's well-known prefix ``64:ff9b::/96`` (RFC 6052);
- 6to4 ``2002:AABB:CCDD::/48``: the IPv4 address is the 32 bits after ``2002:``.

Refused whole, whatever they carry: Teredo (``2001::/32``: tunnelled through a relay,
with the client's address obfuscated) and NAT64's local-use prefix ``64:ff9b:1::/48``
(RFC 8215: local to a network by definition).

What remains is public when Python's ``is_global`` says so and, for IPv6, when it also
lies in global unicast space (``2000::/3``) outside the IETF protocol block
(``2001::/23``) and the documentation blocks. The explicit lists do not trust
``ipaddress`` alone: Python 3.11 calls ``64:ff9b::7f00:1``, ``::7f00:1``, ``fec0::1`` and
``3fff::1`` global.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = [
    "AddressRefused",
    "Resolver",
    "is_public_address",
    "normalise_address",
    "public_address",
    "system_resolver",
]

IPAddress = IPv4Address | IPv6Address

#: ``host, port -> IP addresses`` (tests pass their own; the default asks the system).
Resolver = Callable[[str, int], list[str]]

_MAPPED = IPv6Network("::ffff:0:0/96")
_TRANSLATED = IPv6Network("::ffff:0:0:0/96")
_COMPATIBLE = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")
#: Never public, whatever they embed.
_REFUSED_V6 = (
    IPv6Network("2001::/32"),  # Teredo
    IPv6Network("64:ff9b:1::/48"),  # NAT64 local use (RFC 8215)
)
_GLOBAL_UNICAST = IPv6Network("2000::/3")
_NOT_PUBLIC_V6 = (
    IPv6Network("2001::/23"),  # IETF protocol assignments (Teredo, ORCHID, benchmarking...)
    IPv6Network("2001:db8::/32"),  # documentation
    IPv6Network("3fff::/20"),  # documentation (RFC 9637)
)
_NOT_PUBLIC_V4 = (
    IPv4Network("192.0.0.0/24"),  # IETF protocol assignments
    IPv4Network("192.88.99.0/24"),  # the former 6to4 relay anycast
)


class AddressRefused(Exception):
    """A host that may not be reached: ``code`` is ``dns_error`` (no address) or
    ``private_address`` (an address that is not public); ``detail`` says which."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the forms above."""
    compatible = ip in _COMPATIBLE and int(ip) > 1  # ``::`` and ``::1`` are themselves
    if compatible or ip in _MAPPED or ip in _TRANSLATED or ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFF_FFFF)
    if ip in _SIX_TO_FOUR:
        return IPv4Address((int(ip) >> 80) & 0xFFFF_FFFF)
    return None


def normalise_address(address: str) -> IPAddress:
    """``address`` (an IP literal, with or without a ``%zone``) with any IPv4 address it
    embeds unwrapped; ``ValueError`` if it is not an IP address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0].strip())
    if isinstance(ip, IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return embedded
    return ip


def is_public_address(address: str) -> bool:
    """Whether ``address`` is a public unicast address (what a web server has)."""
    try:
        ip = normalise_address(address)
    except ValueError:
        return False
    if ip.is_multicast or not ip.is_global:
        return False
    if isinstance(ip, IPv4Address):
        return not any(ip in network for network in _NOT_PUBLIC_V4)
    if any(ip in network for network in _REFUSED_V6):
        return False
    return ip in _GLOBAL_UNICAST and not any(ip in network for network in _NOT_PUBLIC_V6)


def public_address(
    host: str, port: int, *, resolver: Resolver | None = None, allow_private: bool = False
) -> str:
    """The address to connect to for ``host``: every address it resolves to must be
    public (one private answer is enough to refuse: which one gets used is not ours to
    say), else :class:`AddressRefused`. Connect to the returned address itself, so a
    second DNS answer cannot differ from the checked one (DNS rebinding).

    ``allow_private`` (intranet deployments, tests) skips the check, not the resolution.
    """
    try:
        addresses = (resolver or system_resolver)(host, port)
    except (OSError, UnicodeError) as error:
        raise AddressRefused("dns_error", f"cannot resolve {host}: {error}") from error
    if not addresses:
        raise AddressRefused("dns_error", f"cannot resolve {host}")
    if not allow_private:
        refused = [address for address in addresses if not is_public_address(address)]
        if refused:
            raise AddressRefused(
                "private_address", f"{host} resolves to a non-public address ({refused[0]})"
            )
    return addresses[0]
