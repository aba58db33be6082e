"""Building the app once per test costs what Litestar spends parsing handler signatures.

``create_app`` registers ~650 route handlers, and Litestar parses the signature of every
one of them for every app it builds: the type hints of each handler evaluated from their
strings, ~0.2 s of the ~0.6 s an app takes, for each of the ~700 tests that build one
(docs/performance.md, "The test suite's time"). The parse depends on nothing an app or a
test changes: the function (its signature and annotations), the module it was defined in,
and the signature namespace of the layers above it. So the test processes keep each parse
the first time it is made and hand the same frozen ``ParsedSignature`` to the next app.

Only functions with nothing of their own to vary are kept: plain module-level functions
and controller methods (whose bound instance is new in every app, but only its class can
change the parse). Closures (Litestar makes one per route for OPTIONS) and other
callables are parsed every time, as before, so the cache stays the size of the app.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Hashable
from typing import Any

from litestar.utils.signature import ParsedSignature

#: (function, class of the bound instance, namespace by identity) -> (parse, namespace).
#: The namespace is kept alongside so the identities in the key stay those of live objects.
_PARSES: dict[Hashable, tuple[ParsedSignature, dict[str, Any]]] = {}
_parse_uncached: Callable[[type[ParsedSignature], Any, dict[str, Any]], ParsedSignature] = (
    ParsedSignature.from_fn.__func__  # type: ignore[attr-defined]
)


def _function_key(fn: Any) -> Hashable | None:
    """What a parse of ``fn`` depends on, or None when it may depend on more."""
    if isinstance(fn, types.MethodType):
        function, owner = fn.__func__, type(fn.__self__)
    else:
        function, owner = fn, None
    if type(function) is not types.FunctionType or function.__closure__:
        return None
    return function, owner


def _from_fn(
    cls: type[ParsedSignature], fn: Any, signature_namespace: dict[str, Any]
) -> ParsedSignature:
    function_key = _function_key(fn)
    if function_key is None:
        return _parse_uncached(cls, fn, signature_namespace)
    key = (
        cls,
        function_key,
        tuple(sorted((name, id(value)) for name, value in signature_namespace.items())),
    )
    if (kept := _PARSES.get(key)) is None:
        kept = _PARSES[key] = (
            _parse_uncached(cls, fn, signature_namespace),
            dict(signature_namespace),
        )
    return kept[0]


def install() -> None:
    """Keep Litestar's signature parses for the rest of this test process."""
    ParsedSignature.from_fn = classmethod(_from_fn)  # type: ignore[method-assign,assignment]


def kept_parses() -> int:
    return len(_PARSES)
