"""Human messages for the domain's machine-readable codes, in the request's language."""

from __future__ import annotations

from web.i18n import gettext as _


def error_message(code: str, **params: object) -> str:
    """The translated sentence for a validation or domain error code."""
    messages = {
        "required": _("This field is required."),
        "too_long": _("This is too long."),
        "invalid_characters": _("This contains characters that are not allowed."),
        "not_text": _("Send this as text."),
        "invalid_email": _("Enter a valid e-mail address, like name@example.org."),
        "email_taken": _("An account already uses this e-mail address. Log in instead?"),
        "password_too_short": _("Use at least 10 characters."),
        "invalid_choice": _("Choose one of the options offered."),
        "already_member": _("This person is already a member of the community."),
        "last_owner": _("A community needs at least one owner: make someone else owner first."),
        "invitation_unknown": _("This invitation link is not valid."),
        "invitation_used": _("This invitation has already been accepted."),
        "invitation_expired": _("This invitation has expired. Ask for a new one."),
        "invitation_other_email": _(
            "This invitation was sent to %(email)s. Log in with that address to accept it."
        ),
        "role_too_low": _("Your role in this community does not allow this."),
        "bad_credentials": _("The e-mail address or the password is wrong."),
        "signup_closed": _("Sign-up is closed on this site."),
        "invalid_datetime": _("Enter a date and time, like 2026-12-03 19:00."),
        "invalid_date": _("Enter a date, like 2026-12-03."),
        "invalid_time": _("Enter a time, like 19:30."),
        "invalid_number": _("Enter a whole number."),
        "out_of_range": _("This number is out of the allowed range."),
        "invalid_timezone": _("Choose a time zone from the list."),
        "timezone_unknown": _("Choose a time zone from the list."),
        "invalid_url": _("Enter a full web address starting with https://"),
        "invalid_color": _("Choose a colour like #1a7f5a."),
        "too_many": _("That is too many: remove some."),
        "duplicate_option": _("Each option must be different."),
        "too_many_questions": _("An event can ask at most 30 questions."),
        "ends_before_start": _("The end must be after the start."),
        "too_long_event": _("An event cannot last more than 14 days."),
        "event_cancelled": _("This event is cancelled: it cannot be published again."),
        "interval_invalid": _("Choose how often, between 1 and 12."),
        "frequency_unsupported": _("Choose weekly or monthly."),
        "weekday_missing": _("Choose a day of the week."),
        "weekday_invalid": _("Choose a day of the week."),
        "week_of_month_invalid": _("Choose first, second, third, fourth or last."),
        "month_day_invalid": _("Choose a day of the month between 1 and 31."),
        "monthly_field_on_weekly": _("Day-of-month settings only apply to monthly meetups."),
        "monthly_mode_ambiguous": _("Choose either a weekday of the month or a date."),
        "duration_invalid": _("Enter a duration in minutes."),
        "until_before_start": _("The end date must be after the first date."),
        "until_and_count": _("Give either an end date or a number of dates, not both."),
        "count_invalid": _("Enter a number of dates of at least 1."),
        "start_time_not_whole_minute": _("Enter a time in hours and minutes."),
        "invalid_coordinate": _("Enter a number in decimal degrees, like 48.8566."),
        "registration_closed": _("Registration is closed for this event."),
        "already_checked_in": _(
            "Someone of this party was already let in at the door: the registration can no "
            "longer change."
        ),
        "event_over": _("This event is over: its capacity and registrations stay as they were."),
        "event_full": _("This event is full."),
        "hold_expired": _("This link has expired: register again if places are left."),
        "registration_cancelled": _("This registration was cancelled."),
        "registration_not_pending": _("This registration is not waiting for a decision."),
        "no_ticket": _("This registration has no ticket: it is not confirmed."),
        "already_undone": _("This check-in was already undone."),
        "not_enough_places": _("There are not enough places left for that many guests."),
        "below_confirmed": _(
            "More people already have a place: the capacity cannot be lower than that."
        ),
        # -- the open-space board --
        "board_off": _("The open-space board is closed."),
        "posting_not_open": _("Posting topics has not opened yet. Come back a little later."),
        "topic_limit": _("You have posted as many topics as one person may here (%(limit)s)."),
        "own_topic": _("This is your own topic: mark the others."),
        "too_many_lines": _("Keep it to one or two lines."),
        "slot_frozen": _(
            "This slot is frozen: it starts soon, so its topics stay where they are. "
            "A facilitator can open it again."
        ),
        "slot_common": _(
            "This slot is common to everyone (a break or a plenary): no topic goes there."
        ),
        "cell_taken": _("Another topic is already in this cell."),
        "host_busy": _("This host already has a topic in this slot: one place at a time."),
        "topic_pinned": _("This topic is pinned: unpin it before moving it."),
        "topic_not_placed": _("Only a topic in a cell can be pinned."),
        "notes_not_open": _("Notes can be written once the session has begun."),
        "room_exists": _("The board already has a room with this name."),
        "slot_overlaps": _("This slot overlaps another one."),
    }
    text = messages.get(code, _("This value is not valid."))
    return text % params if params and "%(" in text else text


def field_errors(errors: dict[str, str]) -> dict[str, str]:
    return {field: error_message(code) for field, code in errors.items()}


def role_label(role: object) -> str:
    """A member role as people say it (``Role`` or its value)."""
    value = getattr(role, "value", role)
    labels = {
        "owner": _("Owner"),
        "organiser": _("Organiser"),
        "door": _("Door volunteer"),
        "facilitator": _("Facilitator"),
    }
    return labels.get(str(value), str(value))


def status_label(status: object) -> str:
    """An event status as shown to people."""
    value = str(getattr(status, "value", status))
    labels = {"draft": _("Draft"), "published": _("Published"), "cancelled": _("Cancelled")}
    return labels.get(value, value)


def topic_kind_label(kind: object) -> str:
    """An open-space topic's kind as shown to people."""
    value = str(getattr(kind, "value", kind))
    labels = {
        "discussion": _("Discussion"),
        "demo": _("Demo"),
        "workshop": _("Workshop"),
        "help_wanted": _("Help wanted"),
    }
    return labels.get(value, value)
