"""The door's one input policy (events/services/door_input.py): what each field accepts,
what it becomes, and the field code of what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from events.errors import ValidationFailed
from events.services.door_input import (
    arrival_input,
    scan_input,
    scanned_code,
    search_term,
    undo_input,
    walk_in_input,
)

NOW = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
CODE = "abcdefghjkmnpqrstuvwxyz2345"


def refused(parse: Any, data: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        parse(data, **kwargs)
    return failed.value.errors


# -- nonce ---------------------------------------------------------------------------------
def test_a_nonce_is_kept_as_sent() -> None:
    for nonce in ("0f8fad5b-d9cb-469f-a165-70867728950e", "a" * 64, "walk_in-0001"):
        assert arrival_input({"nonce": nonce}, now=NOW).nonce == nonce


@pytest.mark.parametrize("missing", [{}, {"nonce": None}, {"nonce": ""}])
def test_a_missing_nonce_gets_a_fresh_server_nonce(missing: dict[str, Any]) -> None:
    first = arrival_input(missing, now=NOW).nonce
    second = arrival_input(missing, now=NOW).nonce
    assert first.startswith("srv-") and len(first) == 36 and first != second


@pytest.mark.parametrize(
    ("nonce", "code"),
    [
        ("short", "invalid_characters"),
        ("a" * 65, "invalid_characters"),
        ("with space 123", "invalid_characters"),
        ("é" * 10, "invalid_characters"),
        ("srv-0123456789", "invalid_characters"),  # the server's own prefixes
        ("undo-0123456789", "invalid_characters"),
        (12345678, "not_text"),
        (["abcdefgh"], "not_text"),
    ],
)
def test_a_malformed_nonce_is_a_field_error(nonce: Any, code: str) -> None:
    assert refused(arrival_input, {"nonce": nonce}, now=NOW) == {"nonce": code}


# -- device ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("device", "label"),
    [
        (None, "door"),
        ("", "door"),
        ("  \t ", "door"),
        ("  door\n\x00 7  ", "door 7"),
        ("x" * 100, "x" * 60),
        ("\u202eevil", "evil"),  # a bidi override is a control character too
    ],
)
def test_a_device_label_is_cleaned_never_refused_for_its_text(device: Any, label: str) -> None:
    assert arrival_input({"device": device}, now=NOW).device == label


def test_a_device_that_is_not_text_is_refused() -> None:
    assert refused(arrival_input, {"device": 3}, now=NOW) == {"device": "not_text"}


def test_a_device_key_is_kept_or_refused_never_rewritten() -> None:
    assert arrival_input({"device_key": "k3y_of-phone"}, now=NOW).device_key == "k3y_of-phone"
    assert arrival_input({}, now=NOW).device_key is None
    assert arrival_input({"device_key": ""}, now=NOW).device_key is None
    assert refused(arrival_input, {"device_key": "short"}, now=NOW) == {
        "device_key": "invalid_characters"
    }
    assert refused(arrival_input, {"device_key": 12345678}, now=NOW) == {"device_key": "not_text"}


# -- people ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("people", "count"),
    [(None, None), ("", None), ("all", None), ("2", 2), (" 3 ", 3), (2, 2), (2.0, 2), (1000, 1000)],
)
def test_people_as_digits_or_a_json_number(people: Any, count: int | None) -> None:
    assert arrival_input({"people": people}, now=NOW).people == count


@pytest.mark.parametrize(
    ("people", "code"),
    [
        (0, "out_of_range"),
        (-1, "out_of_range"),
        ("1001", "out_of_range"),
        (True, "invalid_number"),
        (2.5, "invalid_number"),
        ("two", "invalid_number"),
        ("²", "invalid_number"),
        ("9" * 5000, "invalid_number"),
        ([2], "invalid_number"),
    ],
)
def test_a_nonsense_head_count_is_a_field_error(people: Any, code: str) -> None:
    assert refused(arrival_input, {"people": people}, now=NOW) == {"people": code}


# -- time of an offline scan -------------------------------------------------------------
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("2026-12-03T18:43:00Z", datetime(2026, 12, 3, 18, 43, tzinfo=UTC)),
        ("2026-12-03T19:43:00+01:00", datetime(2026, 12, 3, 18, 43, tzinfo=UTC)),
        ("2026-12-03T18:43:00", datetime(2026, 12, 3, 18, 43, tzinfo=UTC)),  # no offset: UTC
        ("2026-12-03T19:00:30Z", NOW),  # a little ahead: now
        ("2026-12-03T19:05:00Z", None),  # a wrong clock: the server's time
        ("2026-11-30T19:00:00Z", None),  # older than two days
        ("", None),
        (None, None),
    ],
)
def test_an_offline_scan_time(sent: Any, kept: datetime | None) -> None:
    assert arrival_input({"scanned_at": sent}, now=NOW).scanned_at == kept


@pytest.mark.parametrize(
    "sent", ["yesterday", "2026-13-01T00:00", 1764788400, "0001-01-01T00:00:00+14:00", "1" * 41]
)
def test_a_malformed_scan_time_is_a_field_error(sent: Any) -> None:
    assert refused(arrival_input, {"scanned_at": sent}, now=NOW) == {
        "scanned_at": "invalid_datetime"
    }


def test_the_offline_flag() -> None:
    for sent, flag in [(True, True), ("on", True), ("1", True), (False, False), (1, False)]:
        assert arrival_input({"offline": sent}, now=NOW).offline is flag


# -- what was scanned ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scanned", "code"),
    [
        (CODE, CODE),
        (f"https://anywhere.example/t/{CODE}?x=1", CODE),
        (" ABCD-EFGH JKMN PQRS TUVW XYZ2 345 ", CODE),
        ("hello", ""),
        ("x" * 5000, ""),
        ("a\x00b", ""),
    ],
)
def test_any_text_is_a_scan_and_its_code_is_found_once(scanned: str, code: str) -> None:
    assert scan_input({"scanned": scanned}, now=NOW).code == code
    assert scanned_code({"scanned": scanned}) == code


def test_every_bad_field_of_a_scan_is_named_at_once() -> None:
    errors = refused(scan_input, {"scanned": " ", "people": 0, "nonce": "bad!"}, now=NOW)
    assert errors == {
        "scanned": "required",
        "people": "out_of_range",
        "nonce": "invalid_characters",
    }


# -- walk-ins, undo, search ----------------------------------------------------------------
def test_a_walk_in_with_json_numbers_or_form_digits() -> None:
    base = {"name": "  Zoé  Walker ", "email": " Zoe@Example.org "}
    assert walk_in_input({**base, "guests": 2}).guests == 2
    form = walk_in_input({**base, "guests": "2"})
    assert (form.name, form.guests, form.people, form.email) == (
        "Zoé  Walker",
        2,
        3,
        "zoe@example.org",
    )
    assert walk_in_input({"name": "Ann", "guests": "", "email": "   "}).guests == 0
    assert walk_in_input({"name": "Ann"}).email == ""


def test_every_bad_field_of_a_walk_in_is_named_at_once() -> None:
    errors = refused(walk_in_input, {"name": 7, "guests": "x", "email": "no", "nonce": "?"})
    assert errors == {
        "name": "not_text",
        "guests": "invalid_number",
        "email": "invalid_email",
        "nonce": "invalid_characters",
    }
    assert refused(walk_in_input, {"name": "", "guests": -1}) == {
        "name": "required",
        "guests": "out_of_range",
    }


def test_an_undo_names_a_check_in() -> None:
    check_in_id = uuid4()
    assert undo_input({"check_in_id": str(check_in_id)}).check_in_id == check_in_id
    assert refused(undo_input, {}) == {"check_in_id": "required"}
    assert refused(undo_input, {"check_in_id": "nope"}) == {"check_in_id": "invalid_choice"}
    assert refused(undo_input, {"check_in_id": 5}) == {"check_in_id": "not_text"}


@pytest.mark.parametrize(
    ("typed", "text", "too_short", "searchable"),
    [
        ("  Élo   die ", "Élo die", False, True),
        ("e", "e", True, False),
        ("", "", False, False),
        ("   ", "", False, False),
        (None, "", False, False),
        ("x" * 500, "x" * 120, False, True),
    ],
)
def test_a_search_term(typed: Any, text: str, too_short: bool, searchable: bool) -> None:
    term = search_term(typed)
    assert (term.text, term.too_short, term.searchable) == (text, too_short, searchable)


def test_times_are_utc_and_never_after_now() -> None:
    moment = arrival_input({"scanned_at": NOW - timedelta(hours=1)}, now=NOW).scanned_at
    assert moment is not None and moment.tzinfo is UTC
