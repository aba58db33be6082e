"""Request bodies as plain data, bounded: the one reader for JSON bodies (and the plain
forms of the same endpoints).

``read_json_object`` accepts one JSON object and refuses, with an ``ExplainedError`` that
web/errors.py answers as a 400 (413 when too large) problem for JSON requests:

- more than ``max_bytes`` (Litestar's ``request_max_body_size`` refuses it before reading
  on routes that set it; this is the same bound for bodies read another way);
- nesting deeper than ``max_depth``: the standard decoder recurses, and 5,000 ``[`` raised
  a RecursionError (a 500) before the depth was bounded. Depth is counted before decoding,
  on the brackets outside strings, in one pass (and not at all when there are too few
  brackets to be too deep, as in every real scan);
- invalid UTF-8 or JSON, or a top-level value that is not an object.

``read_fields`` reads a JSON object for a JSON request and a urlencoded form otherwise
(first value of each field, at most ``MAX_FORM_FIELDS`` fields), so an endpoint can serve
a script and a plain form alike. What the fields mean is the domain's business.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from litestar import Request

from web.errors import JSON_TYPE, ExplainedError
from web.i18n import gettext as _

#: What one JSON body may weigh and how deep it may nest, unless a caller says otherwise.
MAX_JSON_BYTES = 16 * 1024
MAX_JSON_DEPTH = 32
MAX_FORM_FIELDS = 50
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")
_QUOTE, _BACKSLASH = ord('"'), ord("\\")


def unreadable_body() -> ExplainedError:
    return ExplainedError(
        400, lambda: _("The request body could not be read: send one JSON object.")
    )


def read_json_object(
    body: bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> dict[str, Any]:
    """The JSON object in ``body`` (see the module docstring for what is refused)."""
    if len(body) > max_bytes:
        raise ExplainedError(413, lambda: _("What you sent is too large."))
    if _deeper_than(body, max_depth):
        raise ExplainedError(400, lambda: _("The request body nests too deeply."))
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        raise unreadable_body() from None
    if not isinstance(data, dict):
        raise unreadable_body()
    return data


def read_fields(request: Request, body: bytes) -> dict[str, Any]:
    """A JSON object for a JSON request, else the urlencoded form's fields."""
    if request.headers.get("content-type", "").startswith(JSON_TYPE):
        return read_json_object(body)
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # not UTF-8 (UnicodeDecodeError), or too many fields
        raise ExplainedError(400, lambda: _("The form could not be read.")) from None
    return {name: values[0] for name, values in fields.items()}


def _deeper_than(body: bytes, limit: int) -> bool:
    """Whether arrays and objects in ``body`` nest more than ``limit`` deep."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif byte in _CLOSE:
            depth -= 1
    return False
