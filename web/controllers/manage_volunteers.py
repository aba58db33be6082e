"""The organisers' volunteer page of one event (``/manage/{community}/events/{event}/volunteers``):
roles and their shifts, coverage (needed / signed up / confirmed), who is on each shift,
putting someone on a shift or taking them off, and copying the whole plan to the series'
next occurrences.

Every form is a plain POST answered by a 303 back to the page with a message; a refused
form comes back with its errors next to the fields (status 400 or 409). Editing a role or a
shift has a page of its own. Rules are the domain's (events/services/volunteers.py).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.errors import Conflict, DomainError, NotFound, ValidationFailed
from events.models import Event, Membership, RoleKind, Shift, VolunteerRole
from events.services.volunteers import RoleInput, ShiftInput, VolunteerService
from web.auth import Access, access
from web.forms import Form
from web.i18n import current_locale, ngettext
from web.i18n import gettext as _
from web.messages import error_message, field_errors, volunteer_role_name
from web.path_objects import MANAGED_EVENT, MEMBERSHIP
from web.rendering import flash, page

PAGE = "manage/volunteers.html"
ROLE_PAGE = "manage/volunteer_role.html"
SHIFT_PAGE = "manage/volunteer_shift.html"


class RoleForm(Form):
    kind: str = ""
    name_en: str = ""
    name_fr: str = ""
    description: str = ""
    door_lead_minutes: str = ""

    def to_input(self) -> RoleInput:
        return RoleInput(
            kind=self.kind,
            name_en=self.name_en,
            name_fr=self.name_fr,
            description=self.description,
            door_lead_minutes=self.door_lead_minutes,
        )


class ShiftForm(Form):
    role: str = ""
    starts_local: str = ""
    ends_local: str = ""
    needed: str = ""
    requires_arrival: str = ""

    def to_input(self) -> ShiftInput:
        return ShiftInput(
            starts_local=self.starts_local,
            ends_local=self.ends_local,
            needed=self.needed,
            requires_arrival=self.requires_arrival,
        )


class AssignForm(Form):
    shift: str = ""
    name: str = ""
    email: str = ""
    locale: str = ""


def kind_labels() -> dict[str, str]:
    return {
        RoleKind.WELCOME.value: _("Welcome desk"),
        RoleKind.DOOR.value: _("Door (gets a door link for the shift)"),
        RoleKind.SETUP.value: _("Set-up"),
        RoleKind.TIDYUP.value: _("Tidy-up"),
        RoleKind.CUSTOM.value: _("Another role (name it below)"),
    }


def local_input(moment: datetime, zone: str) -> str:
    """A UTC instant as the value of an ``<input type=datetime-local>`` in ``zone``."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def role_values(role: VolunteerRole) -> dict[str, str]:
    return {
        "kind": role.kind.value,
        "name_en": role.name_en,
        "name_fr": role.name_fr,
        "description": role.description,
        "door_lead_minutes": str(role.door_lead_minutes),
    }


def shift_values(shift: Shift, zone: str) -> dict[str, str]:
    return {
        "role": str(shift.role_id),
        "starts_local": local_input(shift.starts_at, zone),
        "ends_local": local_input(shift.ends_at, zone),
        "needed": str(shift.needed),
        "requires_arrival": "on" if shift.requires_arrival else "",
    }


def _errors(failure: DomainError) -> dict[str, str]:
    if isinstance(failure, ValidationFailed):
        return field_errors(failure.errors)
    return {"form": error_message(failure.code or "")}


def _status(failure: DomainError) -> int:
    return 400 if isinstance(failure, ValidationFailed) else 409


