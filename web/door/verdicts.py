"""What the door says: the sentence of each verdict, its tone (green, amber, red), the
status labels of the name search, and why a walk-in was refused. The domain answers with
codes (events/services/door.py); the words are chosen here, in the request's language."""

from __future__ import annotations

from typing import Any

from events.models import Event
from events.services.door import ScanResult, Verdict
from web.i18n import format_date, format_time, ngettext
from web.i18n import gettext as _
from web.messages import error_message

TONES = {
    Verdict.ADMITTED: "ok",
    Verdict.ALREADY_CHECKED_IN: "warn",
}


def tone_of(result: ScanResult) -> str:
    return TONES.get(result.verdict, "bad")


def verdict_message(result: ScanResult, event: Event, *, inspecting: bool = False) -> str:
    """The sentence the volunteer reads on the full-screen verdict."""
    name = result.name or ""
    verdict = result.verdict
    if verdict is Verdict.ADMITTED:
        if inspecting:
            return ngettext(
                "Valid ticket: %(name)s — party of %(num)s",
                "Valid ticket: %(name)s — party of %(num)s",
                result.party,
                name=name,
            )
        if result.arrived < result.party:
            return _(
                "Welcome, %(name)s — %(arrived)s of %(party)s in",
                name=name,
                arrived=result.arrived,
                party=result.party,
            )
        if result.party > 1:
            return _("Welcome, %(name)s — party of %(party)s", name=name, party=result.party)
        return _("Welcome, %(name)s", name=name)
    if verdict is Verdict.ALREADY_CHECKED_IN:
        if result.first_checked_in_at is None:
            return _("Already checked in")
        time = format_time(result.first_checked_in_at, event.timezone)
        if result.first_device:
            return _(
                "Already checked in at %(time)s (%(device)s)",
                time=time,
                device=result.first_device,
            )
        return _("Already checked in at %(time)s", time=time)
    if verdict is Verdict.CANCELLED:
        return _("Cancelled")
    if verdict is Verdict.WAITLISTED:
        return _("On the waiting list")
    if verdict is Verdict.PENDING:
        return _("Awaiting approval")
    if verdict is Verdict.OTHER_EVENT:
        if result.other_event_starts_at is not None:
            day = format_date(result.other_event_starts_at, result.other_event_timezone, "day")
            return _("Ticket for another date: %(date)s", date=day)
        return _("Ticket for another event")
    if verdict is Verdict.UNDONE:
        return _("Check-in undone: %(name)s", name=name)
    return _("Unknown ticket")


def verdict_detail(result: ScanResult) -> str:
    if result.verdict is Verdict.OTHER_EVENT and result.other_event_title:
        return result.other_event_title
    if result.verdict in {Verdict.CANCELLED, Verdict.WAITLISTED, Verdict.PENDING} and result.name:
        return result.name
    return ""


def result_json(result: ScanResult, event: Event, *, inspecting: bool = False) -> dict[str, Any]:
    """A verdict for the scanner's script: the domain's answer and its words."""
    body = result.as_json()
    body.pop("email", None)  # belt and braces: the domain never puts it there
    body["message"] = verdict_message(result, event, inspecting=inspecting)
    body["detail"] = verdict_detail(result)
    body["tone"] = "warn" if result.verdict is Verdict.UNDONE else tone_of(result)
    return body


def door_status_labels() -> dict[str, str]:
    return {
        "confirmed": _("Confirmed"),
        "admitted": _("Confirmed"),
        "checked_in": _("Checked in"),
        "already_checked_in": _("Checked in"),
        "waitlisted": _("On the waiting list"),
        "pending": _("Awaiting approval"),
        "pending_approval": _("Awaiting approval"),
        "pending_email": _("Awaiting e-mail confirmation"),
        "cancelled": _("Cancelled"),
        "declined": _("Declined"),
    }


def walk_in_refusal(code: str) -> str:
    """Why a walk-in was refused (``Conflict`` codes of ``DoorService.walk_in``)."""
    if code in {"event_full", "not_enough_free_places", "full"}:
        return _(
            "No place left for this party. The organiser can allow walk-ins beyond capacity "
            "on the door page."
        )
    return error_message(code)
