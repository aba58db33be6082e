"""Volunteers: roles and shifts of an event, and the people who staff them.

The organisers' use cases: ``add_role``, ``update_role``, ``remove_role``, ``add_shift``,
``update_shift``, ``remove_shift``, ``assign`` (put someone on a shift), ``remove_signup``
(take them off) and ``copy_to_series`` (the same roles and shifts for the series' next
occurrences). The volunteers' use cases: ``sign_up_with_ticket`` (from a registrant's
private page: the ticket is the identity, so the sign-up is confirmed at once),
``ask_by_mail`` (someone without a ticket typed a name and an address: the double opt-in
of events/services/identity.py mails the link) then ``sign_up_with_confirmed_address``
(called by events/services/confirmations.py once the link is clicked) and ``cancel``
(from the sign-up's private link, ``/v/{token}``). Each enforces every rule of its use
case and flushes; the caller's transaction commits.

Spots
-----
"How many people needed" is a capacity: a shift's ``taken`` counts its confirmed sign-ups
and is changed only by places.py's ``BoundedCounter`` (the shift row locked, then a
conditional update), so a shift never gets more people than it needs, whatever the number
of people signing up at once. Call these methods inside a writer session.

Rules
-----
- Sign-up and cancel while the shift is open (events/lifecycle.py: event published, shift
  not started); an organiser assigns or removes until the shift ends.
- One active sign-up per address and shift (``already_signed_up``; a unique index holds it
  under concurrency).
- A shift that ``requires_arrival`` (Engelsystem's arrival rule) takes only people checked
  in at least once at one of the community's events (``arrival_required``).
- A confirmed sign-up for a **door** role is granted a door link (events/services/door_links.py)
  valid from ``door_lead_minutes`` (30 by default) before the shift until its end, mailed
  with the confirmation; cancelling the sign-up revokes it, and moving the shift moves its
  window.

Before the address is proven, only what the page already shows is checked (the shift is
open and has a free spot): whether an address is already on the shift or was ever let in
at the door is told only to whoever proved it is theirs, never to someone typing it.

Mail: every confirmed sign-up, cancellation and removal queues its mail in the same
transaction (events/mail/volunteers.py), with the private link and the door link when they
were just issued (only their hashes are stored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from events.clock import utcnow
from events.content_version import mark_content_changed
from events.errors import Conflict, NotFound, ValidationFailed
from events.form_limits import FormLimit, require_within_limit
from events.lifecycle import require_shift_not_over, require_shift_open
from events.mail.i18n import format_when, mail_locale, translations
from events.mail.volunteers import VolunteerMail, queue_volunteer_mail
from events.models import (
    Community,
    DoorLink,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
    RoleKind,
    Shift,
    ShiftSignup,
    SignupStatus,
    VolunteerRole,
)
from events.recurrence import localise
from events.services import identity
from events.services.door_links import DoorLinkService
from events.services.places import SHIFT_SPOTS, release_spot
from events.tokens import hash_token, new_token
from events.validation import (
    NAME_MAX_LENGTH,
    FieldErrors,
    clean_email,
    clean_locale,
    clean_text,
    id_or_not_found,
    parse_int,
    parse_local_datetime,
)

ROLE_NAME_MAX_LENGTH = 80
DESCRIPTION_MAX_LENGTH = 2_000
MAX_NEEDED = 500
MAX_DOOR_LEAD_MINUTES = 240
DEFAULT_DOOR_LEAD_MINUTES = 30
MAX_ROLES = 30
MAX_SHIFTS_PER_ROLE = 50
#: Set-up may start a day before the event, tidy-up end a day after.
SHIFT_MARGIN = timedelta(hours=24)
MAX_SHIFT_LENGTH = timedelta(hours=24)
OPEN_SHIFTS_LIMIT = 200
_TRUE = frozenset({"on", "true", "1", "yes"})
#: The purpose of the double opt-in that signs someone up (events/services/confirmations.py).
PURPOSE = "volunteer"
#: Typed-address sign-ups mail a link: bounded per client and per address.
ASK_LIMIT = FormLimit(attempts=10, window=timedelta(hours=1))


# -- inputs -----------------------------------------------------------------------------
@dataclass
class RoleInput:
    """What an organiser submits for a role (form strings)."""

    kind: str = ""
    name_en: str = ""
    name_fr: str = ""
    description: str = ""
    door_lead_minutes: str | int = ""


@dataclass
class ShiftInput:
    """A shift in the event's local time (``<input type=datetime-local>`` values)."""

    starts_local: str = ""
    ends_local: str = ""
    needed: str | int = ""
    requires_arrival: str | bool = ""


