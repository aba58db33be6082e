"""What browsers send, as typed structures. Every field is a string (browsers send
strings; a checkbox sends "on"); services do the real validation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from litestar import Request


class Form(msgspec.Struct):
    """Base of every form: a NUL byte is refused up front (PostgreSQL rejects it in any
    string, and no human types one); the field-level rules live in the services."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, str) and "\x00" in value:
                raise ValueError(f"{name}: NUL characters are not allowed")


class LoginForm(Form):
    email: str = ""
    password: str = ""
    next: str = ""


class SignupForm(Form):
    email: str = ""
    display_name: str = ""
    password: str = ""
    next: str = ""


class CommunityForm(Form):
    name: str = ""
    description: str = ""


class InvitationForm(Form):
    email: str = ""
    role: str = "door"


class RoleForm(Form):
    role: str = ""


def safe_next(target: str | None, default: str = "/manage") -> str:
    """Only same-site relative paths, so ?next= cannot send anyone to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def form_list(name: str) -> Callable[[Request], Awaitable[list[str]]]:
    """A dependency giving every value of the form field ``name`` (ticked checkboxes of
    one group each send it once), or [] when none was sent."""

    async def values(request: Request) -> list[str]:
        return [str(value) for value in (await request.form()).getall(name, [])]

    return values
