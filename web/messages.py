"""Human messages for the domain's machine-readable codes, in the request's language."""

from __future__ import annotations

from web.i18n import gettext as _


def error_message(code: str, **params: object) -> str:
    """The translated sentence for a validation or domain error code."""
    messages = {
        "required": _("This field is required."),
        "too_long": _("This is too long."),
        "invalid_characters": _("This contains characters that are not allowed."),
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
    }
    text = messages.get(code, _("This value is not valid."))
    return text % params if params and "%(" in text else text


def field_errors(errors: dict[str, str]) -> dict[str, str]:
    return {field: error_message(code) for field, code in errors.items()}


def role_label(role: object) -> str:
    """A member role as people say it (``Role`` or its value)."""
    value = getattr(role, "value", role)
    labels = {"owner": _("Owner"), "organiser": _("Organiser"), "door": _("Door volunteer")}
    return labels.get(str(value), str(value))
