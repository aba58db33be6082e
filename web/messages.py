"""Human messages for the domain's machine-readable codes, in the request's language."""

from __future__ import annotations

from typing import Any

from web.i18n import current_locale
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
        "password_too_common": _(
            "This password is too easy to guess: it is one of the most common ones, a "
            "repetition or a sequence, or made of your name or address. A short sentence "
            "is both safer and easier to remember."
        ),
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
        "event_not_published": _("This event is not published."),
        "event_has_registrations": _(
            "People have registered for this event: it cannot go back to draft. Cancel it "
            "instead, so that they are told."
        ),
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
        "door_link_not_live": _("This door link was revoked or has expired: create a new one."),
        "door_link_not_shown": _(
            "This door link cannot be shown again: revoke it and create a new one."
        ),
        "not_enough_places": _("There are not enough places left for that many guests."),
        "busy": _(
            "The server is busy with other uploads right now. Nothing was saved: "
            "please try again in a minute."
        ),
        "token_invalid": _("This API token is not valid."),
        "token_revoked": _("This API token was revoked."),
        "token_expired": _("This API token has expired."),
        "token_missing": _("Send an API token: Authorization: Bearer rt_..."),
        "insufficient_scope": _("This API token does not have the scope this needs."),
        "expiry_in_past": _("Choose a day from today on."),
        "invalid_cursor": _("This cursor is not valid: use next_cursor of the previous page."),
        "timezone_required": _("Give the time with its offset, like 2026-03-05T19:00:00+01:00."),
        "unknown_field": _("This field does not exist."),
        "private_address": _(
            "This address is on a private network: webhooks only go to public addresses."
        ),
        "below_confirmed": _(
            "More people already have a place: the capacity cannot be lower than that."
        ),
        # -- volunteers (events/services/volunteers.py) --
        "role_name_required": _("Give this role a name, in English or in French."),
        "too_many_roles": _("An event can have at most 30 roles."),
        "too_many_shifts": _("A role can have at most 50 shifts."),
        "shift_too_long": _("A shift cannot last more than 24 hours."),
        "shift_outside_event": _(
            "A shift must be within a day before the event's start and a day after its end."
        ),
        "below_signed_up": _(
            "More people are already on this shift: it cannot need fewer than that."
        ),
        "role_has_volunteers": _(
            "People are signed up for this role: take them off its shifts first."
        ),
        "shift_has_volunteers": _("People are on this shift: take them off it first."),
        "already_signed_up": _("This person is already on this shift."),
        "arrival_required": _(
            "This shift is for people who have already come to one of our events."
        ),
        "shift_full": _("This shift has all the people it needs."),
        "shift_gone": _("The organisers removed this shift meanwhile."),
        "shift_started": _("This shift has started: it can no longer change."),
        "shift_closed": _("Sign-up for this shift is closed."),
        "shift_over": _("This shift is over."),
        "not_in_series": _("This event is not part of a recurring series."),
        "no_roles": _("Add roles and shifts to this event first."),
        # -- feedback (events/services/feedback.py) --
        "not_checked_in": _(
            "Feedback is for the people who came: this ticket was not checked in at the door."
        ),
        "feedback_not_open": _("The feedback form opens once the event is over."),
        "feedback_closed": _("The feedback form for this event is closed."),
        "feedback_given": _("Your feedback was just saved from another window."),
        "feedback_started": _("People have already answered: the questions can no longer change."),
        # -- calls for proposals --
        "call_closed": _("This call is not open to proposals now."),
        "supports_closed": _("Supports are not open now for this call."),
        "proposal_not_supportable": _("This proposal cannot be supported any more."),
        "own_proposal": _("You cannot support your own proposal."),
        "not_eligible": _("You cannot support proposals of this community."),
        "not_eligible_ticket": _(
            "Only people with a ticket for one of this community's events can support here."
        ),
        "not_eligible_checked_in": _(
            "Only people who came to one of this community's events can support here."
        ),
        "budget_spent": _(
            "You have used all your supports in this call: take one back to support another."
        ),
        "too_many_proposals": _("You have made as many proposals as this call allows."),
        "proposal_answered": _(
            "The organisers have answered this proposal: it can no longer change."
        ),
        "proposal_not_withdrawable": _("This proposal can no longer be withdrawn."),
        "proposal_not_updatable": _("Updates can no longer be posted on this proposal."),
        "proposal_not_mergeable": _("This proposal cannot be merged."),
        "answer_not_allowed": _("This answer is not possible from the proposal's current status."),
        "confirmation_expired": _("This link has expired: please ask again."),
        "request_answered": _("This request was already answered."),
        "proposer_only": _("Only the proposer can do this."),
        "proposer_cannot_leave": _("The proposer cannot leave: withdraw the proposal instead."),
        "one_scope_only": _("Choose a series or an event, not both."),
        "ticket_unknown": _("We do not know this ticket in this community."),
        "merge_pending": _("A merge of these proposals is already waiting for an answer."),
        "same_proposal": _("Choose another proposal."),
        "not_accepted": _("Only an accepted proposal can become a session or an event."),
        "already_became": _("This proposal already became something."),
        "too_many_attempts": _("Too many attempts. Please wait a few minutes."),
        "proposal_gone": _("This proposal is no longer shown."),
        # Offers & needs (events/services/exchange_*.py).
        "invalid_phone": _("Enter a phone number with digits, like +33 6 12 34 56 78."),
        "invalid_postcode": _("Enter a postcode, like 75011."),
        "range_reversed": _("The second value must not be before the first."),
        "exchange_closed": _("Offers & needs are closed for this event."),
        "exchange_no_place": _(
            "Offers & needs are for the people who have a place or are on the waiting list."
        ),
        "too_many_listings": _("You already have 10 listings here: delete one first."),
        "too_many_categories": _("A board has at most 12 categories."),
        "own_listing": _("This is your own listing."),
        "already_in_contact": _(
            "You are already in touch with this person: see your conversations."
        ),
        "already_asked": _("You already wrote to this person about a listing."),
        "request_cap": _("You have sent as many requests as one person may for this event (15)."),
        "contact_answered": _("This request was already answered or withdrawn."),
        "suspended": _(
            "You can no longer write to anyone on this board: several people reported your "
            "messages. The organisers can lift this."
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
        "no_address": _("Your ticket has no e-mail address: we cannot send you anything."),
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


def volunteer_role_name(role: Any) -> str:
    """A volunteer role's name in the request's language (events/models/volunteers.py)."""
    return str(role.name_in(current_locale.get(), _))


def kind_label(kind: object) -> str:
    """A kind of proposal as people say it."""
    value = str(getattr(kind, "value", kind))
    labels = {
        "topic": _("Topic to discuss"),
        "talk": _("Talk"),
        "workshop": _("Workshop"),
        "meetup": _("A whole meetup"),
        "project": _("Project to present"),
    }
    return labels.get(value, value)


def proposal_status_label(status: object) -> str:
    value = str(getattr(status, "value", status))
    labels = {
        "submitted": _("Waiting for the address to be confirmed"),
        "published": _("Published"),
        "under_discussion": _("Under discussion"),
        "accepted": _("Accepted"),
        "declined": _("Declined"),
        "merged": _("Merged"),
        "withdrawn": _("Withdrawn"),
    }
    return labels.get(value, value)


def decline_reason_label(reason: str) -> str:
    labels = {
        "off_topic": _("Off the call's topic"),
        "duplicate": _("Already proposed"),
        "not_feasible": _("Not feasible for us"),
        "no_room": _("No room in the programme"),
        "not_enough_support": _("Not enough support"),
        "other": _("Another reason"),
    }
    return labels.get(reason, reason)


def report_reason_label(reason: str) -> str:
    labels = {
        "spam": _("Spam or advertising"),
        "offensive": _("Offensive or hateful"),
        "off_topic": _("Off topic"),
        "personal_data": _("Someone's personal data"),
        "other": _("Something else"),
    }
    return labels.get(reason, reason)


def need_label(need: str) -> str:
    labels = {"room": _("A room"), "projector": _("A projector"), "material": _("Material")}
    return labels.get(need, need)


def language_label(language: str) -> str:
    labels = {
        "fr": _("French"),
        "en": _("English"),
        "fr_en": _("French and English"),
        "other": _("Another language"),
    }
    return labels.get(language, language)


def supporters_label(supporters: str) -> str:
    labels = {
        "confirmed_email": _("Anyone with a confirmed e-mail address"),
        "ticket_holders": _("People with a ticket for one of the community's events"),
        "checked_in": _("People who came to one of the community's events"),
    }
    return labels.get(supporters, supporters)


def order_label(order: str) -> str:
    labels = {
        "random": _("A random order for each visitor"),
        "most_supported": _("Most supported first"),
        "newest": _("Newest first"),
    }
    return labels.get(order, order)


def trail_label(action: str, to_status: str) -> str:
    """One line of a proposal's public trail."""
    labels = {
        "published": _("Published"),
        "answered": proposal_status_label(to_status),
        "withdrawn": _("Withdrawn by its proposer"),
        "threshold_reached": _("Reached the organisers' threshold of supports"),
        "update_posted": _("The proposer posted an update"),
        "co_proposer_joined": _("Someone joined as co-proposer"),
        "co_proposer_left": _("A co-proposer left"),
        "merged": _("Merged into another proposal"),
        "absorbed": _("Another proposal was merged into this one"),
        "became": _("Became part of the programme"),
    }
    return labels.get(action, action)


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
