"""The attendee list as CSV, safe to open in a spreadsheet.

Two variants, both UTF-8 with a byte-order mark (without it Excel reads UTF-8 as Windows-1252
and mangles every accent):

- ``standard``: comma-separated (RFC 4180), for LibreOffice, Google Sheets, scripts;
- ``excel-fr``: semicolon-separated, what Excel expects where the decimal separator is a
  comma (France, Belgium, Switzerland...): it opens with a double click, one value per column.

Formula injection (CSV injection): a spreadsheet runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` (and tab or carriage return, which some strip first) as a formula; a
registrant named ``=HYPERLINK("http://evil", "click")`` would put a live link, or worse, in
the organiser's sheet. Such cells are prefixed with ``'`` so they are shown as text
(the OWASP recommendation). Quotes, separators and line breaks inside a cell are quoted by
the ``csv`` module.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from events.validation import is_placeholder_email

BOM = "\ufeff"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_HEADERS = (
    "Name",
    "E-mail",
    "Guests",
    "Status",
    "Waiting list position",
    "Registered at",
    "Opt-in",
)


class CsvVariant(enum.StrEnum):
    STANDARD = "standard"
    EXCEL_FR = "excel-fr"

    @property
    def delimiter(self) -> str:
        return ";" if self is CsvVariant.EXCEL_FR else ","

    @classmethod
    def parse(cls, value: str | None) -> CsvVariant:
        """The variant named ``value``; anything unknown is the standard one."""
        try:
            return cls((value or "").strip().lower())
        except ValueError:
            return cls.STANDARD


@dataclass(frozen=True)
class AttendeeRow:
    """One registration as exported (no secrets: no ticket code, no manage token)."""

    name: str
    email: str
    guests: int
    status: str
    #: Rank among the parties still waiting (1 = next), None when not waiting.
    waitlist_position: int | None
    registered_at: datetime
    opt_in: bool
    #: Answers to the exported questions, one per extra column (a string, a list of
    #: strings, a bool, or None when not answered).
    answers: tuple[Any, ...] = ()


def neutralise(cell: str) -> str:
    """The cell as text a spreadsheet will not evaluate as a formula."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def answer_cell(answer: Any, yes_no: tuple[str, str] = ("yes", "no")) -> str:
    """One answer as a cell: lists joined with ", ", a checkbox as yes/no."""
    if answer is None:
        return ""
    if isinstance(answer, bool):
        return yes_no[0] if answer else yes_no[1]
    if isinstance(answer, list | tuple):
        return ", ".join(str(item) for item in answer)
    return str(answer)


def attendees_csv(
    rows: Iterable[AttendeeRow],
    *,
    zone: str,
    variant: CsvVariant = CsvVariant.STANDARD,
    headers: Sequence[str] = DEFAULT_HEADERS,
    status_labels: Mapping[str, str] | None = None,
    yes_no: tuple[str, str] = ("yes", "no"),
) -> bytes:
    """The CSV file (bytes, UTF-8 with BOM, CRLF line ends) of ``rows``.

    Times are written in ``zone`` (the event's) as ``YYYY-MM-DD HH:MM``, which every
    spreadsheet reads as a date; ``status_labels`` and ``yes_no`` translate the values.
    """
    tz = ZoneInfo(zone)
    labels = status_labels or {}
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=variant.delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(str(header)) for header in headers])
    for row in rows:
        cells = [
            row.name,
            row.email,
            str(row.guests),
            labels.get(row.status, row.status),
            "" if row.waitlist_position is None else str(row.waitlist_position),
            row.registered_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            yes_no[0] if row.opt_in else yes_no[1],
            *(answer_cell(answer, yes_no) for answer in row.answers),
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8")


def rows_of(
    registrations: Iterable[Any], ranks: Mapping[Any, int], questions: Sequence[Any] = ()
) -> list[AttendeeRow]:
    """Export rows from registrations; ``ranks`` maps a waiting registration's id to its rank
    (``RegistrationService.waitlist_ranks``); ``questions`` (each with an ``id``) are the
    extra answer columns, in order (events.services.questions.export_questions)."""
    return [
        AttendeeRow(
            name=registration.name,
            email="" if is_placeholder_email(registration.email) else registration.email,
            guests=registration.guests,
            status=str(getattr(registration.status, "value", registration.status)),
            waitlist_position=ranks.get(registration.id),
            registered_at=registration.created_at,
            opt_in=bool(registration.opt_in),
            answers=tuple((registration.answers or {}).get(q.id) for q in questions),
        )
        for registration in registrations
    ]


def export_filename(slug: str, variant: CsvVariant) -> str:
    """A file name safe in a Content-Disposition header on every system."""
    stem = re.sub(r"[^A-Za-z0-9-]+", "-", slug).strip("-")[:80] or "event"
    suffix = "-excel-fr" if variant is CsvVariant.EXCEL_FR else ""
    return f"attendees-{stem}{suffix}.csv"