class ManageVolunteersController(Controller):
    path = "/manage/{community:str}/events/{event:str}/volunteers"
    include_in_schema = False
    dependencies = {**MEMBERSHIP, **MANAGED_EVENT}

    # -- rendering ------------------------------------------------------------------------
    @staticmethod
    def _here(membership: Membership, event: Event) -> str:
        return f"/manage/{membership.community.slug}/events/{event.slug}/volunteers"

    def _render(
        self,
        request: Request,
        session: Session,
        membership: Membership,
        event: Event,
        *,
        status_code: int = 200,
        form: str = "",
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> Template:
        """The page; ``form`` names the form ("role", "shift", "assign") that shows
        ``values`` and ``errors``."""
        service = VolunteerService(session)
        zone = event.timezone
        defaults = {
            "role": {"kind": RoleKind.WELCOME.value, "door_lead_minutes": "30"},
            "shift": {
                "starts_local": local_input(event.starts_at, zone),
                "ends_local": local_input(event.ends_at, zone),
                "needed": "2",
            },
            "assign": {"locale": current_locale.get()},
        }
        if form:
            defaults[form] = values or {}
        return page(
            request,
            PAGE,
            status_code=status_code,
            community=membership.community,
            event=event,
            roles=service.roles(event),
            signups=service.signups(event),
            kinds=kind_labels(),
            forms=defaults,
            errors={form: errors or {}} if form else {},
        )

    def _back(
        self, request: Request, membership: Membership, event: Event, message: str
    ) -> Redirect:
        flash(request, message)
        return Redirect(self._here(membership, event), status_code=303)

    # -- the page -------------------------------------------------------------------------
    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def index(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        return self._render(request, db_session, membership, managed_event)

    # -- roles ----------------------------------------------------------------------------
    @post("/roles", opt=access(Access.ORGANISER), sync_to_thread=True)
    def add_role(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        data: URLEncodedBody[RoleForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        try:
            role = VolunteerService(db_session).add_role(managed_event, data.to_input())
        except (ValidationFailed, Conflict) as failure:
            return self._render(
                request,
                db_session,
                membership,
                managed_event,
                status_code=_status(failure),
                form="role",
                values=asdict(data.to_input()),
                errors=_errors(failure),
            )
        message = _("Role “%(name)s” added: now add its shifts.", name=volunteer_role_name(role))
        return self._back(request, membership, managed_event, message)

    @get("/roles/{role_id:uuid}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def role_form(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        role_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        role = VolunteerService(db_session).role_in_event(managed_event, role_id)
        return self._role_page(request, membership, managed_event, role, role_values(role), {})

    def _role_page(
        self,
        request: Request,
        membership: Membership,
        event: Event,
        role: VolunteerRole,
        values: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            ROLE_PAGE,
            status_code=status_code,
            community=membership.community,
            event=event,
            role=role,
            kinds=kind_labels(),
            values=values,
            errors=errors,
        )

    @post("/roles/{role_id:uuid}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def save_role(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        role_id: FromPath[UUID],
        data: URLEncodedBody[RoleForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = VolunteerService(db_session)
        role = service.role_in_event(managed_event, role_id)
        try:
            service.update_role(role, data.to_input())
        except (ValidationFailed, Conflict) as failure:
            values = asdict(data.to_input())
            return self._role_page(
                request, membership, managed_event, role, values, _errors(failure), _status(failure)
            )
        return self._back(request, membership, managed_event, _("Role saved."))

    @post("/roles/{role_id:uuid}/remove", opt=access(Access.ORGANISER), sync_to_thread=True)
    def remove_role(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        role_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = VolunteerService(db_session)
        try:
            service.remove_role(service.role_in_event(managed_event, role_id))
        except NotFound:
            return self._back(request, membership, managed_event, _("This role no longer exists."))
        except Conflict as refused:
            flash(request, error_message(refused.code or ""), "error")
            return Redirect(self._here(membership, managed_event), status_code=303)
        return self._back(request, membership, managed_event, _("Role removed."))

    # -- shifts ---------------------------------------------------------------------------
    @post("/shifts", opt=access(Access.ORGANISER), sync_to_thread=True)
    def add_shift(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        data: URLEncodedBody[ShiftForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = VolunteerService(db_session)
        try:
            try:
                role = service.role_in_event(managed_event, data.role)
            except NotFound:
                raise ValidationFailed({"role": "invalid_choice"}) from None
            service.add_shift(role, data.to_input(), created_by=membership.user_id)
        except (ValidationFailed, Conflict) as failure:
            values = {"role": data.role, **asdict(data.to_input())}
            return self._render(
                request,
                db_session,
                membership,
                managed_event,
                status_code=_status(failure),
                form="shift",
                values={k: str(v) for k, v in values.items()},
                errors=_errors(failure),
            )
        return self._back(request, membership, managed_event, _("Shift added."))

    @get("/shifts/{shift_id:uuid}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def shift_form(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        shift_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        shift = VolunteerService(db_session).shift_in_event(managed_event, shift_id)
        values = shift_values(shift, managed_event.timezone)
        return self._shift_page(request, membership, managed_event, shift, values, {})

    def _shift_page(
        self,
        request: Request,
        membership: Membership,
        event: Event,
        shift: Shift,
        values: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            SHIFT_PAGE,
            status_code=status_code,
            community=membership.community,
            event=event,
            shift=shift,
            values=values,
            errors=errors,
        )

    @post("/shifts/{shift_id:uuid}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def save_shift(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        shift_id: FromPath[UUID],
        data: URLEncodedBody[ShiftForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = VolunteerService(db_session)
        shift = service.shift_in_event(managed_event, shift_id)
        try:
            service.update_shift(shift, data.to_input())
        except (ValidationFailed, Conflict) as failure:
            values = {k: str(v) for k, v in asdict(data.to_input()).items()}
            return self._shift_page(
                request,
                membership,
                managed_event,
                shift,
                values,
                _errors(failure),
                _status(failure),
            )
        return self._back(request, membership, managed_event, _("Shift saved."))

    @post("/shifts/{shift_id:uuid}/remove", opt=access(Access.ORGANISER), sync_to_thread=True)
    def remove_shift(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        shift_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = VolunteerService(db_session)
        try:
            service.remove_shift(service.shift_in_event(managed_event, shift_id))
        except NotFound:
            return self._back(request, membership, managed_event, _("This shift no longer exists."))
        except Conflict as refused:
            flash(request, error_message(refused.code or ""), "error")
            return Redirect(self._here(membership, managed_event), status_code=303)
        return self._back(request, membership, managed_event, _("Shift removed."))

    # -- people ---------------------------------------------------------------------------
    @post("/assign", opt=access(Access.ORGANISER), sync_to_thread=True)
    def assign(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        data: URLEncodedBody[AssignForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = VolunteerService(db_session)
        try:
            try:
                shift = service.shift_in_event(managed_event, data.shift)
            except NotFound:
                raise ValidationFailed({"shift": "invalid_choice"}) from None
            result = service.assign(
                shift,
                name=data.name,
                email=data.email,
                locale=data.locale,
                actor_id=membership.user_id,
            )
        except (ValidationFailed, Conflict) as failure:
            values = {"shift": data.shift, "name": data.name, "email": data.email}
            return self._render(
                request,
                db_session,
                membership,
                managed_event,
                status_code=_status(failure),
                form="assign",
                values={**values, "locale": data.locale},
                errors=_errors(failure),
            )
        message = _(
            "%(name)s is on the shift and gets an e-mail with their links.",
            name=result.signup.name,
        )
        return self._back(request, membership, managed_event, message)

    @post("/signups/{signup_id:uuid}/remove", opt=access(Access.ORGANISER), sync_to_thread=True)
    def remove_signup(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        signup_id: FromPath[UUID],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        service = VolunteerService(db_session)
        try:
            signup = service.signup_in_event(managed_event, signup_id)
            service.remove_signup(signup)
        except NotFound:
            return self._back(
                request, membership, managed_event, _("This person is no longer on it.")
            )
        except Conflict as refused:
            flash(request, error_message(refused.code or ""), "error")
            return Redirect(self._here(membership, managed_event), status_code=303)
        message = _("%(name)s is off the shift and was told so.", name=signup.name)
        return self._back(request, membership, managed_event, message)

    @post("/copy-to-series", opt=access(Access.ORGANISER), sync_to_thread=True)
    def copy_to_series(
        self,
        request: Request,
        managed_event: NamedDependency[Event],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Response[Any]:
        try:
            copied = VolunteerService(db_session).copy_to_series(
                managed_event, created_by=membership.user_id
            )
        except Conflict as refused:
            flash(request, error_message(refused.code or ""), "error")
            return Redirect(self._here(membership, managed_event), status_code=303)
        message = (
            ngettext(
                "The roles and shifts were copied to %(num)s next date.",
                "The roles and shifts were copied to %(num)s next dates.",
                copied,
            )
            if copied
            else _("Every next date of the series already has its own roles.")
        )
        return self._back(request, membership, managed_event, message)
