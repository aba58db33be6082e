"""Mails about a community's shared spaces (calls for proposals, follows, moderation),
as opposed to a registration's mails about one event (events/mail/notify.py).

Queued like every mail, in the caller's transaction and rendered later by the mail worker
(events/mail/prepare.py, which hands the rows whose ``render_spec`` has
``"family": "community"`` to :func:`render_community_mail`), so nothing is rendered while
the writer holds its lock and a rolled-back change mails nothing. The spec holds:

- ``kind``: the template pair ``templates/community/<kind>.txt`` / ``.html``;
- ``context``: what the mail says (titles, statuses, reasons: JSON values, as they were
  when the change happened);
- ``links``: site-relative paths, made absolute with ``BASE_URL`` when rendered;
- ``unsubscribe`` and ``one_click``: for mails to a follower, the follower's page (shown
  in the body: it lists and stops their follows) and the one-click unsubscribe address.
  The rendered row keeps the latter as ``unsubscribe_url``; the sender writes it as the
  ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers (RFC 8058).

Every value a person typed (titles, names, reasons) is escaped by the HTML templates'
autoescaping and written as plain text in the text part; subjects are made one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from events.mail.i18n import mail_locale, translations
from events.mail.notify import SUBJECT_MAX_LENGTH, enqueue, one_line
from events.mail.render import render
from events.mail.settings import MailSettings
from events.models import Community
from events.validation import is_placeholder_email

FAMILY = "community"


@dataclass(frozen=True)
class RenderedCommunityMail:
    subject: str
    text_body: str
    html_body: str
    unsubscribe_url: str | None


def queue_community_mail(
    session: Session,
    *,
    community: Community,
    kind: str,
    to_address: str,
    locale: str,
    context: dict[str, Any],
    links: dict[str, str] | None = None,
    unsubscribe: str | None = None,
    one_click: str | None = None,
    dedupe_key: str | None = None,
) -> UUID | None:
    """Queue a ``kind`` mail to ``to_address`` in ``locale``; see the module docstring.
    ``unsubscribe`` is the follower's page (shown in the body), ``one_click`` the address
    mail clients POST to (the headers). Returns its id (None for an undeliverable
    placeholder address)."""
    if is_placeholder_email(to_address):
        return None
    spec = {
        "family": FAMILY,
        "kind": kind,
        "locale": locale,
        "community": community.name,
        "context": context,
        "links": links or {},
        "unsubscribe": unsubscribe,
        "one_click": one_click,
    }
    return enqueue(
        session,
        kind=kind,
        to_address=to_address,
        subject="",
        text_body="",
        render_spec=spec,
        community_id=community.id,
        dedupe_key=dedupe_key,
    )


def is_community_mail(spec: dict[str, Any] | None) -> bool:
    return bool(spec) and spec.get("family") == FAMILY  # type: ignore[union-attr]


def render_community_mail(spec: dict[str, Any], settings: MailSettings) -> RenderedCommunityMail:
    """The subject and bodies of a queued community mail, in its recipient's language."""
    kind = spec["kind"]
    locale = mail_locale(spec.get("locale"))
    links = {name: settings.url(path) for name, path in (spec.get("links") or {}).items()}
    unsubscribe, one_click = spec.get("unsubscribe"), spec.get("one_click")
    context = {
        **(spec.get("context") or {}),
        "kind": kind,
        "locale": locale,
        "community": spec.get("community") or "",
        "links": links,
        "unsubscribe_url": settings.url(unsubscribe) if unsubscribe else "",
    }
    text, html = render(f"community/{kind}", locale, context)
    return RenderedCommunityMail(
        subject=subject(kind, locale, context),
        text_body=text,
        html_body=html,
        unsubscribe_url=settings.url(one_click) if one_click else None,
    )


def subject(kind: str, locale: str, context: dict[str, Any]) -> str:
    """The translated subject line of a ``kind`` mail."""
    _ = translations(locale).gettext
    title = one_line(str(context.get("title") or ""))
    purpose = context.get("purpose")
    confirmations = {
        "proposal": _("Confirm your proposal “%(title)s”"),
        "support": _("Confirm your support for “%(title)s”"),
        "follow": _("Confirm that you want to follow “%(title)s”"),
        "report": _("Confirm your report about “%(title)s”"),
        "co_proposal": _("Confirm your request to join “%(title)s”"),
        "volunteer": _("Confirm your volunteer shift at “%(title)s”"),
    }
    subjects = {
        "confirm_address": confirmations.get(str(purpose), _("Confirm your e-mail address")),
        "proposal_published": _("Your proposal is published: “%(title)s”"),
        "proposal_status": _("News of the proposal “%(title)s”"),
        "proposal_update": _("An update on “%(title)s”"),
        "proposal_became": _("“%(title)s” is on the programme"),
        "answers_published": _("Answers to the proposals of “%(title)s”"),
        "co_proposer_invited": _("You are invited to co-propose “%(title)s”"),
        "co_proposal_requested": _("Someone wants to join forces on “%(title)s”"),
        "co_proposal_answered": _("Your request to join “%(title)s” was answered"),
        "merge_requested": _("Merge two proposals? “%(title)s”"),
        "merged": _("Two proposals were merged: “%(title)s”"),
        "moderation": _("About your proposal “%(title)s”"),
        "topic_notes": _("Notes on “%(title)s”"),
    }
    line = subjects.get(kind, "%(title)s") % {"title": title}
    return one_line(line)[:SUBJECT_MAX_LENGTH]