@dataclass(frozen=True)
class SignupResult:
    signup: ShiftSignup
    #: The private link's token (``/v/{token}``), handed back once.
    token: str
    #: The door link's token for a door shift, handed back once (it is mailed).
    door_token: str | None = None


@dataclass(frozen=True)
class ShiftView:
    shift: Shift
    #: Active sign-ups (confirmed, and awaiting their address's confirmation).
    signed_up: int
    confirmed: int

    @property
    def free(self) -> int:
        return self.shift.free


@dataclass(frozen=True)
class RoleView:
    role: VolunteerRole
    shifts: list[ShiftView] = field(default_factory=list)

    @property
    def needed(self) -> int:
        return sum(view.shift.needed for view in self.shifts)

    @property
    def confirmed(self) -> int:
        return sum(view.confirmed for view in self.shifts)


@dataclass(frozen=True)
class OpenShift:
    """A shift someone can still sign up for, with its event (the community page)."""

    event: Event
    role: VolunteerRole
    shift: Shift


def _flag(value: str | bool | None) -> bool:
    if isinstance(value, bool):
        return value
    return (value or "").strip().lower() in _TRUE


class VolunteerService:
    """``lock=False`` is the TEST-ONLY negative control of the concurrency tests (see
    ``BoundedCounter``); never use it in the application."""

    def __init__(self, session: Session, *, lock: bool = True) -> None:
        self.session = session
        self.locking = lock

    # -- roles ---------------------------------------------------------------------------
    def _clean_role(self, data: RoleInput) -> dict[str, Any]:
        errors = FieldErrors()
        try:
            kind = RoleKind((data.kind or "").strip())
        except ValueError:
            kind = None
            errors.add("kind", "invalid_choice")
        name_en = errors.check(
            clean_text, "name_en", data.name_en, max_length=ROLE_NAME_MAX_LENGTH, required=False
        )
        name_fr = errors.check(
            clean_text, "name_fr", data.name_fr, max_length=ROLE_NAME_MAX_LENGTH, required=False
        )
        description = errors.check(
            clean_text,
            "description",
            data.description,
            max_length=DESCRIPTION_MAX_LENGTH,
            required=False,
            multiline=True,
        )
        lead = errors.check(
            parse_int,
            "door_lead_minutes",
            data.door_lead_minutes,
            minimum=0,
            maximum=MAX_DOOR_LEAD_MINUTES,
        )
        if kind is RoleKind.CUSTOM and not (name_en or name_fr) and "name_en" not in errors.errors:
            errors.add("name_en", "role_name_required")
        errors.raise_if_any()
        return {
            "kind": kind,
            "name_en": name_en or "",
            "name_fr": name_fr or "",
            "description": description or "",
            "door_lead_minutes": DEFAULT_DOOR_LEAD_MINUTES if lead is None else lead,
        }

    def add_role(self, event: Event, data: RoleInput) -> VolunteerRole:
        values = self._clean_role(data)
        count = self.session.scalar(
            select(func.count())
            .select_from(VolunteerRole)
            .where(VolunteerRole.event_id == event.id)
        )
        if (count or 0) >= MAX_ROLES:
            raise Conflict("too_many_roles")
        role = VolunteerRole(event_id=event.id, position=count or 0, **values)
        self.session.add(role)
        self.session.flush()
        return role

    def update_role(self, role: VolunteerRole, data: RoleInput) -> VolunteerRole:
        values = self._clean_role(data)
        lead_changed = values["door_lead_minutes"] != role.door_lead_minutes
        kind_changed = values["kind"] is not role.kind
        if kind_changed and self._active_signups(VolunteerRole.id == role.id):
            # A door role's volunteers hold door links; another kind's do not.
            raise Conflict("role_has_volunteers")
        for name, value in values.items():
            setattr(role, name, value)
        self.session.flush()
        if lead_changed and role.kind is RoleKind.DOOR:
            for shift in self._shifts_of(role):
                self._move_door_links(shift, role)
        return role

    def remove_role(self, role: VolunteerRole) -> None:
        """Refused (``role_has_volunteers``) while someone is signed up for one of its
        shifts: take them off first, so each of them is told."""
        if self._active_signups(VolunteerRole.id == role.id):
            raise Conflict("role_has_volunteers")
        self.session.delete(role)
        self.session.flush()

    # -- shifts --------------------------------------------------------------------------
    def _clean_shift(self, event: Event, data: ShiftInput) -> dict[str, Any]:
        errors = FieldErrors()
        starts_local = errors.check(parse_local_datetime, "starts_local", data.starts_local)
        ends_local = errors.check(parse_local_datetime, "ends_local", data.ends_local)
        needed = errors.check(
            parse_int, "needed", data.needed, minimum=1, maximum=MAX_NEEDED, required=True
        )
        starts_at = ends_at = None
        if starts_local and ends_local:
            starts_at, _ = localise(starts_local, event.timezone)
            ends_at, _ = localise(ends_local, event.timezone)
            if ends_at <= starts_at:
                errors.add("ends_local", "ends_before_start")
            elif ends_at - starts_at > MAX_SHIFT_LENGTH:
                errors.add("ends_local", "shift_too_long")
            elif (
                starts_at < event.starts_at - SHIFT_MARGIN or ends_at > event.ends_at + SHIFT_MARGIN
            ):
                errors.add("starts_local", "shift_outside_event")
        errors.raise_if_any()
        return {
            "starts_at": starts_at,
            "ends_at": ends_at,
            "needed": needed,
            "requires_arrival": _flag(data.requires_arrival),
        }

    def add_shift(self, role: VolunteerRole, data: ShiftInput, *, created_by: UUID) -> Shift:
        event = self._event(role.event_id)
        values = self._clean_shift(event, data)
        count = self.session.scalar(
            select(func.count()).select_from(Shift).where(Shift.role_id == role.id)
        )
        if (count or 0) >= MAX_SHIFTS_PER_ROLE:
            raise Conflict("too_many_shifts")
        shift = Shift(role_id=role.id, event_id=event.id, created_by=created_by, **values)
        self.session.add(shift)
        self.session.flush()
        return shift

    def update_shift(self, shift: Shift, data: ShiftInput) -> Shift:
        """Change times, people needed, the arrival rule. ``needed`` cannot go below the
        people already confirmed (``below_signed_up``); the door links follow the times."""
        event = self._event(shift.event_id)
        values = self._clean_shift(event, data)
        self._lock(shift)
        if values["needed"] < shift.taken:
            raise ValidationFailed({"needed": "below_signed_up"})
        moved = (values["starts_at"], values["ends_at"]) != (shift.starts_at, shift.ends_at)
        for name, value in values.items():
            setattr(shift, name, value)
        self.session.flush()
        if moved and shift.role.kind is RoleKind.DOOR:
            self._move_door_links(shift, shift.role)
        return shift

    def remove_shift(self, shift: Shift) -> None:
        if self._active_signups(Shift.id == shift.id):
            raise Conflict("shift_has_volunteers")
        self.session.delete(shift)
        self.session.flush()

    def copy_to_series(self, event: Event, *, created_by: UUID) -> int:
        """Give the series' upcoming occurrences that have no roles yet this event's roles
        and shifts, at the same times relative to their start (so "30 minutes before"
        stays 30 minutes before across a change of summer time). Returns how many
        occurrences got them; nobody is signed up on the copies."""
        if event.series_id is None:
            raise Conflict("not_in_series")
        roles = self._roles_with_shifts(event)
        if not roles:
            raise Conflict("no_roles")
        staffed = select(VolunteerRole.event_id).distinct()
        targets = self.session.scalars(
            select(Event).where(
                Event.series_id == event.series_id,
                Event.id != event.id,
                Event.starts_at > utcnow(),
                Event.status != EventStatus.CANCELLED,
                Event.id.not_in(staffed),
            )
        ).all()
        for target in targets:
            offset = target.starts_at - event.starts_at
            for role in roles:
                copy = VolunteerRole(
                    event_id=target.id,
                    kind=role.kind,
                    name_en=role.name_en,
                    name_fr=role.name_fr,
                    description=role.description,
                    position=role.position,
                    door_lead_minutes=role.door_lead_minutes,
                )
                copy.shifts = [
                    Shift(
                        event_id=target.id,
                        starts_at=shift.starts_at + offset,
                        ends_at=shift.ends_at + offset,
                        needed=shift.needed,
                        requires_arrival=shift.requires_arrival,
                        created_by=created_by,
                    )
                    for shift in role.shifts
                ]
                self.session.add(copy)
        self.session.flush()
        return len(targets)

    # -- signing up ----------------------------------------------------------------------
    def sign_up_with_ticket(self, shift: Shift, registration: Registration) -> SignupResult:
        """A registrant of the shift's event signs up from their private page: their
        ticket is their identity (their address was confirmed by the ticket's mail), so
        the sign-up is confirmed at once. ``NotFound`` for another event's registration;
        ``no_ticket`` unless it holds a confirmed place."""
        if registration.event_id != shift.event_id:
            raise NotFound()
        if registration.status is not RegistrationStatus.CONFIRMED:
            raise Conflict("no_ticket")
        event = self._event(shift.event_id)
        require_shift_open(shift, event, utcnow())
        return self._confirmed_signup(
            event,
            shift,
            name=registration.name,
            email=registration.email,
            locale=registration.locale,
            registration_id=registration.id,
        )

    def ask_by_mail(
        self,
        shift: Shift,
        *,
        name: str,
        email: str,
        locale: str,
        client: str = "",
        trap: str = "",
    ) -> None:
        """Someone without a ticket offers to take ``shift``: mail ``email`` the link that
        confirms the address and signs them up (``sign_up_with_confirmed_address``, called
        by events/services/confirmations.py). Refused at once only for what the public
        page shows (the shift started or is full); a filled honeypot ``trap`` does
        nothing, silently; ``RateLimited`` beyond ``ASK_LIMIT``."""
        errors = FieldErrors()
        clean_name = errors.check(clean_text, "name", name, max_length=NAME_MAX_LENGTH)
        clean_address = errors.check(clean_email, "email", email)
        errors.raise_if_any()
        if trap.strip():
            return
        event = self._event(shift.event_id)
        require_shift_open(shift, event, utcnow())
        if shift.free <= 0:
            raise Conflict("shift_full")
        require_within_limit(self.session, PURPOSE, ASK_LIMIT, client=client, person=clean_address)
        community = self.session.get(Community, event.community_id)
        if community is None:
            raise NotFound()
        locale = mail_locale(clean_locale(locale))
        identity.request_confirmation(
            self.session,
            community,
            clean_address,
            PURPOSE,
            {"shift_id": shift.id.hex, "name": clean_name, "locale": locale},
            locale=locale,
            context={
                "title": event.title,
                "role": shift.role.name_in(locale, translations(locale).gettext),
                "shift_when": format_when(shift.starts_at, shift.ends_at, event.timezone, locale),
            },
        )

    def sign_up_with_confirmed_address(
        self, shift: Shift, *, name: str, email: str, locale: str
    ) -> SignupResult:
        """Someone without a ticket signs up with an address proven by whoever calls this
        (the double opt-in of the identity module: the action is kept until the mailed
        link is clicked, then finished here). Every rule of a sign-up applies again at
        that moment (the shift may have filled or started meanwhile)."""
        errors = FieldErrors()
        clean_name = errors.check(clean_text, "name", name, max_length=NAME_MAX_LENGTH)
        clean_address = errors.check(clean_email, "email", email)
        errors.raise_if_any()
        event = self._event(shift.event_id)
        require_shift_open(shift, event, utcnow())
        return self._confirmed_signup(
            event, shift, name=clean_name, email=clean_address, locale=clean_locale(locale)
        )

    def assign(
        self, shift: Shift, *, name: str, email: str, locale: str, actor_id: UUID
    ) -> SignupResult:
        """An organiser puts someone on the shift (confirmed at once: the organiser vouches
        for the address); they are mailed their private link (and door link)."""
        errors = FieldErrors()
        clean_name = errors.check(clean_text, "name", name, max_length=NAME_MAX_LENGTH)
        clean_address = errors.check(clean_email, "email", email)
        errors.raise_if_any()
        event = self._event(shift.event_id)
        require_shift_not_over(shift, utcnow())
        return self._confirmed_signup(
            event,
            shift,
            name=clean_name,
            email=clean_address,
            locale=clean_locale(locale),
            assigned_by=actor_id,
        )

    def _confirmed_signup(
        self,
        event: Event,
        shift: Shift,
        *,
        name: str,
        email: str,
        locale: str,
        registration_id: UUID | None = None,
        assigned_by: UUID | None = None,
    ) -> SignupResult:
        email = email.strip().lower()
        self._lock(shift)  # serialises every sign-up of this shift from here on
        if self._signed_up(shift, email):
            raise Conflict("already_signed_up")
        if shift.requires_arrival and not has_arrived_before(self.session, event, email):
            raise Conflict("arrival_required")
        if not self._take_spot(shift):
            raise Conflict("shift_full")
        token = new_token()
        signup = ShiftSignup(
            shift_id=shift.id,
            event_id=event.id,
            name=name,
            email=email,
            status=SignupStatus.CONFIRMED,
            registration_id=registration_id,
            manage_token_hash=hash_token(token),
            locale=locale,
            assigned_by=assigned_by,
            confirmed_at=utcnow(),
        )
        self.session.add(signup)
        self.session.flush()
        door_token = self._grant_door_link(event, shift, signup)
        queue_volunteer_mail(
            self.session,
            event,
            signup,
            VolunteerMail.SIGNED_UP,
            token=token,
            door_token=door_token,
        )
        return SignupResult(signup=signup, token=token, door_token=door_token)

    # -- cancelling ----------------------------------------------------------------------
    def cancel(self, signup: ShiftSignup) -> None:
        """The volunteer cancels, from their private link, until the shift starts (a second
        cancel changes nothing). The spot is free again, the door link revoked."""
        if signup.status is SignupStatus.CANCELLED:
            return
        shift = signup.shift
        require_shift_open(shift, self._event(shift.event_id), utcnow())
        self._end(signup, VolunteerMail.CANCELLED)

    def remove_signup(self, signup: ShiftSignup) -> None:
        """An organiser takes someone off a shift (until it ends); they are told."""
        if signup.status is SignupStatus.CANCELLED:
            return
        require_shift_not_over(signup.shift, utcnow())
        self._end(signup, VolunteerMail.REMOVED)

    def _end(self, signup: ShiftSignup, mail: VolunteerMail) -> None:
        shift = signup.shift
        self._lock(shift)
        self.session.refresh(signup)
        if signup.status is SignupStatus.CANCELLED:
            return
        release_spot(self.session, signup)
        DoorLinkService(self.session).revoke_for_signup(signup.id)
        queue_volunteer_mail(self.session, self._event(shift.event_id), signup, mail)

    # -- reading -------------------------------------------------------------------------
    def by_manage_token(self, token: str | None) -> ShiftSignup:
        if not token or not isinstance(token, str) or len(token) > 200:
            raise NotFound()
        signup = self.session.scalar(
            select(ShiftSignup).where(ShiftSignup.manage_token_hash == hash_token(token))
        )
        if signup is None:
            raise NotFound()
        return signup

    def roles(self, event: Event) -> list[RoleView]:
        """The event's roles in order, each with its shifts and how they are staffed."""
        roles = self._roles_with_shifts(event)
        counts: dict[UUID, tuple[int, int]] = {
            shift_id: (int(active), int(confirmed))
            for shift_id, active, confirmed in self.session.execute(
                select(
                    ShiftSignup.shift_id,
                    func.count(),
                    func.count().filter(ShiftSignup.status == SignupStatus.CONFIRMED),
                )
                .where(
                    ShiftSignup.event_id == event.id,
                    ShiftSignup.status != SignupStatus.CANCELLED,
                )
                .group_by(ShiftSignup.shift_id)
            )
        }
        return [
            RoleView(
                role=role,
                shifts=[ShiftView(shift, *counts.get(shift.id, (0, 0))) for shift in role.shifts],
            )
            for role in roles
        ]

    def signups(self, event: Event) -> dict[UUID, list[ShiftSignup]]:
        """Everyone signed up (cancelled sign-ups left out), by shift: the organisers' list."""
        found: dict[UUID, list[ShiftSignup]] = {}
        for signup in self.session.scalars(
            select(ShiftSignup)
            .where(ShiftSignup.event_id == event.id, ShiftSignup.status != SignupStatus.CANCELLED)
            .order_by(ShiftSignup.created_at, ShiftSignup.id)
        ):
            found.setdefault(signup.shift_id, []).append(signup)
        return found

    def signups_of_registration(self, registration: Registration) -> list[ShiftSignup]:
        """The shifts a registrant signed up for with their ticket (their private page)."""
        return list(
            self.session.scalars(
                select(ShiftSignup)
                .where(
                    ShiftSignup.registration_id == registration.id,
                    ShiftSignup.status != SignupStatus.CANCELLED,
                )
                .order_by(ShiftSignup.created_at)
            )
        )

    def my_shifts(self, signup: ShiftSignup) -> list[ShiftSignup]:
        """Every active sign-up of the same address in the same community, by start time:
        what the volunteer's private page and ``.ics`` show."""
        event = self._event(signup.event_id)
        return list(
            self.session.scalars(
                select(ShiftSignup)
                .join(Shift, Shift.id == ShiftSignup.shift_id)
                .join(Event, Event.id == ShiftSignup.event_id)
                .where(
                    ShiftSignup.email == signup.email,
                    ShiftSignup.status != SignupStatus.CANCELLED,
                    Event.community_id == event.community_id,
                )
                .order_by(Shift.starts_at)
            )
        )

    def signup_of_registration(self, registration: Registration, signup_id: Any) -> ShiftSignup:
        """A sign-up made with this registration's ticket; ``NotFound`` for any other."""
        signup = self.session.get(ShiftSignup, id_or_not_found(signup_id))
        if signup is None or signup.registration_id != registration.id:
            raise NotFound()
        return signup

    def one_of_my_shifts(self, signup: ShiftSignup, other_id: Any) -> ShiftSignup:
        """One of ``my_shifts(signup)`` (the same person's), by id; ``NotFound`` otherwise."""
        wanted = id_or_not_found(other_id)
        for mine in self.my_shifts(signup):
            if mine.id == wanted:
                return mine
        raise NotFound()

    def open_shifts(self, community: Community, *, now: datetime | None = None) -> list[OpenShift]:
        """Shifts of the community's published events that have not started and still need
        people, soonest first (the public "help us" page)."""
        now = now or utcnow()
        rows = self.session.execute(
            select(Shift, Event)
            .join(Event, Event.id == Shift.event_id)
            .where(
                Event.community_id == community.id,
                Event.status == EventStatus.PUBLISHED,
                Shift.starts_at > now,
                Shift.taken < Shift.needed,
            )
            .order_by(Shift.starts_at, Shift.id)
            .limit(OPEN_SHIFTS_LIMIT)
        ).all()
        return [OpenShift(event=event, role=shift.role, shift=shift) for shift, event in rows]

    def shift_in_community(self, community: Community, shift_id: Any) -> OpenShift:
        """A shift of one of the community's published events, with its event and role
        (``NotFound`` for anything else: another community's, a draft's)."""
        shift = self.session.get(Shift, id_or_not_found(shift_id))
        event = self.session.get(Event, shift.event_id) if shift is not None else None
        if (
            shift is None
            or event is None
            or event.community_id != community.id
            or event.status is not EventStatus.PUBLISHED
        ):
            raise NotFound()
        return OpenShift(event=event, role=shift.role, shift=shift)

    def role_in_event(self, event: Event, role_id: Any) -> VolunteerRole:
        role = self.session.get(VolunteerRole, id_or_not_found(role_id))
        if role is None or role.event_id != event.id:
            raise NotFound()
        return role

    def shift_in_event(self, event: Event, shift_id: Any) -> Shift:
        shift = self.session.get(Shift, id_or_not_found(shift_id))
        if shift is None or shift.event_id != event.id:
            raise NotFound()
        return shift

    def signup_in_event(self, event: Event, signup_id: Any) -> ShiftSignup:
        signup = self.session.get(ShiftSignup, id_or_not_found(signup_id))
        if signup is None or signup.event_id != event.id:
            raise NotFound()
        return signup

    def door_links_by_signup(self, event: Event) -> dict[UUID, ShiftSignup]:
        """For the organiser's door page: the sign-up behind each shift's door link."""
        rows = self.session.execute(
            select(DoorLink.id, ShiftSignup)
            .join(ShiftSignup, ShiftSignup.id == DoorLink.shift_signup_id)
            .where(DoorLink.event_id == event.id)
        ).all()
        return {link_id: signup for link_id, signup in rows}

    # -- internals -----------------------------------------------------------------------
    def _event(self, event_id: UUID) -> Event:
        event = self.session.get(Event, event_id)
        if event is None:
            raise NotFound()
        return event

    def _lock(self, shift: Shift) -> None:
        """Lock the shift row and re-read its counter and bound under the lock."""
        row = SHIFT_SPOTS.lock(self.session, shift.id, locking=self.locking)
        for key, value in row.items():
            set_committed_value(shift, key, value)

    def _take_spot(self, shift: Shift) -> bool:
        taken = SHIFT_SPOTS.take(self.session, shift.id, 1, locking=self.locking)
        if taken is None:
            return False
        set_committed_value(shift, "taken", taken)
        mark_content_changed(self.session)  # the event page shows the spots left
        return True

    def _signed_up(self, shift: Shift, email: str) -> bool:
        return bool(
            self.session.scalar(
                select(
                    exists().where(
                        ShiftSignup.shift_id == shift.id,
                        ShiftSignup.email == email,
                        ShiftSignup.status != SignupStatus.CANCELLED,
                    )
                )
            )
        )

    def _active_signups(self, where: Any) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(ShiftSignup)
                .join(Shift, Shift.id == ShiftSignup.shift_id)
                .join(VolunteerRole, VolunteerRole.id == Shift.role_id)
                .where(where, ShiftSignup.status != SignupStatus.CANCELLED)
            )
            or 0
        )

    def _roles_with_shifts(self, event: Event) -> list[VolunteerRole]:
        return list(
            self.session.scalars(
                select(VolunteerRole)
                .where(VolunteerRole.event_id == event.id)
                .options(selectinload(VolunteerRole.shifts))
                .order_by(VolunteerRole.position, VolunteerRole.created_at)
            )
        )

    def _shifts_of(self, role: VolunteerRole) -> list[Shift]:
        return list(self.session.scalars(select(Shift).where(Shift.role_id == role.id)))

    def _grant_door_link(self, event: Event, shift: Shift, signup: ShiftSignup) -> str | None:
        role = shift.role
        if role.kind is not RoleKind.DOOR:
            return None
        _link, token = DoorLinkService(self.session).create(
            event,
            label=f"{signup.name}"[:80],
            created_by=shift.created_by,
            valid_from=shift.starts_at - timedelta(minutes=role.door_lead_minutes),
            expires_at=shift.ends_at,
            shift_signup_id=signup.id,
        )
        return token

    def _move_door_links(self, shift: Shift, role: VolunteerRole) -> None:
        """A door shift moved (or its role's lead time changed): its live links follow."""
        links = self.session.scalars(
            select(DoorLink)
            .join(ShiftSignup, ShiftSignup.id == DoorLink.shift_signup_id)
            .where(ShiftSignup.shift_id == shift.id, DoorLink.revoked_at.is_(None))
        )
        for link in links:
            link.valid_from = shift.starts_at - timedelta(minutes=role.door_lead_minutes)
            link.expires_at = shift.ends_at
        self.session.flush()


def has_arrived_before(session: Session, event: Event, email: str) -> bool:
    """Whether ``email`` was checked in at least once at one of the event's community's
    events (the arrival rule)."""
    return bool(
        session.scalar(
            select(
                exists()
                .where(
                    Registration.email == email.strip().lower(),
                    Registration.arrived > 0,
                    Registration.event_id == Event.id,
                )
                .where(Event.community_id == event.community_id)
            )
        )
    )
