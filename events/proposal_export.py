"""A call's proposals as CSV for its organisers, safe to open in a spreadsheet.

The same format rules as the attendee list (events/export.py: UTF-8 with a byte-order
mark, standard or Excel-French separators, and every cell that a spreadsheet would run as
a formula neutralised), since proposals are typed by anyone. No addresses and no
supporters: proposers' names only as they agreed to be shown, supports as counts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from events.export import BOM, CsvVariant, neutralise


@dataclass(frozen=True)
class ProposalRow:
    number: int
    title: str
    kind: str
    status: str
    supports: int
    ready: bool
    duration_minutes: int | None
    language: str
    needs: str
    names: str
    published_at: datetime | None
    answer: str
    hidden: bool


def proposals_csv(
    rows: Iterable[ProposalRow],
    *,
    zone: str,
    headers: Sequence[str],
    variant: CsvVariant = CsvVariant.STANDARD,
    labels: Mapping[str, str] | None = None,
    yes_no: tuple[str, str] = ("yes", "no"),
) -> bytes:
    """The CSV file (bytes) of ``rows``; ``labels`` translates kinds and statuses."""
    tz = ZoneInfo(zone)
    names = labels or {}
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=variant.delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(str(header)) for header in headers])
    for row in rows:
        cells = [
            str(row.number),
            row.title,
            names.get(row.kind, row.kind),
            names.get(row.status, row.status),
            str(row.supports),
            yes_no[0] if row.ready else yes_no[1],
            "" if row.duration_minutes is None else str(row.duration_minutes),
            names.get(row.language, row.language),
            row.needs,
            row.names,
            row.published_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if row.published_at else "",
            row.answer,
            yes_no[0] if row.hidden else yes_no[1],
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8")


def export_filename(slug: str, variant: CsvVariant) -> str:
    stem = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in slug)[:80] or "call"
    suffix = "-excel-fr" if variant is CsvVariant.EXCEL_FR else ""
    return f"proposals-{stem}{suffix}.csv"
